// Batch and layer normalisation, forward and backward.
#pragma once
#include <tuple>

#include "core/tensor.h"

namespace kcore {

// x viewed as (outer, C, inner) around `axis`; statistics per channel over outer and inner.
// Training: returns (y, batch mean, biased batch variance).
std::tuple<Tensor, Tensor, Tensor> batch_norm_train(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                                                    int64_t axis, double eps);
Tensor batch_norm_infer(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& mean,
                        const Tensor& var, int64_t axis, double eps);
// (dx, dgamma, dbeta). `training` selects whether mean/var depended on x (batch statistics).
std::tuple<Tensor, Tensor, Tensor> batch_norm_backward(const Tensor& x, const Tensor& gamma, const Tensor& mean,
                                                       const Tensor& var, const Tensor& grad, int64_t axis,
                                                       double eps, bool training);

// Normalises over the trailing `norm_size` elements of every row; gamma/beta have that many.
// Returns (y, mean, inv_std) with one statistic per row.
std::tuple<Tensor, Tensor, Tensor> layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                                              int64_t norm_size, double eps);
std::tuple<Tensor, Tensor, Tensor> layer_norm_backward(const Tensor& x, const Tensor& gamma, const Tensor& mean,
                                                       const Tensor& inv_std, const Tensor& grad, int64_t norm_size);

}  // namespace kcore
