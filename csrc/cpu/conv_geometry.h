// Internal to the conv kernels: a conv's geometry with every rank handled as 3-D (a 1-D conv is
// (1, 1, W), a 2-D conv (1, H, W)), shared by conv.cpp's im2col paths and conv_fast.cpp (and, as
// ops/conv_geometry.h's ConvGeometry, by the CUDA kernels).
#pragma once
#include <cstdint>
#include <vector>

#include "core/tensor.h"
#include "ops/conv_geometry.h"

namespace kcore::conv_detail {

// The geometry struct and its validation are shared with the CUDA kernels (ops/conv_geometry.h).
using Geometry = ::kcore::ConvGeometry;

// Column sums over every leading axis of a (rows, F) tensor, accumulated in double.
template <typename T> void column_sums(const T* p, int64_t rows, int64_t F, T* out) {
  std::vector<double> acc(F, 0.0);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t f = 0; f < F; ++f) acc[f] += p[r * F + f];
  for (int64_t f = 0; f < F; ++f) out[f] = T(acc[f]);
}

// The same over threads, float32 within blocks of rows: the bias gradients of the fast paths (conv_bias.cpp).
void bias_gradient(const float* dy, int64_t rows, int64_t F, float* out);
void bias_gradient(const bf16* dy, int64_t rows, int64_t F, bf16* out);

}  // namespace kcore::conv_detail
