// Convolution: the device-independent entry points.
#include "ops/conv.h"

#include "ops/op_call.h"

namespace kcore {

Tensor conv_forward(const Tensor& x, const Tensor& kernel, const OptionalTensor& bias, const ConvArgs& args) {
  OpCall call("conv_forward", x, kernel, bias);
  return KCORE_KERNEL(call, conv_forward)(x, kernel, bias, args);
}

ConvGrads conv_backward(const Tensor& x, const Tensor& kernel, const Tensor& grad, const ConvArgs& args, bool need_x,
                        bool need_kernel, bool need_bias) {
  OpCall call("conv_backward", x, kernel, grad);
  auto [gx, gw, gb] = KCORE_KERNEL(call, conv_backward)(x, kernel, grad, args, need_x, need_kernel, need_bias);
  return {gx, gw, gb};
}

Tensor conv_transpose(const Tensor& x, const Tensor& kernel, const OptionalTensor& bias, const Shape& out_spatial,
                      const ConvArgs& args) {
  OpCall call("conv_transpose", x, kernel, bias);
  return KCORE_KERNEL(call, conv_transpose)(x, kernel, bias, out_spatial, args);
}

ConvGrads conv_transpose_backward(const Tensor& x, const Tensor& kernel, const Tensor& grad, const ConvArgs& args,
                                  bool need_x, bool need_kernel, bool need_bias) {
  OpCall call("conv_transpose_backward", x, kernel, grad);
  auto [gx, gw, gb] =
      KCORE_KERNEL(call, conv_transpose_backward)(x, kernel, grad, args, need_x, need_kernel, need_bias);
  return {gx, gw, gb};
}

}  // namespace kcore
