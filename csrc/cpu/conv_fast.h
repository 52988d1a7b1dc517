// Internal to the conv kernels: the float32 paths that skip im2col, and the rule that picks them:
// Winograd F(4x4, 3x3) / F(2x2, 3x3) for 3x3 stride-1 2-D convs (conv_winograd4.cpp, conv_winograd.cpp,
// choice in conv_winograd_select.cpp) and sliding-row GEMMs for other unit-stride 1-D/2-D convs
// (conv_rows.cpp).
#pragma once
#include <cstdint>

#include "core/bfloat16.h"
#include "cpu/conv_geometry.h"

namespace kcore::conv_detail {

// Computes y on a fast path and returns true, or returns false when none applies.
bool fast_forward(const Geometry& g, const float* x, const float* w, const float* bias, float* y,
                  int64_t workspace_limit);

// Computes the gradients a fast path covers and nulls the pointers it filled (dx, dkernel, dbias);
// the caller computes the rest. x may be null when no kernel gradient is asked for.
void fast_backward(const Geometry& g, const float* x, const float* w, const float* dy, float*& dx, float*& dkernel,
                   float*& dbias, int64_t workspace_limit);

// Whether a float32 conv of this geometry runs Winograd (the bfloat16 convs take it too: 4x fewer
// multiplies than the bfloat16 im2col GEMM's 2x faster ones; F(4x4) on the bfloat16 tensors, the
// other variants on float32 copies, conv_bf16.cpp).
bool winograd_takes(const Geometry& g);

// Winograd F(4x4, 3x3) straight on bfloat16 operands, for the convs it takes in float32 (else false,
// nothing computed): x, dy read as bfloat16 and widened inside the transforms, y and dx rounded as they
// are stored, dkernel in float32. backward computes dx and dkernel where non-null; dx needs the input
// gradient's own conv to take F(4x4) too (outputs of 3x3 and up): winograd4_bf16_takes(g, true).
bool winograd4_bf16_takes(const Geometry& g, bool input_grad);
bool winograd4_bf16_forward(const Geometry& g, const bf16* x, const bf16* w, const bf16* bias, bf16* y);
bool winograd4_bf16_backward(const Geometry& g, const bf16* x, const bf16* w, const bf16* dy, bf16* dx, float* dkernel);

// Bytes of workspace of the fast path the conv takes, or -1 when it takes none.
int64_t fast_workspace_bytes(const Geometry& g, int64_t workspace_limit);

}  // namespace kcore::conv_detail
