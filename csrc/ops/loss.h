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

// Device kernels, routed whole (ops/loss.cpp routes).
#define KCORE_LOSS_KERNELS(X)                                                                              \
  X(Tensor, softmax_cross_entropy, (const Tensor& logits, const Tensor& targets))                          \
  X(Tensor, softmax_cross_entropy_backward, (const Tensor& logits, const Tensor& targets, const Tensor& grad)) \
  X(Tensor, sparse_softmax_cross_entropy, (const Tensor& logits, const Tensor& labels))                    \
  X(Tensor, sparse_softmax_cross_entropy_backward, (const Tensor& logits, const Tensor& labels, const Tensor& grad)) \
  X(Tensor, sigmoid_cross_entropy, (const Tensor& logits, const Tensor& targets))                          \
  X(Tensor, sigmoid_cross_entropy_backward, (const Tensor& logits, const Tensor& targets, const Tensor& grad)) \
  X(Tensor, mean_error, (ErrorKind kind, const Tensor& pred, const Tensor& target))                        \
  X(Tensor, mean_error_backward, (ErrorKind kind, const Tensor& pred, const Tensor& target, const Tensor& grad))
KCORE_DECLARE_KERNELS(KCORE_LOSS_KERNELS)

}  // namespace kcore
