// Fused optimizer updates, in place on the variable and its slots (Keras 3 update rules).
#pragma once
#include "core/tensor.h"

namespace kcore {

// momentum == 0: w -= lr g.  Else m = momentum m - lr g; w += m (or w += momentum m - lr g, nesterov).
void sgd_update(Tensor& w, const Tensor& g, Tensor& m, double lr, double momentum, bool nesterov);
// Keras's Adam: alpha = lr sqrt(1 - b2^t) / (1 - b1^t); w -= alpha m / (sqrt(v) + eps).
// `vhat` defined means amsgrad.
void adam_update(Tensor& w, const Tensor& g, Tensor& m, Tensor& v, Tensor& vhat, double lr, double beta1,
                 double beta2, double eps, int64_t step);

}  // namespace kcore
