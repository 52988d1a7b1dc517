// Fused losses: per-sample values (reduced over the class / last axis) and their gradients
// with respect to the prediction, scaled by the incoming per-sample gradient.
#pragma once
#include "core/tensor.h"
#include "ops/kernel_decl.h"

namespace kcore {

// logits, targets: (..., C) -> (...)
Tensor softmax_cross_entropy(const Tensor& logits, const Tensor& targets);
Tensor softmax_cross_entropy_backward(const Tensor& logits, const Tensor& targets, const Tensor& grad);
// logits (..., C), labels (...) int32/int64 -> (...)
Tensor sparse_softmax_cross_entropy(const Tensor& logits, const Tensor& labels);
Tensor sparse_softmax_cross_entropy_backward(const Tensor& logits, const Tensor& labels, const Tensor& grad);
// Elementwise, numerically stable: max(x, 0) - x * y + log(1 + exp(-|x|)).
Tensor sigmoid_cross_entropy(const Tensor& logits, const Tensor& targets);
Tensor sigmoid_cross_entropy_backward(const Tensor& logits, const Tensor& targets, const Tensor& grad);

enum class ErrorKind : int { squared = 0, absolute = 1 };
// mean over the last axis of (p - y)^2 or |p - y|: (..., C) -> (...)
Tensor mean_error(ErrorKind kind, const Tensor& pred, const Tensor& target);
Tensor mean_error_backward(ErrorKind kind, const Tensor& pred, const Tensor& target, const Tensor& grad);

// Device kernels (ops/loss.cpp validates and allocates; every tensor contiguous; never called
// with an empty output). Row losses see their inputs as (rows, classes); the sparse ones check
// that every label is in range (data-dependent: the kernel's job) and raise ValueError otherwise.
// clang-format off
#define KCORE_LOSS_KERNELS(X)                                                                              \
  X(void, softmax_cross_entropy,                                                                           \
    (const Tensor& logits, const Tensor& targets, int64_t rows, int64_t classes, Tensor& out))             \
  X(void, softmax_cross_entropy_backward,                                                                  \
    (const Tensor& logits, const Tensor& targets, const Tensor& grad, int64_t rows, int64_t classes, Tensor& out)) \
  X(void, sparse_softmax_cross_entropy,                                                                    \
    (const Tensor& logits, const Tensor& labels, int64_t rows, int64_t classes, Tensor& out))              \
  X(void, sparse_softmax_cross_entropy_backward,                                                           \
    (const Tensor& logits, const Tensor& labels, const Tensor& grad, int64_t rows, int64_t classes, Tensor& out)) \
  X(void, sigmoid_cross_entropy, (const Tensor& logits, const Tensor& targets, Tensor& out))               \
  X(void, sigmoid_cross_entropy_backward, (const Tensor& logits, const Tensor& targets, const Tensor& grad, Tensor& out)) \
  X(void, mean_error,                                                                                      \
    (ErrorKind kind, const Tensor& pred, const Tensor& target, int64_t rows, int64_t classes, Tensor& out)) \
  X(void, mean_error_backward,                                                                             \
    (ErrorKind kind, const Tensor& pred, const Tensor& target, const Tensor& grad, int64_t rows, int64_t classes, \
     Tensor& out))
// clang-format on
KCORE_DECLARE_KERNELS(KCORE_LOSS_KERNELS)

}  // namespace kcore
