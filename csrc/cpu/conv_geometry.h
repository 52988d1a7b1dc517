// Internal to the conv kernels: a conv's geometry with every rank handled as 3-D (a 1-D conv is
// (1, 1, W), a 2-D conv (1, H, W)), shared by conv.cpp's im2col paths and conv_fast.cpp.
#pragma once
#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace kcore::conv_detail {

struct Geometry {
  int64_t rank = 0, n = 0, c = 0, f = 0, groups = 1;
  int64_t in[3] = {1, 1, 1}, out[3] = {1, 1, 1}, k[3] = {1, 1, 1};
  int64_t s[3] = {1, 1, 1}, d[3] = {1, 1, 1}, pb[3] = {0, 0, 0}, pa[3] = {0, 0, 0};

  int64_t kvol() const { return k[0] * k[1] * k[2]; }
  int64_t cg() const { return c / groups; }                    // input channels per group
  int64_t fg() const { return f / groups; }                    // filters per group
  int64_t cols() const { return kvol() * cg(); }               // K of each group's GEMM
  int64_t in_pixels() const { return in[0] * in[1] * in[2]; }
  int64_t out_pixels() const { return out[0] * out[1] * out[2]; }
  int64_t rows() const { return n * out_pixels(); }           // M of the GEMM
  // A 1x1 conv with unit stride and no padding is a plain GEMM on the input.
  bool pointwise() const {
    for (int i = 0; i < 3; ++i)
      if (k[i] != 1 || s[i] != 1 || pb[i] != 0 || pa[i] != 0) return false;
    return true;
  }
  Shape out_shape() const {
    Shape sh{n};
    for (int64_t i = 3 - rank; i < 3; ++i) sh.push_back(out[i]);
    sh.push_back(f);
    return sh;
  }
};

// Column sums over every leading axis of a (rows, F) tensor, accumulated in double.
template <typename T>
void column_sums(const T* p, int64_t rows, int64_t F, T* out) {
  std::vector<double> acc(F, 0.0);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t f = 0; f < F; ++f) acc[f] += p[r * F + f];
  for (int64_t f = 0; f < F; ++f) out[f] = T(acc[f]);
}

}  // namespace kcore::conv_detail
