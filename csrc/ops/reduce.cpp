// Reductions and softmax: the device-independent entry points (checks, layouts, outputs).
#include "ops/reduce.h"

#include <algorithm>
#include <cmath>

#include "ops/arguments.h"
#include "ops/elementwise.h"
#include "ops/op_call.h"

namespace kcore {

namespace {
// x with the reduced axes last, packed: (outer, red) rows (a copy only when they are not already last).
Tensor reduced_axes_last(const Tensor& x, const Shape& axes, int64_t* outer, int64_t* red) {
  Shape shape, strides;
  *outer = 1;
  *red = 1;
  for (int64_t d = 0; d < x.ndim(); ++d)
    if (!std::binary_search(axes.begin(), axes.end(), d)) {
      shape.push_back(x.shape()[d]);
      strides.push_back(x.strides()[d]);
      *outer *= x.shape()[d];
    }
  for (auto d : axes) {
    shape.push_back(x.shape()[d]);
    strides.push_back(x.strides()[d]);
    *red *= x.shape()[d];
  }
  return x.as_strided(shape, strides, x.offset()).contiguous();
}
}  // namespace

Tensor reduce(ReduceOp op, const Tensor& x_in, Shape axes, bool keepdims) {
  OpCall call("reduce", x_in);
  auto kernel = KCORE_KERNEL(call, reduce);
  const char* name = reduce_name(op);
  check_float(x_in, name, "x");
  axes = normalized_axes(axes, x_in.ndim(), name);
  Shape out_shape = reduced_shape(x_in.shape(), axes, keepdims);
  int64_t outer, red;
  Tensor x = reduced_axes_last(x_in, axes, &outer, &red);
  if (red == 0) {
    KCORE_CHECK(op == ReduceOp::sum || op == ReduceOp::mean || outer == 0,
                name << ": zero-size reduction of shape " << shape_str(x_in.shape()) << " has no identity");
    return Tensor::full(out_shape, x.dtype(), op == ReduceOp::sum ? 0.0 : std::nan(""), call.device());
  }
  Tensor out = call.empty(out_shape, x.dtype());
  if (outer > 0) kernel(op, x, outer, red, out);
  return out;
}

// Built from other ops; max / min share the gradient equally among the elements attaining the extremum.
Tensor reduce_backward(ReduceOp op, const Tensor& x, const Tensor& y, const Tensor& grad, Shape axes, bool keepdims) {
  OpCall call("reduce_backward", x, y, grad);
  const char* name = reduce_name(op);
  axes = normalized_axes(axes, x.ndim(), name);
  Shape kept = reduced_shape(x.shape(), axes, true);
  Tensor g = grad.contiguous().view(kept);
  int64_t count = 1;
  for (auto a : axes) count *= x.shape()[a];
  if (op == ReduceOp::sum) return broadcast_to(g, x.shape());
  if (op == ReduceOp::mean) return broadcast_to(scale(g, 1.0 / double(std::max<int64_t>(count, 1))), x.shape());
  auto kernel = KCORE_KERNEL(call, extremum_hits);
  Tensor xb = x.contiguous();
  Tensor yb = broadcast_to(y.contiguous().view(kept), x.shape());
  Tensor hits = call.empty(x.shape(), x.dtype());
  if (x.numel() > 0) kernel(xb, yb, hits);
  Tensor ties = reduce(ReduceOp::sum, hits, axes, true);
  return binary(BinaryOp::multiply, hits, binary(BinaryOp::divide, g, ties));
}

Tensor argmax(const Tensor& x_in, int64_t axis, bool keepdims) {
  OpCall call("argmax", x_in);
  auto kernel = KCORE_KERNEL(call, argmax);
  check_float(x_in, "argmax", "x");
  axis = normalize_axis(axis, x_in.ndim(), "argmax");
  KCORE_CHECK(x_in.shape()[axis] > 0, "argmax: attempt to get argmax of an empty axis");
  int64_t outer, red;
  Tensor x = reduced_axes_last(x_in, {axis}, &outer, &red);
  Tensor out = call.empty(reduced_shape(x_in.shape(), {axis}, keepdims), DType::i64);
  if (outer > 0) kernel(x, outer, red, out);
  return out;
}

Tensor softmax(const Tensor& x_in, int64_t axis, bool log) {
  OpCall call("softmax", x_in);
  auto kernel = KCORE_KERNEL(call, softmax);
  check_float(x_in, log ? "log_softmax" : "softmax", "x");
  axis = normalize_axis(axis, x_in.ndim(), "softmax");
  Tensor x = x_in.contiguous();
  Tensor out = call.empty(x.shape(), x.dtype());
  int64_t outer, n, inner;
  arguments::axis_geometry(x, axis, &outer, &n, &inner);
  if (outer * inner > 0 && n > 0) kernel(x, outer, n, inner, log, out);
  return out;
}

Tensor softmax_backward(const Tensor& y_in, const Tensor& g_in, int64_t axis, bool log) {
  OpCall call("softmax_backward", y_in, g_in);
  auto kernel = KCORE_KERNEL(call, softmax_backward);
  check_same_shape(y_in, g_in, "softmax backward");
  axis = normalize_axis(axis, y_in.ndim(), "softmax");
  Tensor y = y_in.contiguous(), g = g_in.contiguous();
  Tensor out = call.empty(y.shape(), y.dtype());
  int64_t outer, n, inner;
  arguments::axis_geometry(y, axis, &outer, &n, &inner);
  if (outer * inner > 0 && n > 0) kernel(y, g, outer, n, inner, log, out);
  return out;
}

}  // namespace kcore
