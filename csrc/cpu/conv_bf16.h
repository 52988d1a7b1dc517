// Internal to the conv kernels: bfloat16 convolution as im2col + the bfloat16 GEMM
// (cpu/gemm_bf16.h), float32 accumulation, outputs and gradients rounded to bfloat16 once.
// cpu::conv_forward / conv_backward hand their bfloat16 operands here. Convs float32 Winograd
// F(4x4, 3x3) takes (fewer multiplies) run it on the bfloat16 tensors, conversions fused into its
// transforms; the other convs this path does not take (grouped, depthwise, empty, the other Winograd
// variants) compute in float32 and round the results.
#pragma once
#include <tuple>

#include "core/tensor.h"
#include "ops/conv.h"

namespace kcore::conv_detail {

Tensor bf16_forward(const Tensor& x, const Tensor& w, const Tensor& bias, const ConvArgs& args);

std::tuple<Tensor, Tensor, Tensor> bf16_backward(const Tensor& x, const Tensor& w, const Tensor& dy,
                                                 const ConvArgs& args, bool need_x, bool need_kernel, bool need_bias);

}  // namespace kcore::conv_detail
