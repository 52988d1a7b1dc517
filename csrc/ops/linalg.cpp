// Matrix products: the device-independent entry points (checks, operand layouts, outputs).
#include "ops/linalg.h"

#include <utility>

#include "ops/arguments.h"
#include "ops/elementwise.h"
#include "ops/float_compute.h"
#include "ops/op_call.h"

namespace kcore {

namespace {
// The helpers below return a reference: to `t` itself when it already has the form (no Tensor copy, so
// no shape/stride allocation for a small Dense step), else to the reshaped or packed tensor they store
// in `holder`.

// t as a GEMM operand: itself when row-major or a transposed view, else a packed copy.
const Tensor& gemm_operand(const Tensor& t, Tensor& holder) {
  if (arguments::layout_of(t).ok) return t;
  return holder = t.contiguous();
}

// t's rows as a row-major matrix (all leading axes folded into one).
const Tensor& matrix_rows(const Tensor& t, Tensor& holder) {
  if (t.ndim() == 2 && t.is_contiguous()) return t;
  holder = t.contiguous();
  return holder = holder.view(arguments::as_rows(holder.shape()));
}

Tensor as_gemm_operand(const Tensor& t) {
  Tensor holder;
  return gemm_operand(t, holder);
}

// The view of x with its last two axes swapped (no copy).
Tensor swap_last_two(const Tensor& x) {
  Shape shape = x.shape(), strides = x.strides();
  std::swap(shape[x.ndim() - 1], shape[x.ndim() - 2]);
  std::swap(strides[x.ndim() - 1], strides[x.ndim() - 2]);
  return x.as_strided(shape, strides, x.offset());
}
}  // namespace

Tensor matmul(const Tensor& a_in, const Tensor& b_in) {
  OpCall call("matmul", a_in, b_in);
  auto kernel = KCORE_KERNEL(call, matmul);
  arguments::matmul_operands(a_in, b_in);
  Tensor a = as_gemm_operand(a_in), b = as_gemm_operand(b_in);
  // A stack of row-major matrices times one matrix is a single tall GEMM.
  if (b.ndim() == 2 && a.ndim() > 2 && a.is_contiguous()) {
    Tensor r = matmul(a.view(arguments::as_rows(a.shape())), b);
    Shape s = a.shape();
    s.back() = b.dim(-1);
    return r.view(s);
  }
  Shape ab(a.shape().begin(), a.shape().end() - 2), bb(b.shape().begin(), b.shape().end() - 2);
  Shape batch = broadcast_shapes(ab, bb, "matmul");
  Shape shape = batch;
  shape.push_back(a.dim(-2));
  shape.push_back(b.dim(-1));
  Tensor out = call.empty(shape, a.dtype());
  if (out.numel() > 0) kernel(a, b, batch, out);
  return out;
}

// Built from matmul on transposed views; the batch broadcast is summed back to each operand's shape
// (in float32 for bfloat16 operands: the sums have no bfloat16 kernel).
std::pair<Tensor, Tensor> matmul_backward(const Tensor& a, const Tensor& b, const Tensor& grad, bool need_a,
                                          bool need_b) {
  OpCall call("matmul_backward", a, b, grad);
  Tensor ga, gb;
  if (need_a) ga = float_compute(sum_to_shape, matmul(grad, swap_last_two(b)), a.shape());
  if (need_b) {
    if (b.ndim() == 2 && a.ndim() > 2) {
      Tensor a2 = a.contiguous().view(arguments::as_rows(a.shape()));
      Tensor g2 = grad.contiguous().view(arguments::as_rows(grad.shape()));
      gb = matmul(swap_last_two(a2), g2);
    } else {
      gb = float_compute(sum_to_shape, matmul(swap_last_two(a), grad), b.shape());
    }
  }
  return {ga, gb};
}

Tensor linear(const Tensor& x_in, const Tensor& w, const OptionalTensor& bias_in) {
  OpCall call("linear", x_in, w, bias_in);
  auto kernel = KCORE_KERNEL(call, linear);
  const Shape shape = arguments::linear_shape(x_in, w);
  const int64_t n = w.dim(1);
  Tensor bias;
  if (bias_in.defined()) {
    check_same_dtype(x_in, bias_in, "linear");
    KCORE_CHECK(bias_in.numel() == n,
                "linear: bias of shape " << shape_str(bias_in.shape()) << " does not match " << n << " units");
    bias = bias_in.contiguous();
  }
  Tensor out = call.empty(shape, x_in.dtype());
  Tensor x_rows, w_packed;
  if (out.numel() > 0) kernel(matrix_rows(x_in, x_rows), gemm_operand(w, w_packed), bias, out);
  return out;
}

std::tuple<Tensor, Tensor, Tensor> linear_backward(const Tensor& x_in, const Tensor& w, const Tensor& grad_in,
                                                   bool need_x, bool need_bias) {
  OpCall call("linear_backward", x_in, w, grad_in);
  auto kernel = KCORE_KERNEL(call, linear_backward);
  arguments::linear_backward_operands(x_in, w, grad_in);
  Tensor gx, gw = call.empty(w.shape(), w.dtype()), gb;
  if (need_x) gx = call.empty(x_in.shape(), x_in.dtype());
  Tensor x_rows, g_rows, gx_rows, w_packed;
  const Tensor& g = matrix_rows(grad_in, g_rows);
  if (need_x && gx.ndim() != 2) gx_rows = gx.view(arguments::as_rows(gx.shape()));
  Tensor& gx_matrix = gx_rows.defined() ? gx_rows : gx;  // gx (undefined when not needed) or its rows
  if (gw.numel() > 0 || (need_x && gx.numel() > 0))
    kernel(matrix_rows(x_in, x_rows), gemm_operand(w, w_packed), g, gw, gx_matrix);
  if (need_bias) gb = float_compute(sum_rows, g);
  return {gx, gw, gb};
}

Tensor sum_rows(const Tensor& x_in) {
  OpCall call("sum_rows", x_in);
  auto kernel = KCORE_KERNEL(call, sum_rows);
  check_float(x_in, "sum_rows", "x");
  KCORE_CHECK(x_in.ndim() >= 1, "sum_rows: x must have at least one axis");
  Tensor xh;
  const Tensor& x = x_in.contiguous(xh);
  const int64_t cols = x.dim(-1), rows = arguments::as_rows(x.shape())[0];
  Tensor out = call.empty({cols}, x.dtype());
  if (cols > 0) kernel(x, rows, cols, out);
  return out;
}

}  // namespace kcore
