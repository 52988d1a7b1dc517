// Internal to the conv kernels: Winograd F(2x2, 3x3) for 3x3, stride-1, undilated float32 convs.
#pragma once
#include <cstdint>

namespace kcore {

// Worth it (and tested) only with enough channels and filters to feed the 16 GEMMs.
bool winograd_applicable(int64_t in_channels, int64_t filters);

// Bytes of buffers winograd_conv3x3 allocates for an (n, oh, ow) output (transformed kernel included).
int64_t winograd_workspace_bytes(int64_t n, int64_t oh, int64_t ow, int64_t c, int64_t f, int64_t budget_bytes);

// y (n, oh, ow, f) = cross-correlation of x (n, h, w, c) with kernel (3, 3, c, f), zero padding of
// pad_top / pad_left before (the bottom/right padding is implied by oh, ow), plus bias (may be null).
// budget_bytes bounds each worker's transform buffers.
void winograd_conv3x3(const float* x, int64_t n, int64_t h, int64_t w, int64_t c, const float* kernel, int64_t f,
                      int64_t pad_top, int64_t pad_left, int64_t oh, int64_t ow, const float* bias, float* y,
                      int64_t budget_bytes);

}  // namespace kcore
