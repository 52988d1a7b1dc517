// Fused optimizer updates, in place on the variable and its slots (Keras 3 update rules).
#pragma once
#include "core/tensor.h"
#include "ops/kernel_decl.h"

namespace kcore {

// momentum == 0: w -= lr g.  Else m = momentum m - lr g; w += m (or w += momentum m - lr g, nesterov).
void sgd_update(Tensor& w, const Tensor& g, const OptionalTensor& m, double lr, double momentum, bool nesterov);
// Keras's Adam: alpha = lr sqrt(1 - b2^t) / (1 - b1^t); w -= alpha m / (sqrt(v) + eps).
// `vhat` defined means amsgrad.
void adam_update(Tensor& w, const Tensor& g, Tensor& m, Tensor& v, const OptionalTensor& vhat, double lr, double beta1,
                 double beta2, double eps, int64_t step);

// v = rho v + (1 - rho) g^2 (centered: a = rho a + (1 - rho) g, denominator v - a^2);
// step = lr g / sqrt(denominator + eps); w -= step, or with momentum: mom = mu mom + step; w -= mom.
// `avg` / `mom` undefined when not centered / no momentum.
void rmsprop_update(Tensor& w, const Tensor& g, Tensor& v, const OptionalTensor& avg, const OptionalTensor& mom,
                    double lr, double rho, double momentum, double eps);
// acc += g^2; w -= lr g / sqrt(acc + eps).
void adagrad_update(Tensor& w, const Tensor& g, Tensor& acc, double lr, double eps);
// Eg = rho Eg + (1 - rho) g^2; d = -sqrt(Edx + eps) / sqrt(Eg + eps) g; Edx = rho Edx + (1 - rho) d^2; w += lr d.
void adadelta_update(Tensor& w, const Tensor& g, Tensor& eg, Tensor& edx, double lr, double rho, double eps);
// Adam moments, then w -= lr (c_m m + c_g g) / (sqrt(v / bias2) + eps): Nadam's Nesterov-corrected step.
void nadam_update(Tensor& w, const Tensor& g, Tensor& m, Tensor& v, double lr, double beta1, double beta2, double eps,
                  double c_m, double c_g, double bias2);
// m as Adam; u = max(beta2 u, |g|); w -= lr m / ((1 - beta1^t)(u + eps)).
void adamax_update(Tensor& w, const Tensor& g, Tensor& m, Tensor& u, double lr, double beta1, double beta2, double eps,
                   int64_t step);

// Device kernels, same arguments as the ops (ops/optim.cpp has checked the variable, the gradient,
// now packed, and every slot: float, same dtype and shape as w, contiguous; optional slots may be
// undefined; never called for an empty variable).
// clang-format off
#define KCORE_OPTIM_KERNELS(X)                                                                             \
  X(void, sgd_update, (Tensor& w, const Tensor& g, Tensor& m, double lr, double momentum, bool nesterov))   \
  X(void, adam_update,                                                                                     \
    (Tensor& w, const Tensor& g, Tensor& m, Tensor& v, Tensor& vhat, double lr, double beta1, double beta2, \
     double eps, int64_t step))                                                                            \
  X(void, rmsprop_update,                                                                                  \
    (Tensor& w, const Tensor& g, Tensor& v, Tensor& avg, Tensor& mom, double lr, double rho, double momentum, \
     double eps))                                                                                          \
  X(void, adagrad_update, (Tensor& w, const Tensor& g, Tensor& acc, double lr, double eps))                \
  X(void, adadelta_update, (Tensor& w, const Tensor& g, Tensor& eg, Tensor& edx, double lr, double rho, double eps)) \
  X(void, nadam_update,                                                                                    \
    (Tensor& w, const Tensor& g, Tensor& m, Tensor& v, double lr, double beta1, double beta2, double eps,   \
     double c_m, double c_g, double bias2))                                                                \
  X(void, adamax_update,                                                                                   \
    (Tensor& w, const Tensor& g, Tensor& m, Tensor& u, double lr, double beta1, double beta2, double eps,   \
     int64_t step))
// clang-format on
KCORE_DECLARE_KERNELS(KCORE_OPTIM_KERNELS)

}  // namespace kcore
