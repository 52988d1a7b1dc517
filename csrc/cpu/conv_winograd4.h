// Internal to the conv kernels: Winograd F(4x4, 3x3) for 3x3, stride-1, undilated float32 convs,
// forward, input gradient (a conv with the rotated kernel) and kernel gradient.
#pragma once
#include <cstdint>
#include <string>

#include "core/bfloat16.h"

namespace kcore {

// Which Winograd algorithm an eligible conv uses (conv_winograd_select.cpp).
enum class WinogradVariant { automatic, f2, f4 };
WinogradVariant parse_winograd_variant(const std::string& name);  // "auto", "f2", "f4"; else ValueError
std::string winograd_variant_name(WinogradVariant v);
// 2 (F(2x2, 3x3)) or 4 (F(4x4, 3x3)) for a conv with an (n, oh, ow) output, c input channels and f filters.
int choose_winograd(WinogradVariant v, int64_t n, int64_t oh, int64_t ow, int64_t c, int64_t f);

// Output tiles of an (n, oh, ow) output: n * ceil(oh / 4) * ceil(ow / 4).
int64_t winograd4_tiles(int64_t n, int64_t oh, int64_t ow);

// Bytes winograd4_conv3x3 / winograd4_kernel_grad use for an (n, oh, ow) output: per-worker transform
// buffers, the transformed kernel and (kernel gradient) per-worker accumulators.
int64_t winograd4_workspace_bytes(int64_t n, int64_t oh, int64_t ow, int64_t c, int64_t f, bool kernel_grad);

// y (n, oh, ow, f) = cross-correlation of x (n, h, w, c) with kernel (3, 3, c, f), zero padding of
// pad_top / pad_left before (the bottom/right padding is implied by oh, ow), plus bias (may be null).
// bfloat16 x and y: widened and rounded inside the transforms (float32 kernel, bias and arithmetic).
void winograd4_conv3x3(const float* x, int64_t n, int64_t h, int64_t w, int64_t c, const float* kernel, int64_t f,
                       int64_t pad_top, int64_t pad_left, int64_t oh, int64_t ow, const float* bias, float* y);
void winograd4_conv3x3(const bf16* x, int64_t n, int64_t h, int64_t w, int64_t c, const float* kernel, int64_t f,
                       int64_t pad_top, int64_t pad_left, int64_t oh, int64_t ow, const float* bias, bf16* y);

// dkernel (3, 3, c, f) = gradient of that conv with respect to the kernel, for output gradient dy (n, oh, ow, f).
void winograd4_kernel_grad(const float* x, int64_t n, int64_t h, int64_t w, int64_t c, const float* dy, int64_t f,
                           int64_t pad_top, int64_t pad_left, int64_t oh, int64_t ow, float* dkernel);
void winograd4_kernel_grad(const bf16* x, int64_t n, int64_t h, int64_t w, int64_t c, const bf16* dy, int64_t f,
                           int64_t pad_top, int64_t pad_left, int64_t oh, int64_t ow, float* dkernel);

}  // namespace kcore
