// Shape ops: the device-independent entry points. transpose / reshape / slice are views built on
// the device-aware Tensor methods (no kernel); the others route to their device's kernel.
#include "ops/shape.h"

#include <algorithm>

#include "ops/arguments.h"
#include "ops/op_call.h"

namespace kcore {

Tensor transpose(const Tensor& x, const Shape& perm) {
  OpScope scope("transpose");
  KCORE_CHECK((int64_t)perm.size() == x.ndim(),
              "transpose: axes " << shape_str(perm) << " do not match a tensor of rank " << x.ndim());
  Shape shape(perm.size()), strides(perm.size());
  std::vector<bool> seen(perm.size(), false);
  for (size_t i = 0; i < perm.size(); ++i) {
    int64_t p = normalize_axis(perm[i], x.ndim(), "transpose");
    KCORE_CHECK(!seen[p], "transpose: repeated axis in " << shape_str(perm));
    seen[p] = true;
    shape[i] = x.shape()[p];
    strides[i] = x.strides()[p];
  }
  return x.as_strided(shape, strides, x.offset());
}

Tensor reshape(const Tensor& x, Shape shape) {
  OpScope scope("reshape");
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      KCORE_CHECK(infer < 0, "reshape: only one dimension can be -1, got " << shape_str(shape));
      infer = (int64_t)i;
    } else {
      KCORE_CHECK(shape[i] >= 0, "reshape: invalid dimension in " << shape_str(shape));
      known = KCORE_CHECKED_MUL(known, shape[i], "the target shape " << shape_str(shape));
    }
  }
  if (infer >= 0) {
    KCORE_CHECK(known > 0 && x.numel() % known == 0, "reshape: cannot reshape a tensor of shape "
                                                         << shape_str(x.shape()) << " (" << x.numel()
                                                         << " elements) into shape " << shape_str(shape));
    shape[infer] = x.numel() / known;
  }
  KCORE_CHECK(shape_numel(shape) == x.numel(), "reshape: cannot reshape a tensor of shape "
                                                   << shape_str(x.shape()) << " (" << x.numel()
                                                   << " elements) into shape " << shape_str(shape));
  return x.contiguous().view(shape);
}

Tensor slice(const Tensor& x, const Shape& start, const Shape& stop, const Shape& step) {
  OpScope scope("slice");
  KCORE_CHECK((int64_t)start.size() == x.ndim() && stop.size() == start.size() && step.size() == start.size(),
              "slice: expected one start/stop/step per axis of a tensor of rank " << x.ndim());
  Shape shape(x.ndim()), strides(x.ndim());
  int64_t offset = x.offset();
  for (int64_t d = 0; d < x.ndim(); ++d) {
    KCORE_CHECK(step[d] > 0, "slice: steps must be positive");
    KCORE_CHECK(0 <= start[d] && start[d] <= stop[d] && stop[d] <= x.shape()[d],
                "slice: range [" << start[d] << ":" << stop[d] << "] is out of bounds for axis " << d << " of size "
                                 << x.shape()[d]);
    shape[d] = stop[d] == start[d] ? 0 : (stop[d] - start[d] - 1) / step[d] + 1;
  }
  if (shape_numel(shape) == 0) return x.as_strided(shape, x.strides(), x.offset());  // strides unused
  // a non-empty window: every stride and offset below stays within x's own (existing) extent
  for (int64_t d = 0; d < x.ndim(); ++d) {
    strides[d] = shape[d] > 1 ? x.strides()[d] * step[d] : x.strides()[d];
    offset += start[d] * x.strides()[d];
  }
  return x.as_strided(shape, strides, offset);
}

Tensor concatenate(const std::vector<Tensor>& xs, int64_t axis) {
  OpCall call("concatenate", xs);
  auto kernel = KCORE_KERNEL(call, concatenate);
  Shape shape = arguments::concatenate_shape(xs, axis);
  Tensor out = call.empty(shape, xs[0].dtype());
  if (out.numel() > 0) kernel(xs, axis, out);  // axis normalised by concatenate_shape
  return out;
}

// The gradient lands in the window the slice read: a strided copy into zeros, on any device.
Tensor slice_backward(const Tensor& grad, const Shape& in_shape, const Shape& start, const Shape& step) {
  OpCall call("slice_backward", grad);
  KCORE_CHECK(
      grad.ndim() == (int64_t)in_shape.size() && start.size() == in_shape.size() && step.size() == in_shape.size(),
      "slice backward: gradient of shape " << shape_str(grad.shape()) << " does not match input shape "
                                           << shape_str(in_shape));
  Tensor out = call.zeros(in_shape, grad.dtype());
  Shape stop(in_shape.size());
  for (size_t d = 0; d < in_shape.size(); ++d) {
    KCORE_CHECK(step[d] > 0 && start[d] >= 0 && start[d] <= in_shape[d],
                "slice backward: start " << start[d] << " / step " << step[d] << " do not fit axis " << d << " of size "
                                         << in_shape[d]);
    // the last selected index is start + (n - 1) * step; the window stops right after it
    const int64_t n = grad.shape()[d];
    stop[d] = n == 0 ? start[d]
                     : std::min(in_shape[d],
                                KCORE_CHECKED_ADD(start[d], KCORE_CHECKED_MUL(n - 1, step[d], "the slice window"),
                                                  "the slice window") +
                                    1);
  }
  Tensor window = slice(out, start, stop, step);
  window.copy_from(grad);
  return out;
}

Tensor take_rows(const Tensor& x_in, const Tensor& indices) {
  OpCall call("take_rows", x_in, indices);
  auto kernel = KCORE_KERNEL(call, take_rows);
  const Shape shape = arguments::take_rows_shape(x_in, indices);
  Tensor out = call.empty(shape, x_in.dtype());
  if (out.numel() > 0) kernel(x_in.contiguous(), indices.contiguous(), out);
  return out;
}

Tensor take_rows_backward(const Tensor& grad_in, const Tensor& indices, int64_t num_rows) {
  OpCall call("take_rows_backward", grad_in, indices);
  auto kernel = KCORE_KERNEL(call, take_rows_backward);
  check_float(grad_in, "take backward", "grad");
  const Tensor& g = grad_in;
  KCORE_CHECK(
      g.ndim() >= indices.ndim() && std::equal(indices.shape().begin(), indices.shape().end(), g.shape().begin()),
      "take backward: gradient of shape " << shape_str(g.shape()) << " does not start with the indices' shape "
                                          << shape_str(indices.shape()));
  Shape shape{num_rows};
  for (int64_t d = indices.ndim(); d < g.ndim(); ++d) shape.push_back(g.shape()[d]);
  Tensor out = call.zeros(shape, g.dtype());
  if (indices.numel() > 0 && g.numel() > 0) kernel(g.contiguous(), indices.contiguous(), out);
  return out;
}

}  // namespace kcore
