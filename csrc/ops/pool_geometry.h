// The geometry of N-d pooling (ops/pool.h), shared by the CPU kernels (cpu/pool.cpp) and the CUDA
// kernels (cuda/pool.cu): ranks are handled as 3-D ((1, 1, W) for 1-D, (1, H, W) for 2-D). The
// struct, the clipped window of an output cell and its inverse are plain data / inline math
// usable in device code; make_pool_geometry (host only) validates and says what is wrong.
#pragma once
#include <cstdint>

#include "core/checked.h"
#include "core/hostdevice.h"
#include "core/tensor.h"
#include "ops/pool.h"

namespace kcore {

// The window of one output cell, clipped to real input cells: [lo[j], hi[j]) per axis. Padded
// cells are never part of it, so max pooling ignores them and the average divides by count().
struct PoolWindow {
  int64_t lo[3], hi[3];
  KCORE_HD int64_t count() const { return (hi[0] - lo[0]) * (hi[1] - lo[1]) * (hi[2] - lo[2]); }
};

struct PoolGeometry {
  int64_t rank = 0, n = 0, c = 0;
  int64_t in[3] = {1, 1, 1}, out[3] = {1, 1, 1}, k[3] = {1, 1, 1}, s[3] = {1, 1, 1}, pb[3] = {0, 0, 0};

  KCORE_HD int64_t in_pixels() const { return in[0] * in[1] * in[2]; }
  KCORE_HD int64_t out_pixels() const { return out[0] * out[1] * out[2]; }
  Shape out_shape() const {
    Shape sh{n};
    for (int64_t i = 3 - rank; i < 3; ++i) sh.push_back(out[i]);
    sh.push_back(c);
    return sh;
  }
  // The window of output cell o (flat index inside its image).
  KCORE_HD PoolWindow window(int64_t o) const {
    int64_t idx[3];
    idx[2] = o % out[2];
    o /= out[2];
    idx[1] = o % out[1];
    idx[0] = o / out[1];
    PoolWindow w;
    for (int j = 0; j < 3; ++j) {
      const int64_t start = idx[j] * s[j] - pb[j];
      w.lo[j] = start > 0 ? start : 0;
      w.hi[j] = start + k[j] < in[j] ? start + k[j] : in[j];
    }
    return w;
  }
  // The output cells along axis j whose window holds input coordinate i: [*lo, *hi) (may be empty).
  KCORE_HD void outputs_reading(int j, int64_t i, int64_t* lo, int64_t* hi) const {
    // o * s - pb <= i < o * s - pb + k   <=>   (i + pb - k) / s < o <= (i + pb) / s
    const int64_t top = i + pb[j];
    const int64_t first = top - k[j] + 1 <= 0 ? 0 : (top - k[j] + 1 + s[j] - 1) / s[j];
    const int64_t last = top / s[j];  // top >= 0 for a real input cell
    *lo = first;
    *hi = last + 1 < out[j] ? last + 1 : out[j];
  }
};

inline PoolGeometry make_pool_geometry(const Shape& xs, const PoolArgs& a, const char* op) {
  const int64_t rank = (int64_t)a.pool_size.size();
  KCORE_CHECK(rank >= 1 && rank <= 3, op << ": pool_size must have 1, 2 or 3 values, got " << shape_str(a.pool_size));
  KCORE_CHECK((int64_t)xs.size() == rank + 2, op << ": " << rank << "-D pooling expects an input of rank " << rank + 2
                                                 << " (batch, *spatial, channels), got shape " << shape_str(xs)
                                                 << "; add the missing batch or channel axis");
  KCORE_CHECK(a.strides.size() == a.pool_size.size() && a.pad_before.size() == a.pool_size.size() &&
                  a.pad_after.size() == a.pool_size.size(),
              op << ": pool_size, strides and padding must have one value per spatial axis");
  PoolGeometry g;
  g.rank = rank;
  g.n = xs[0];
  g.c = xs.back();
  for (int64_t i = 0; i < rank; ++i) {
    const int64_t j = 3 - rank + i;
    g.in[j] = xs[1 + i];
    g.k[j] = a.pool_size[i];
    g.s[j] = a.strides[i];
    g.pb[j] = a.pad_before[i];
    KCORE_CHECK(g.k[j] >= 1, op << ": pool_size must be positive, got " << shape_str(a.pool_size));
    KCORE_CHECK(g.s[j] >= 1, op << ": strides must be positive, got " << shape_str(a.strides));
    KCORE_CHECK(a.pad_before[i] >= 0 && a.pad_after[i] >= 0 && a.pad_before[i] < g.k[j] && a.pad_after[i] < g.k[j],
                op << ": padding must be non-negative and smaller than the pool size");
    const int64_t padded =
        KCORE_CHECKED_ADD(KCORE_CHECKED_ADD(g.in[j], a.pad_before[i], "the padded input " << shape_str(xs)),
                          a.pad_after[i], "the padded input " << shape_str(xs));
    KCORE_CHECK(padded >= g.k[j], op << ": spatial axis " << i << " of the input (size " << g.in[j]
                                     << ") is smaller than the pool size " << g.k[j] << "; input shape "
                                     << shape_str(xs) << " (use padding='same' or a smaller pool_size)");
    g.out[j] = (padded - g.k[j]) / g.s[j] + 1;
  }
  KCORE_CHECK(g.in_pixels() < (int64_t(1) << 31), op << ": images of more than 2^31 cells are not supported");
  return g;
}

}  // namespace kcore
