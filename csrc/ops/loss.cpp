// Fused losses: the device-independent entry points.
#include "ops/loss.h"

#include "ops/op_call.h"

namespace kcore {

Tensor softmax_cross_entropy(const Tensor& logits, const Tensor& targets) {
  OpCall call("softmax_cross_entropy", logits, targets);
  return KCORE_KERNEL(call, softmax_cross_entropy)(logits, targets);
}

Tensor softmax_cross_entropy_backward(const Tensor& logits, const Tensor& targets, const Tensor& grad) {
  OpCall call("softmax_cross_entropy_backward", logits, targets, grad);
  return KCORE_KERNEL(call, softmax_cross_entropy_backward)(logits, targets, grad);
}

Tensor sparse_softmax_cross_entropy(const Tensor& logits, const Tensor& labels) {
  OpCall call("sparse_softmax_cross_entropy", logits, labels);
  return KCORE_KERNEL(call, sparse_softmax_cross_entropy)(logits, labels);
}

Tensor sparse_softmax_cross_entropy_backward(const Tensor& logits, const Tensor& labels, const Tensor& grad) {
  OpCall call("sparse_softmax_cross_entropy_backward", logits, labels, grad);
  return KCORE_KERNEL(call, sparse_softmax_cross_entropy_backward)(logits, labels, grad);
}

Tensor sigmoid_cross_entropy(const Tensor& logits, const Tensor& targets) {
  OpCall call("sigmoid_cross_entropy", logits, targets);
  return KCORE_KERNEL(call, sigmoid_cross_entropy)(logits, targets);
}

Tensor sigmoid_cross_entropy_backward(const Tensor& logits, const Tensor& targets, const Tensor& grad) {
  OpCall call("sigmoid_cross_entropy_backward", logits, targets, grad);
  return KCORE_KERNEL(call, sigmoid_cross_entropy_backward)(logits, targets, grad);
}

Tensor mean_error(ErrorKind kind, const Tensor& pred, const Tensor& target) {
  OpCall call("mean_error", pred, target);
  return KCORE_KERNEL(call, mean_error)(kind, pred, target);
}

Tensor mean_error_backward(ErrorKind kind, const Tensor& pred, const Tensor& target, const Tensor& grad) {
  OpCall call("mean_error_backward", pred, target, grad);
  return KCORE_KERNEL(call, mean_error_backward)(kind, pred, target, grad);
}

}  // namespace kcore
