// Internal to the conv kernels: float32 1-D convs with 5 taps, unit stride and dilation and one group
// by Winograd F(4, 5): 8 multiplies per 4 outputs instead of 20 (points 0, +-1, +-2, +-1/2 and
// infinity). The row-sliding Conv1D (conv_rows.cpp) runs its forward pass and its input gradient (a
// conv of the output gradient with the flipped kernel) through it when wide enough.
#pragma once
#include <cstdint>

namespace kcore {

constexpr int64_t kWinograd1dTaps = 5;

// Whether F(4, 5) serves a conv with these channels: both at least 16 (the transforms then cost
// little next to the GEMMs), a build with the register-blocked small GEMMs, and Winograd switched on
// (conv_set_winograd, shared with the 2-D paths).
bool winograd1d_applicable(int64_t taps, int64_t channels, int64_t filters);

// y (n, ow, f) = x (n, w, c) conv kernel (5, c, f) + bias (may be null), where output column o reads
// input columns o - pad_left .. o - pad_left + 4 (outside [0, w) read as zeros).
void winograd1d_conv5(const float* x, int64_t n, int64_t w, int64_t c, const float* kernel, int64_t f, int64_t pad_left,
                      int64_t ow, const float* bias, float* y);

}  // namespace kcore
