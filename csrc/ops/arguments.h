// Argument checks and output shapes shared by every device's implementation of an op
// (csrc/cpu/*.cpp and csrc/cuda/*.cu): the rules are written once, here.
#pragma once
#include <algorithm>
#include <initializer_list>
#include <vector>

#include "core/checked.h"
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
              "sparse_categorical_crossentropy: labels of shape "
                  << shape_str(labels.shape()) << " do not match y_pred of shape " << shape_str(x.shape())
                  << " (expected labels of shape " << shape_str(without_last(x.shape())) << ")");
}

// x (..., K) @ kernel (K, N) -> (..., N).
inline Shape linear_shape(const Tensor& x, const Tensor& w) {
  check_float(x, "linear", "x");
  check_float(w, "linear", "kernel");
  check_same_dtype(x, w, "linear");
  KCORE_CHECK(w.ndim() == 2, "linear: kernel must be 2-D, got " << shape_str(w.shape()));
  KCORE_CHECK(x.ndim() >= 1 && x.dim(-1) == w.dim(0),
              "linear: input with last dimension " << (x.ndim() ? x.dim(-1) : 0) << " (shape " << shape_str(x.shape())
                                                   << ") does not match kernel of shape " << shape_str(w.shape()));
  Shape shape = x.shape();
  shape.back() = w.dim(1);
  return shape;
}

// A shape (..., n) seen as a matrix (rows, n), rows the product of the leading axes (n may be 0).
inline Shape as_rows(const Shape& s) {
  if (s.empty()) return {1, 1};
  return {shape_numel(without_last(s)), s.back()};
}

// linear_backward's x (..., K), kernel (K, N) and grad (..., N).
inline void linear_backward_operands(const Tensor& x, const Tensor& w, const Tensor& grad) {
  const Shape out = linear_shape(x, w);
  check_float(grad, "linear backward", "grad");
  check_same_dtype(x, grad, "linear backward");
  KCORE_CHECK(grad.shape() == out, "linear backward: gradient of shape " << shape_str(grad.shape())
                                                                         << " does not match the output shape "
                                                                         << shape_str(out));
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
    shape[axis] = KCORE_CHECKED_ADD(shape[axis], t.shape()[axis], "the concatenated axis " << axis);
  }
  return shape;
}

// x viewed as (outer, channels, inner) around `axis`, for per-channel statistics.
struct ChannelGeometry {
  int64_t outer, channels, inner;
};

// A per-channel (or per-row) parameter tensor and its name for error messages.
struct NamedParam {
  const char* name;
  const Tensor& t;
};

// Each parameter holds exactly `n` values of x's dtype (`per` says what they are counted over).
inline void check_param_sizes(const Tensor& x, int64_t n, std::initializer_list<NamedParam> params, const char* op,
                              const char* per) {
  for (const auto& p : params) {
    KCORE_CHECK(p.t.defined(), op << ": " << p.name << " is undefined");
    KCORE_CHECK(p.t.numel() == n, op << ": " << p.name << " of shape " << shape_str(p.t.shape()) << " has "
                                     << p.t.numel() << " values, expected one per " << per << " (" << n << ") of input "
                                     << shape_str(x.shape()));
    check_same_dtype(x, p.t, op);
  }
}

inline ChannelGeometry channel_geometry(const Tensor& x, int64_t axis, std::initializer_list<NamedParam> params,
                                        const char* op) {
  check_float(x, op, "x");
  axis = normalize_axis(axis, x.ndim(), op);
  ChannelGeometry g{1, x.shape()[axis], 1};
  for (int64_t d = 0; d < axis; ++d) g.outer *= x.shape()[d];
  for (int64_t d = axis + 1; d < x.ndim(); ++d) g.inner *= x.shape()[d];
  check_param_sizes(x, g.channels, params, op, "channel");
  return g;
}

// Layer normalisation over the trailing `d` values of x: the number of rows, with gamma/beta
// (`params`) of d values each checked.
inline int64_t layer_norm_rows(const Tensor& x, int64_t d, std::initializer_list<NamedParam> params, const char* op) {
  check_float(x, op, "x");
  KCORE_CHECK(d > 0 && x.numel() % d == 0,
              op << ": the normalised size " << d << " does not divide input " << shape_str(x.shape()));
  check_param_sizes(x, d, params, op, "normalised value");
  return x.numel() / d;
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

// Offset (in elements) of matrix `i` of a GEMM operand t whose batch axes broadcast to `batch`.
inline int64_t batch_offset(const Tensor& t, const Shape& batch, int64_t i) {
  const int64_t lead = (int64_t)batch.size() - (t.ndim() - 2);
  int64_t off = 0;
  for (int64_t d = (int64_t)batch.size() - 1; d >= 0; --d) {
    const int64_t idx = i % batch[d];
    i /= batch[d];
    const int64_t td = d - lead;
    if (td >= 0 && t.shape()[td] != 1) off += idx * t.strides()[td];
  }
  return off;
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
