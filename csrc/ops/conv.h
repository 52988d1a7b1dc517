// N-d convolution (1, 2 or 3 spatial axes), channels_last: x (batch, *spatial, Cin),
// kernel (*k, Cin, F) in Keras's layout, output (batch, *out, F). Cross-correlation (no flip).
// Padding is explicit per spatial axis (pad_before, pad_after); Python computes Keras's
// 'valid' / 'same' / 'causal' rule. GEMM-based with a bounded im2col workspace.
// Grouped convolution (Keras's `groups`, depthwise when in_channels == groups): the kernel is
// (*k, Cin / groups, F); filters [i * F/groups, (i+1) * F/groups) see only the input channels
// [i * Cin/groups, (i+1) * Cin/groups). Cin and F must both be divisible by groups.
#pragma once
#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "core/tensor.h"
#include "ops/kernel_decl.h"

namespace kcore {

struct ConvArgs {
  Shape strides, dilation, pad_before, pad_after;
  int64_t groups = 1;  // conv_forward / conv_backward only; the transposed conv requires 1
};

// bias may be undefined (no bias).
Tensor conv_forward(const Tensor& x, const Tensor& kernel, const OptionalTensor& bias, const ConvArgs& args);

// Returns (grad_x, grad_kernel, grad_bias); each is undefined when not asked for.
using ConvGrads = std::tuple<OptionalTensor, OptionalTensor, OptionalTensor>;
ConvGrads conv_backward(const Tensor& x, const Tensor& kernel, const Tensor& grad, const ConvArgs& args, bool need_x,
                        bool need_kernel, bool need_bias);

// Transposed convolution (the input gradient of a conv, as keras.ops.conv_transpose): x (batch,
// *in, C_in), kernel (*k, F_out, C_in) in Keras's Conv*DTranspose layout, output (batch,
// *out_spatial, F_out). `args` are the strides/dilation/padding of the matching conv that maps the
// output back onto x; out_spatial must be consistent with them (checked).
Tensor conv_transpose(const Tensor& x, const Tensor& kernel, const OptionalTensor& bias, const Shape& out_spatial,
                      const ConvArgs& args);
ConvGrads conv_transpose_backward(const Tensor& x, const Tensor& kernel, const Tensor& grad, const ConvArgs& args,
                                  bool need_x, bool need_kernel, bool need_bias);

// Bytes of workspace the forward of a conv of these shapes uses: im2col buffers, or Winograd's
// transform buffers on that path (0 on the direct 1x1 GEMM path).
int64_t conv_workspace_bytes(const Shape& x_shape, const Shape& kernel_shape, const ConvArgs& args, int64_t itemsize);

// The output shape conv_forward would produce (validates everything conv_forward checks).
Shape conv_output_shape(const Shape& x_shape, const Shape& kernel_shape, const ConvArgs& args);

// The im2col workspace budget per worker thread in bytes (default 1 MiB); a knob for benchmarks and tests.
void conv_set_workspace_limit(int64_t bytes);
// Winograd for eligible float32 stride-1 convs (default on): F(2x2, 3x3) / F(4x4, 3x3) for 3x3 2-D convs,
// F(4, 5) for 5-tap 1-D convs; off = im2col or the sliding-row GEMMs always.
void conv_set_winograd(bool enabled);
bool conv_winograd();
// Winograd variant for eligible float32 convs: "auto" (per shape, the measured rule), "f2" (F(2x2, 3x3))
// or "f4" (F(4x4, 3x3)).
void conv_set_winograd_variant(const std::string& name);
std::string conv_winograd_variant();
// Whether float32 unit-stride 1-D/2-D convs that Winograd does not take read their im2col rows as a
// sliding window of the input (on by default; off: im2col + BLAS, for comparisons).
void conv_set_sliding_rows(bool enabled);
bool conv_sliding_rows();
int64_t conv_workspace_limit();

// Device kernels, routed whole (ops/conv.cpp routes).
// clang-format off
#define KCORE_CONV_KERNELS(X)                                                                              \
  X(Tensor, conv_forward, (const Tensor& x, const Tensor& kernel, const Tensor& bias, const ConvArgs& args)) \
  X(TensorTriple, conv_backward,                                                                           \
    (const Tensor& x, const Tensor& kernel, const Tensor& grad, const ConvArgs& args, bool need_x,         \
     bool need_kernel, bool need_bias))                                                                    \
  X(Tensor, conv_transpose,                                                                                \
    (const Tensor& x, const Tensor& kernel, const Tensor& bias, const Shape& out_spatial, const ConvArgs& args)) \
  X(TensorTriple, conv_transpose_backward,                                                                 \
    (const Tensor& x, const Tensor& kernel, const Tensor& grad, const ConvArgs& args, bool need_x,         \
     bool need_kernel, bool need_bias))
// clang-format on
KCORE_DECLARE_KERNELS(KCORE_CONV_KERNELS)

}  // namespace kcore
