// Argument checks and output shapes shared by every device's implementation of an op
// (csrc/cpu/*.cpp and csrc/cuda/*.cu): the rules are written once, here.
#pragma once
#include <algorithm>
#include <vector>

#include "core/tensor.h"

namespace kcore::arguments {

inline Shape without_last(const Shape& s) { return Shape(s.begin(), s.end() - 1); }

// y_pred and y_true of a fused loss: same floating dtype and shape, at least one axis.
inline void loss_pair(const Tensor& p, const Tensor& y, const char* op) {
  check_float(p, op, "y_pred");
  check_float(y, op, "y_true");
  check_same_dtype(p, y, op);
  KCORE_CHECK(p.shape() == y.shape(), op << ": y_true of shape " << shape_str(y.shape())
                                         << " does not match y_pred of shape " << shape_str(p.shape()));
  KCORE_CHECK(p.ndim() >= 1, op << ": y_pred must have at least one axis");
}

// Logits (..., C) and integer labels (...).
inline void sparse_labels(const Tensor& x, const Tensor& labels) {
  check_float(x, "sparse_categorical_crossentropy", "y_pred");
  KCORE_CHECK(x.ndim() >= 1, "sparse_categorical_crossentropy: y_pred must have a class axis");
  KCORE_CHECK(labels.shape() == without_last(x.shape()),
              "sparse_categorical_crossentropy: labels of shape " << shape_str(labels.shape())
                  << " do not match y_pred of shape " << shape_str(x.shape()) << " (expected labels of shape "
                  << shape_str(without_last(x.shape())) << ")");
}

// x (..., K) @ kernel (K, N) -> (..., N).
inline Shape linear_shape(const Tensor& x, const Tensor& w) {
  check_float(x, "linear", "x");
  check_float(w, "linear", "kernel");
  check_same_dtype(x, w, "linear");
  KCORE_CHECK(w.ndim() == 2, "linear: kernel must be 2-D, got " << shape_str(w.shape()));
  KCORE_CHECK(x.ndim() >= 1 && x.dim(-1) == w.dim(0),
              "linear: input with last dimension " << (x.ndim() ? x.dim(-1) : 0) << " (shape "
                                                   << shape_str(x.shape()) << ") does not match kernel of shape "
                                                   << shape_str(w.shape()));
  Shape shape = x.shape();
  shape.back() = w.dim(1);
  return shape;
}

// The inputs' common shape with the sizes along `axis` (normalised in place) added up.
inline Shape concatenate_shape(const std::vector<Tensor>& xs, int64_t& axis) {
  KCORE_CHECK(!xs.empty(), "concatenate: need at least one tensor");
  const Tensor& first = xs[0];
  axis = normalize_axis(axis, first.ndim(), "concatenate");
  Shape shape = first.shape();
  shape[axis] = 0;
  for (const auto& t : xs) {
    KCORE_CHECK(t.ndim() == first.ndim(), "concatenate: all inputs must have the same rank, got "
                                              << shape_str(first.shape()) << " and " << shape_str(t.shape()));
    if (t.dtype() != first.dtype()) throw TypeError("concatenate: all inputs must have the same dtype");
    for (int64_t d = 0; d < t.ndim(); ++d)
      KCORE_CHECK(d == axis || t.shape()[d] == first.shape()[d],
                  "concatenate: shapes " << shape_str(first.shape()) << " and " << shape_str(t.shape())
                                         << " differ outside axis " << axis);
    shape[axis] += t.shape()[axis];
  }
  return shape;
}

// x viewed as (outer, channels, inner) around `axis`, for per-channel statistics.
struct ChannelGeometry {
  int64_t outer, channels, inner;
};

inline ChannelGeometry channel_geometry(const Tensor& x, int64_t axis, const Tensor& gamma, const char* op) {
  check_float(x, op, "x");
  axis = normalize_axis(axis, x.ndim(), op);
  ChannelGeometry g{1, x.shape()[axis], 1};
  for (int64_t d = 0; d < axis; ++d) g.outer *= x.shape()[d];
  for (int64_t d = axis + 1; d < x.ndim(); ++d) g.inner *= x.shape()[d];
  KCORE_CHECK(gamma.numel() == g.channels, op << ": parameters of size " << gamma.numel() << " do not match "
                                              << g.channels << " channels of input " << shape_str(x.shape()));
  check_same_dtype(x, gamma, op);
  return g;
}

// a (..., M, K) @ b (..., K, N): same floating dtype, rank >= 2, matching inner dimensions.
inline void matmul_operands(const Tensor& a, const Tensor& b) {
  check_float(a, "matmul", "x1");
  check_float(b, "matmul", "x2");
  check_same_dtype(a, b, "matmul");
  KCORE_CHECK(a.ndim() >= 2 && b.ndim() >= 2, "matmul: operands must have rank >= 2 here, got shapes "
                                                  << shape_str(a.shape()) << " and " << shape_str(b.shape()));
  KCORE_CHECK(a.dim(-1) == b.dim(-2),
              "matmul: inner dimensions do not match: " << shape_str(a.shape()) << " @ " << shape_str(b.shape()));
}

// Rows of x picked by indices: indices' shape followed by x's trailing axes.
inline Shape take_rows_shape(const Tensor& x, const Tensor& indices) {
  KCORE_CHECK(x.ndim() >= 1, "take: x must have at least one axis");
  Shape shape = indices.shape();
  for (int64_t d = 1; d < x.ndim(); ++d) shape.push_back(x.shape()[d]);
  return shape;
}

// How BLAS reads the last two axes of t as a (rows, cols) matrix without copying: row-major
// (trans false) or column-major (trans true) with leading dimension ld; ok false when neither.
struct MatrixLayout {
  bool ok, trans;
  int64_t ld;
};

inline MatrixLayout layout_of(const Tensor& t) {
  const int64_t nd = t.ndim();
  const int64_t rows = t.shape()[nd - 2], cols = t.shape()[nd - 1];
  const int64_t s0 = t.strides()[nd - 2], s1 = t.strides()[nd - 1];
  if ((cols <= 1 || s1 == 1) && (rows <= 1 || s0 >= std::max<int64_t>(cols, 1)))
    return {true, false, rows <= 1 ? std::max<int64_t>(cols, 1) : s0};
  if ((rows <= 1 || s0 == 1) && (cols <= 1 || s1 >= std::max<int64_t>(rows, 1)))
    return {true, true, cols <= 1 ? std::max<int64_t>(rows, 1) : s1};
  return {false, false, 0};
}

// x viewed as (outer, n, inner) around `axis` (softmax, per-axis kernels).
inline void axis_geometry(const Tensor& x, int64_t axis, int64_t* outer, int64_t* n, int64_t* inner) {
  *outer = 1;
  *inner = 1;
  for (int64_t d = 0; d < axis; ++d) *outer *= x.shape()[d];
  for (int64_t d = axis + 1; d < x.ndim(); ++d) *inner *= x.shape()[d];
  *n = x.shape()[axis];
}

}  // namespace kcore::arguments
