// Internal to the conv kernels: im2col and its transpose on channels_last data (conv.cpp's GEMM
// paths for every dtype, conv_bf16.cpp's bfloat16 path). A row of the im2col matrix is one output
// pixel's receptive field in kernel order (kd, kh, kw, Cin), the flattened Keras kernel's row order.
#pragma once
#include <cstdint>
#include <cstring>

#include "cpu/conv_geometry.h"

namespace kcore::conv_detail {

// Walks the receptive field of output row r one kernel line (k[2] taps along W) at a time, in
// kernel order: fn(first_tap, line, w0) where `line` is the pixel offset (from the start of the
// batch) of input position (i0, i1, 0), or -1 when that line lies in the padding, and w0 is the
// input W coordinate of the line's first tap (may be negative: padding).
template <typename Fn> void for_each_tap(const Geometry& g, int64_t r, Fn&& fn) {
  const ConvPixel p = g.decode(r);
  const int64_t base = p.n * g.in_pixels();
  int64_t tap = 0;
  for (int64_t a = 0; a < g.k[0]; ++a) {
    const int64_t i0 = g.input_coord(0, p.o0, a);
    const bool ok0 = i0 >= 0 && i0 < g.in[0];
    for (int64_t b = 0; b < g.k[1]; ++b) {
      const int64_t i1 = g.input_coord(1, p.o1, b);
      const bool ok1 = ok0 && i1 >= 0 && i1 < g.in[1];
      const int64_t line = base + (i0 * g.in[1] + i1) * g.in[2];
      const int64_t w0 = g.input_coord(2, p.o2, 0);
      fn(tap, ok1 ? line : -1, w0);
      tap += g.k[2];
    }
  }
}

// im2col for output rows [r0, r0 + nr) and the channels [c0, c0 + cg) of one group: col is (nr, K).
template <typename T> void im2col(const Geometry& g, const T* x, int64_t r0, int64_t nr, int64_t c0, T* col) {
  const int64_t C = g.c, cg = g.cg(), K = g.cols(), kw = g.k[2], dw = g.d[2], W = g.in[2];
  for (int64_t i = 0; i < nr; ++i) {
    T* row = col + i * K;
    for_each_tap(g, r0 + i, [&](int64_t tap, int64_t line, int64_t w0) {
      T* dst = row + tap * cg;
      if (line < 0) {
        std::memset(dst, 0, kw * cg * sizeof(T));
        return;
      }
      const T* src = x + line * C + c0;
      if (cg == C && dw == 1 && w0 >= 0 && w0 + kw <= W) {  // the whole kernel line is one contiguous run
        std::memcpy(dst, src + w0 * C, kw * C * sizeof(T));
        return;
      }
      for (int64_t c = 0; c < kw; ++c) {
        const int64_t iw = w0 + c * dw;
        if (iw >= 0 && iw < W) std::memcpy(dst + c * cg, src + iw * C, cg * sizeof(T));
        else std::memset(dst + c * cg, 0, cg * sizeof(T));
      }
    });
  }
}

// Adds rows [0, nr) of dcol (output rows r0..., channels c0... of one group) back into dx: the
// transpose of im2col.
template <typename T> void col2im(const Geometry& g, const T* dcol, int64_t r0, int64_t nr, int64_t c0, T* dx) {
  const int64_t C = g.c, cg = g.cg(), K = g.cols(), kw = g.k[2], dw = g.d[2], W = g.in[2];
  for (int64_t i = 0; i < nr; ++i) {
    const T* row = dcol + i * K;
    for_each_tap(g, r0 + i, [&](int64_t tap, int64_t line, int64_t w0) {
      if (line < 0) return;
      for (int64_t c = 0; c < kw; ++c) {
        const int64_t iw = w0 + c * dw;
        if (iw < 0 || iw >= W) continue;
        T* dst = dx + (line + iw) * C + c0;
        const T* src = row + (tap + c) * cg;
        for (int64_t ci = 0; ci < cg; ++ci) dst[ci] += src[ci];
      }
    });
  }
}

}  // namespace kcore::conv_detail
