// Elementwise ops: the device-independent entry points. Each names the op, routes to the operands'
// device (ops/op_call.h) and calls that device's kernel.
#include "ops/elementwise.h"

#include <algorithm>

#include "ops/op_call.h"
#include "ops/reduce.h"

namespace kcore {

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  size_t nd = std::max(a.size(), b.size());
  Shape out(nd);
  for (size_t i = 0; i < nd; ++i) {
    int64_t da = i < nd - a.size() ? 1 : a[i - (nd - a.size())];
    int64_t db = i < nd - b.size() ? 1 : b[i - (nd - b.size())];
    KCORE_CHECK(da == db || da == 1 || db == 1, op << ": operands could not be broadcast together with shapes "
                                                   << shape_str(a) << " and " << shape_str(b));
    out[i] = da == 1 ? db : da;
  }
  return out;
}

Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b) {
  OpCall call("binary", a, b);
  auto kernel = KCORE_KERNEL(call, binary);
  const char* name = binary_name(op);
  check_float(a, name, "x1");
  check_float(b, name, "x2");
  check_same_dtype(a, b, name);
  Tensor out = call.empty(broadcast_shapes(a.shape(), b.shape(), name), a.dtype());
  if (out.numel() > 0) kernel(op, a, b, out);
  return out;
}

std::pair<Tensor, Tensor> binary_backward(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& grad,
                                          bool need_a, bool need_b) {
  OpCall call("binary_backward", a, b, grad);
  auto kernel = KCORE_KERNEL(call, binary_backward);
  const char* name = binary_name(op);
  check_same_dtype(a, grad, name);
  check_same_dtype(b, grad, name);
  Shape shape = broadcast_shapes(a.shape(), b.shape(), name);
  KCORE_CHECK(grad.shape() == shape, name << " backward: gradient shape " << shape_str(grad.shape())
                                          << " does not match output shape " << shape_str(shape));
  Tensor ga, gb;
  if (need_a) ga = call.empty(shape, grad.dtype());
  if (need_b) gb = call.empty(shape, grad.dtype());
  if (shape_numel(shape) > 0) kernel(op, a, b, grad, ga, gb);
  if (need_a) ga = sum_to_shape(ga, a.shape());
  if (need_b) gb = sum_to_shape(gb, b.shape());
  return {ga, gb};
}

namespace {
// x (and grad) contiguous, and an output like x, for the same-shape elementwise ops.
struct SameShape {
  Tensor x, grad, out;
};
SameShape same_shape_operands(const OpCall& call, const Tensor& x, const Tensor* grad, const char* op) {
  if (grad) {
    check_same_shape(x, *grad, op);
    check_same_dtype(x, *grad, op);
  }
  SameShape r{x.contiguous(), grad ? grad->contiguous() : Tensor(), Tensor()};
  r.out = call.empty(x.shape(), x.dtype());
  return r;
}
}  // namespace

Tensor unary(UnaryOp op, const Tensor& x, double alpha) {
  OpCall call("unary", x);
  auto kernel = KCORE_KERNEL(call, unary);
  check_float(x, "unary", "x");
  SameShape t = same_shape_operands(call, x, nullptr, "unary");
  if (x.numel() > 0) kernel(op, t.x, alpha, t.out);
  return t.out;
}

Tensor unary_backward(UnaryOp op, const Tensor& x, const Tensor& y, const Tensor& grad, double alpha) {
  OpCall call("unary_backward", x, y, grad);
  auto kernel = KCORE_KERNEL(call, unary_backward);
  check_float(grad, "unary backward", "grad");
  check_same_shape(y, grad, "unary backward");
  check_same_dtype(y, grad, "unary backward");
  SameShape t = same_shape_operands(call, x, &grad, "unary backward");
  if (x.numel() > 0) kernel(op, t.x, y.contiguous(), t.grad, alpha, t.out);
  return t.out;
}

Tensor compare(CompareOp op, const Tensor& a, const Tensor& b) {
  OpCall call("compare", a, b);
  auto kernel = KCORE_KERNEL(call, compare);
  const char* name = compare_name(op);
  check_same_dtype(a, b, name);
  Tensor out = call.empty(broadcast_shapes(a.shape(), b.shape(), name), DType::b8);
  if (out.numel() > 0) kernel(op, a, b, out);
  return out;
}

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  OpCall call("where", cond, a, b);
  auto kernel = KCORE_KERNEL(call, where);
  KCORE_CHECK(cond.dtype() == DType::b8, "where: condition must be a bool tensor, got " << dtype_name(cond.dtype()));
  check_same_dtype(a, b, "where");
  Shape shape = broadcast_shapes(broadcast_shapes(cond.shape(), a.shape(), "where"), b.shape(), "where");
  Tensor out = call.empty(shape, a.dtype());
  if (out.numel() > 0) kernel(cond, a, b, out);
  return out;
}

Tensor clip(const Tensor& x, double lo, double hi) {
  OpCall call("clip", x);
  auto kernel = KCORE_KERNEL(call, clip);
  check_float(x, "clip", "x");
  SameShape t = same_shape_operands(call, x, nullptr, "clip");
  if (x.numel() > 0) kernel(t.x, lo, hi, t.out);
  return t.out;
}

Tensor clip_backward(const Tensor& x, const Tensor& grad, double lo, double hi) {
  OpCall call("clip_backward", x, grad);
  auto kernel = KCORE_KERNEL(call, clip_backward);
  check_float(x, "clip backward", "x");
  SameShape t = same_shape_operands(call, x, &grad, "clip backward");
  if (x.numel() > 0) kernel(t.x, t.grad, lo, hi, t.out);
  return t.out;
}

Tensor sum_to_shape(const Tensor& grad, const Shape& shape) {
  OpCall call("sum_to_shape", grad);  // composite: routes through reduce
  if (grad.shape() == shape) return grad;
  const int64_t lead = grad.ndim() - (int64_t)shape.size();
  KCORE_CHECK(lead >= 0, "sum_to_shape: cannot reduce " << shape_str(grad.shape()) << " to " << shape_str(shape));
  Shape axes;
  for (int64_t d = 0; d < grad.ndim(); ++d)
    if (d < lead || (shape[d - lead] == 1 && grad.shape()[d] != 1)) axes.push_back(d);
  if (axes.empty()) return grad.contiguous().view(shape);
  return reduce(ReduceOp::sum, grad, axes, false).contiguous().view(shape);
}

Tensor broadcast_to(const Tensor& x, const Shape& shape) {
  OpCall call("broadcast_to", x);
  auto kernel = KCORE_KERNEL(call, broadcast_to);
  Shape s = broadcast_shapes(x.shape(), shape, "broadcast_to");
  KCORE_CHECK(s == shape, "broadcast_to: cannot broadcast " << shape_str(x.shape()) << " to " << shape_str(shape));
  Tensor out = call.empty(shape, x.dtype());
  if (out.numel() > 0) kernel(x, out);
  return out;
}

Tensor scale(const Tensor& x, double s) {
  OpCall call("scale", x);
  auto kernel = KCORE_KERNEL(call, scale);
  check_float(x, "scale", "x");
  SameShape t = same_shape_operands(call, x, nullptr, "scale");
  if (x.numel() > 0) kernel(t.x, s, t.out);
  return t.out;
}

bool has_nonfinite(const Tensor& x) {
  OpCall call("has_nonfinite", x);
  auto kernel = KCORE_KERNEL(call, has_nonfinite);
  if (!is_floating(x.dtype()) || x.numel() == 0) return false;
  return kernel(x.contiguous());
}

}  // namespace kcore
