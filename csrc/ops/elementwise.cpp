// Elementwise ops: the device-independent entry points. Each names the op, routes to the operands'
// device (ops/op_call.h) and calls that device's kernel.
#include "ops/elementwise.h"

#include <algorithm>

#include "ops/op_call.h"

namespace kcore {

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  size_t nd = std::max(a.size(), b.size());
  Shape out(nd);
  for (size_t i = 0; i < nd; ++i) {
    int64_t da = i < nd - a.size() ? 1 : a[i - (nd - a.size())];
    int64_t db = i < nd - b.size() ? 1 : b[i - (nd - b.size())];
    KCORE_CHECK(da == db || da == 1 || db == 1,
                op << ": operands could not be broadcast together with shapes " << shape_str(a) << " and "
                   << shape_str(b));
    out[i] = da == 1 ? db : da;
  }
  return out;
}

Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b) {
  OpCall call("binary", a, b);
  return KCORE_KERNEL(call, binary)(op, a, b);
}

std::pair<Tensor, Tensor> binary_backward(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& grad,
                                          bool need_a, bool need_b) {
  OpCall call("binary_backward", a, b, grad);
  return KCORE_KERNEL(call, binary_backward)(op, a, b, grad, need_a, need_b);
}

Tensor unary(UnaryOp op, const Tensor& x, double alpha) {
  OpCall call("unary", x);
  return KCORE_KERNEL(call, unary)(op, x, alpha);
}

Tensor unary_backward(UnaryOp op, const Tensor& x, const Tensor& y, const Tensor& grad, double alpha) {
  OpCall call("unary_backward", x, y, grad);
  return KCORE_KERNEL(call, unary_backward)(op, x, y, grad, alpha);
}

Tensor compare(CompareOp op, const Tensor& a, const Tensor& b) {
  OpCall call("compare", a, b);
  return KCORE_KERNEL(call, compare)(op, a, b);
}

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  OpCall call("where", cond, a, b);
  return KCORE_KERNEL(call, where)(cond, a, b);
}

Tensor clip(const Tensor& x, double lo, double hi) {
  OpCall call("clip", x);
  return KCORE_KERNEL(call, clip)(x, lo, hi);
}

Tensor clip_backward(const Tensor& x, const Tensor& grad, double lo, double hi) {
  OpCall call("clip_backward", x, grad);
  return KCORE_KERNEL(call, clip_backward)(x, grad, lo, hi);
}

Tensor sum_to_shape(const Tensor& grad, const Shape& shape) {
  OpCall call("sum_to_shape", grad);
  return KCORE_KERNEL(call, sum_to_shape)(grad, shape);
}

Tensor broadcast_to(const Tensor& x, const Shape& shape) {
  OpCall call("broadcast_to", x);
  return KCORE_KERNEL(call, broadcast_to)(x, shape);
}

Tensor scale(const Tensor& x, double s) {
  OpCall call("scale", x);
  return KCORE_KERNEL(call, scale)(x, s);
}

bool has_nonfinite(const Tensor& x) {
  OpCall call("has_nonfinite", x);
  return KCORE_KERNEL(call, has_nonfinite)(x);
}

}  // namespace kcore
