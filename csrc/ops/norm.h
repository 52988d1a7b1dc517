// Batch and layer normalisation, forward and backward.
#pragma once
#include <tuple>

#include "core/tensor.h"
#include "ops/kernel_decl.h"
#include "ops/arguments.h"

namespace kcore {

// x viewed as (outer, C, inner) around `axis`; statistics per channel over outer and inner.
// Training: returns (y, batch mean, biased batch variance).
std::tuple<Tensor, Tensor, Tensor> batch_norm_train(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                                                    int64_t axis, double eps);
Tensor batch_norm_infer(const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& mean, const Tensor& var,
                        int64_t axis, double eps);
// (dx, dgamma, dbeta). `training` selects whether mean/var depended on x (batch statistics).
std::tuple<Tensor, Tensor, Tensor> batch_norm_backward(const Tensor& x, const Tensor& gamma, const Tensor& mean,
                                                       const Tensor& var, const Tensor& grad, int64_t axis, double eps,
                                                       bool training);

// Normalises over the trailing `norm_size` elements of every row; gamma/beta have that many.
// Returns (y, mean, inv_std) with one statistic per row.
std::tuple<Tensor, Tensor, Tensor> layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta,
                                              int64_t norm_size, double eps);
std::tuple<Tensor, Tensor, Tensor> layer_norm_backward(const Tensor& x, const Tensor& gamma, const Tensor& mean,
                                                       const Tensor& inv_std, const Tensor& grad, int64_t norm_size);

// Device kernels (ops/norm.cpp validates, allocates and calls them). Inputs contiguous; never
// called with empty outputs except batch_norm_backward over an empty batch (sums are zero).
// clang-format off
#define KCORE_NORM_KERNELS(X)                                                                              \
  X(void, batch_norm_train,                                                                                \
    (const arguments::ChannelGeometry& g, const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps, \
     Tensor& y, Tensor& mean, Tensor& var))                                                                \
  X(void, batch_norm_infer,                                                                                \
    (const arguments::ChannelGeometry& g, const Tensor& x, const Tensor& gamma, const Tensor& beta,          \
     const Tensor& mean, const Tensor& var, double eps, Tensor& y))                                        \
  X(void, batch_norm_backward,                                                                             \
    (const arguments::ChannelGeometry& g, const Tensor& x, const Tensor& gamma, const Tensor& mean,          \
     const Tensor& var, const Tensor& dy, double eps, bool training, Tensor& dx, Tensor& dgamma, Tensor& dbeta)) \
  X(void, layer_norm,                                                                                      \
    (int64_t rows, int64_t d, const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps, Tensor& y, \
     Tensor& mean, Tensor& inv_std))                                                                       \
  X(void, layer_norm_backward,                                                                             \
    (int64_t rows, int64_t d, const Tensor& x, const Tensor& gamma, const Tensor& mean, const Tensor& inv_std, \
     const Tensor& dy, Tensor& dx, Tensor& dgamma, Tensor& dbeta))
// clang-format on
KCORE_DECLARE_KERNELS(KCORE_NORM_KERNELS)

}  // namespace kcore
