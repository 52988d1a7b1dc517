// Matrix products: the device-independent entry points.
#include "ops/linalg.h"

#include "ops/op_call.h"

namespace kcore {

Tensor matmul(const Tensor& a, const Tensor& b) {
  OpCall call("matmul", a, b);
  return KCORE_KERNEL(call, matmul)(a, b);
}

std::pair<Tensor, Tensor> matmul_backward(const Tensor& a, const Tensor& b, const Tensor& grad, bool need_a,
                                          bool need_b) {
  OpCall call("matmul_backward", a, b, grad);
  return KCORE_KERNEL(call, matmul_backward)(a, b, grad, need_a, need_b);
}

Tensor linear(const Tensor& x, const Tensor& w, const OptionalTensor& bias) {
  OpCall call("linear", x, w, bias);
  return KCORE_KERNEL(call, linear)(x, w, bias);
}

std::tuple<Tensor, Tensor, Tensor> linear_backward(const Tensor& x, const Tensor& w, const Tensor& grad, bool need_x,
                                                   bool need_bias) {
  OpCall call("linear_backward", x, w, grad);
  return KCORE_KERNEL(call, linear_backward)(x, w, grad, need_x, need_bias);
}

Tensor sum_rows(const Tensor& x2d) {
  OpCall call("sum_rows", x2d);
  return KCORE_KERNEL(call, sum_rows)(x2d);
}

}  // namespace kcore
