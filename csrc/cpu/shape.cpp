#include "ops/shape.h"

#include <algorithm>
#include <cstring>

#include "core/checked.h"
#include "core/parallel.h"
#include "ops/arguments.h"

namespace kcore::cpu {

Tensor concatenate(const std::vector<Tensor>& xs, int64_t axis) {
  Shape shape = arguments::concatenate_shape(xs, axis);
  const Tensor& first = xs[0];
  Tensor out = Tensor::empty(shape, first.dtype());
  if (out.numel() == 0) return out;  // (the row sizes below could overflow for an empty result)
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
  return out;
}

Tensor slice_backward(const Tensor& grad, const Shape& in_shape, const std::vector<int64_t>& start,
                      const std::vector<int64_t>& step) {
  KCORE_CHECK(grad.ndim() == (int64_t)in_shape.size() && start.size() == in_shape.size() &&
                  step.size() == in_shape.size(),
              "slice backward: gradient of shape " << shape_str(grad.shape()) << " does not match input shape "
                                                   << shape_str(in_shape));
  Tensor out = Tensor::zeros(in_shape, grad.dtype());
  std::vector<int64_t> stop(in_shape.size());
  for (size_t d = 0; d < in_shape.size(); ++d) {
    KCORE_CHECK(step[d] > 0 && start[d] >= 0 && start[d] <= in_shape[d],
                "slice backward: start " << start[d] << " / step " << step[d] << " do not fit axis " << d
                                         << " of size " << in_shape[d]);
    // the last selected index is start + (n - 1) * step; the window stops right after it
    const int64_t n = grad.shape()[d];
    stop[d] = n == 0 ? start[d]
                     : std::min(in_shape[d], KCORE_CHECKED_ADD(start[d],
                                                               KCORE_CHECKED_MUL(n - 1, step[d], "the slice window"),
                                                               "the slice window") + 1);
  }
  Tensor window = slice(out, start, stop, step);
  window.copy_from(grad);
  return out;
}

Tensor take_rows(const Tensor& x_in, const Tensor& indices_in) {
  const Shape shape = arguments::take_rows_shape(x_in, indices_in);
  Tensor x = x_in.contiguous(), idx = indices_in.contiguous();
  const int64_t rows = x.shape()[0];
  const int64_t row = x.numel() / std::max<int64_t>(rows, 1);
  Tensor out = Tensor::empty(shape, x.dtype());
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
  return out;
}

Tensor take_rows_backward(const Tensor& grad_in, const Tensor& indices_in, int64_t num_rows) {
  check_float(grad_in, "take backward", "grad");
  Tensor g = grad_in.contiguous(), idx = indices_in.contiguous();
  const int64_t n = idx.numel();
  KCORE_CHECK(g.ndim() >= idx.ndim() && std::equal(idx.shape().begin(), idx.shape().end(), g.shape().begin()),
              "take backward: gradient of shape " << shape_str(g.shape()) << " does not start with the indices' shape "
                                                  << shape_str(idx.shape()));
  Shape shape{num_rows};
  for (int64_t d = idx.ndim(); d < g.ndim(); ++d) shape.push_back(g.shape()[d]);
  const int64_t row = shape_numel(Shape(shape.begin() + 1, shape.end()));
  Tensor out = Tensor::zeros(shape, g.dtype());
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
  return out;
}

}  // namespace kcore::cpu
