// Reductions and softmax: the device-independent entry points.
#include "ops/reduce.h"

#include "ops/op_call.h"

namespace kcore {

Tensor reduce(ReduceOp op, const Tensor& x, std::vector<int64_t> axes, bool keepdims) {
  OpCall call("reduce", x);
  return KCORE_KERNEL(call, reduce)(op, x, std::move(axes), keepdims);
}

Tensor reduce_backward(ReduceOp op, const Tensor& x, const Tensor& y, const Tensor& grad, std::vector<int64_t> axes,
                       bool keepdims) {
  OpCall call("reduce_backward", x, y, grad);
  return KCORE_KERNEL(call, reduce_backward)(op, x, y, grad, std::move(axes), keepdims);
}

Tensor argmax(const Tensor& x, int64_t axis, bool keepdims) {
  OpCall call("argmax", x);
  return KCORE_KERNEL(call, argmax)(x, axis, keepdims);
}

Tensor softmax(const Tensor& x, int64_t axis, bool log) {
  OpCall call("softmax", x);
  return KCORE_KERNEL(call, softmax)(x, axis, log);
}

Tensor softmax_backward(const Tensor& y, const Tensor& grad, int64_t axis, bool log) {
  OpCall call("softmax_backward", y, grad);
  return KCORE_KERNEL(call, softmax_backward)(y, grad, axis, log);
}

}  // namespace kcore
