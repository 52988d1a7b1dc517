// CPU kernels of the copying shape ops (the views live in ops/shape.cpp).
#include "ops/shape.h"

#include <algorithm>
#include <cstring>

#include "core/checked.h"
#include "core/parallel.h"

namespace kcore::cpu {

void concatenate(const std::vector<Tensor>& xs, int64_t axis, Tensor& out) {
  const Shape& shape = out.shape();
  const Tensor& first = xs[0];
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= shape[d];
  for (int64_t d = axis + 1; d < (int64_t)shape.size(); ++d) inner *= shape[d];
  const size_t es = dtype_size(first.dtype());
  int64_t col = 0;
  char* o = static_cast<char*>(out.raw());
  const int64_t row_bytes = shape[axis] * inner * es;
  for (const auto& t0 : xs) {
    Tensor t = t0.contiguous();
    const int64_t chunk = t.shape()[axis] * inner * es;
    const char* s = static_cast<const char*>(t.raw());
    for (int64_t r = 0; r < outer; ++r) std::memcpy(o + r * row_bytes + col, s + r * chunk, chunk);
    col += chunk;
  }
}

void take_rows(const Tensor& x, const Tensor& idx, Tensor& out) {
  const int64_t rows = x.shape()[0];
  const int64_t row = x.numel() / std::max<int64_t>(rows, 1);
  const size_t es = dtype_size(x.dtype());
  const char* src = static_cast<const char*>(x.raw());
  char* dst = static_cast<char*>(out.raw());
  dispatch_index(idx.dtype(), "take", [&](auto tag) {
    using I = decltype(tag);
    const I* ip = idx.data<I>();
    for (int64_t i = 0; i < idx.numel(); ++i)
      KCORE_CHECK(ip[i] >= 0 && ip[i] < rows,
                  "take: index " << (int64_t)ip[i] << " is out of range for " << rows << " rows");
    parallel_for(idx.numel(), 64, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) std::memcpy(dst + i * row * es, src + (int64_t)ip[i] * row * es, row * es);
    });
  });
}

void take_rows_backward(const Tensor& g, const Tensor& idx, Tensor& out) {
  const int64_t n = idx.numel(), num_rows = out.shape()[0];
  const int64_t row = shape_numel(Shape(out.shape().begin() + 1, out.shape().end()));
  dispatch_float(g.dtype(), "take backward", [&](auto ftag) {
    using T = decltype(ftag);
    dispatch_index(idx.dtype(), "take backward", [&](auto itag) {
      using I = decltype(itag);
      const I* ip = idx.data<I>();
      for (int64_t i = 0; i < n; ++i)
        KCORE_CHECK(ip[i] >= 0 && ip[i] < num_rows,
                    "take backward: index " << (int64_t)ip[i] << " is out of range for " << num_rows << " rows");
      const T* gp = g.data<T>();
      T* o = out.data<T>();
      // Each thread owns a slice of the row's columns: no two threads write the same cell,
      // and rows are added in index order, so results are deterministic.
      parallel_for(row, 64, [&](int64_t lo, int64_t hi) {
        for (int64_t i = 0; i < n; ++i) {
          T* dst = o + (int64_t)ip[i] * row;
          const T* src = gp + i * row;
          for (int64_t c = lo; c < hi; ++c) dst[c] += src[c];
        }
      });
    });
  });
}

}  // namespace kcore::cpu
