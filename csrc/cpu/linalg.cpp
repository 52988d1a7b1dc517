#include "ops/linalg.h"

#include <cstring>

#include "core/blas.h"
#include "core/parallel.h"
#include "ops/elementwise.h"
#include "ops/shape.h"
#include "ops/arguments.h"

namespace kcore::cpu {

namespace {
using arguments::MatrixLayout;
using arguments::layout_of;


// Offset (in elements) of batch item `i` of t, where the batch index space is `batch`.
int64_t batch_offset(const Tensor& t, const Shape& batch, int64_t i) {
  const int64_t tb = t.ndim() - 2;
  const int64_t lead = (int64_t)batch.size() - tb;
  int64_t off = 0;
  for (int64_t d = (int64_t)batch.size() - 1; d >= 0; --d) {
    int64_t idx = i % batch[d];
    i /= batch[d];
    int64_t td = d - lead;
    if (td >= 0 && t.shape()[td] != 1) off += idx * t.strides()[td];
  }
  return off;
}

template <typename T>
void batched_gemm(const Tensor& a, const Tensor& b, Tensor& out, const Shape& batch) {
  MatrixLayout la = layout_of(a), lb = layout_of(b);
  const int64_t m = a.dim(-2), k = a.dim(-1), n = b.dim(-1);
  int64_t nb = shape_numel(batch);
  T* o = out.data<T>();
  const T* ap = static_cast<const T*>(a.storage()->data) + a.offset();
  const T* bp = static_cast<const T*>(b.storage()->data) + b.offset();
  if (k == 0) {
    std::memset(o, 0, out.numel() * sizeof(T));
    return;
  }
  for (int64_t i = 0; i < nb; ++i)
    gemm<T>(la.trans, lb.trans, m, n, k, T(1), ap + batch_offset(a, batch, i), la.ld, bp + batch_offset(b, batch, i),
            lb.ld, T(0), o + i * m * n, n);
}

Tensor as_gemm_operand(const Tensor& t) { return layout_of(t).ok ? t : t.contiguous(); }
}  // namespace

Tensor matmul(const Tensor& a_in, const Tensor& b_in) {
  arguments::matmul_operands(a_in, b_in);
  Tensor a = as_gemm_operand(a_in), b = as_gemm_operand(b_in);
  // A stack of row-major matrices times one matrix is a single tall GEMM.
  if (b.ndim() == 2 && a.ndim() > 2 && a.is_contiguous()) {
    Tensor a2 = a.view(arguments::as_rows(a.shape()));
    Tensor r = cpu::matmul(a2, b);
    Shape s = a.shape();
    s.back() = b.dim(-1);
    return r.view(s);
  }
  Shape ab(a.shape().begin(), a.shape().end() - 2), bb(b.shape().begin(), b.shape().end() - 2);
  Shape batch = broadcast_shapes(ab, bb, "matmul");
  Shape shape = batch;
  shape.push_back(a.dim(-2));
  shape.push_back(b.dim(-1));
  Tensor out = Tensor::empty(shape, a.dtype());
  dispatch_float(a.dtype(), "matmul", [&](auto tag) { batched_gemm<decltype(tag)>(a, b, out, batch); });
  return out;
}

std::pair<Tensor, Tensor> matmul_backward(const Tensor& a, const Tensor& b, const Tensor& grad, bool need_a,
                                          bool need_b) {
  auto t = [](const Tensor& x) {
    std::vector<int64_t> perm(x.ndim());
    for (int64_t i = 0; i < x.ndim(); ++i) perm[i] = i;
    std::swap(perm[x.ndim() - 1], perm[x.ndim() - 2]);
    return transpose(x, perm);
  };
  Tensor ga, gb;
  if (need_a) ga = cpu::sum_to_shape(cpu::matmul(grad, t(b)), a.shape());
  if (need_b) {
    if (b.ndim() == 2 && a.ndim() > 2) {
      Tensor a2 = a.contiguous().view(arguments::as_rows(a.shape()));
      Tensor g2 = grad.contiguous().view(arguments::as_rows(grad.shape()));
      gb = cpu::matmul(t(a2), g2);
    } else {
      gb = cpu::sum_to_shape(cpu::matmul(t(a), grad), b.shape());
    }
  }
  return {ga, gb};
}

Tensor linear(const Tensor& x_in, const Tensor& w, const Tensor& bias) {
  const Shape shape = arguments::linear_shape(x_in, w);
  const int64_t k = w.dim(0), n = w.dim(1);
  Tensor x = x_in.contiguous();
  const int64_t m = arguments::as_rows(x.shape())[0];  // k may be 0: rows still come from the shape
  Tensor out = Tensor::empty(shape, x.dtype());
  Tensor wc = as_gemm_operand(w);
  MatrixLayout lw = layout_of(wc);
  dispatch_float(x.dtype(), "linear", [&](auto tag) {
    using T = decltype(tag);
    T* o = out.data<T>();
    T beta = T(0);
    if (bias.defined()) {
      check_same_dtype(x, bias, "linear");
      KCORE_CHECK(bias.numel() == n, "linear: bias of shape " << shape_str(bias.shape()) << " does not match " << n
                                                              << " units");
      Tensor bc = bias.contiguous();
      const T* bp = bc.data<T>();
      parallel_for(m, 256, [&](int64_t lo, int64_t hi) {
        for (int64_t r = lo; r < hi; ++r) std::memcpy(o + r * n, bp, n * sizeof(T));
      });
      beta = T(1);
    } else if (k == 0) {
      std::memset(o, 0, out.numel() * sizeof(T));
    }
    if (k > 0) gemm<T>(false, lw.trans, m, n, k, T(1), x.data<T>(), k, wc.data<T>(), lw.ld, beta, o, n);
  });
  return out;
}

Tensor sum_rows(const Tensor& x_in) {
  check_float(x_in, "sum_rows", "x");
  KCORE_CHECK(x_in.ndim() >= 1, "sum_rows: x must have at least one axis");
  Tensor x = x_in.contiguous();
  const int64_t cols = x.dim(-1), rows = arguments::as_rows(x.shape())[0];
  Tensor out = Tensor::empty({cols}, x.dtype());
  dispatch_float(x.dtype(), "sum_rows", [&](auto tag) {
    using T = decltype(tag);
    const T* p = x.data<T>();
    T* o = out.data<T>();
    parallel_for(cols, 64, [&](int64_t lo, int64_t hi) {
      std::vector<double> acc(hi - lo, 0.0);
      for (int64_t r = 0; r < rows; ++r) {
        const T* row = p + r * cols + lo;
        for (int64_t c = 0; c < hi - lo; ++c) acc[c] += row[c];
      }
      for (int64_t c = lo; c < hi; ++c) o[c] = T(acc[c - lo]);
    });
  });
  return out;
}

std::tuple<Tensor, Tensor, Tensor> linear_backward(const Tensor& x_in, const Tensor& w, const Tensor& grad_in,
                                                   bool need_x, bool need_bias) {
  arguments::linear_backward_operands(x_in, w, grad_in);
  const int64_t k = w.dim(0), n = w.dim(1);
  Tensor x = x_in.contiguous(), g = grad_in.contiguous();
  const int64_t m = arguments::as_rows(x.shape())[0];
  Tensor gx, gw = Tensor::empty(w.shape(), w.dtype()), gb;
  Tensor wc = as_gemm_operand(w);
  MatrixLayout lw = layout_of(wc);
  dispatch_float(x.dtype(), "linear backward", [&](auto tag) {
    using T = decltype(tag);
    // grad_w = x^T @ g
    if (m == 0) std::memset(gw.data<T>(), 0, gw.numel() * sizeof(T));
    else gemm<T>(true, false, k, n, m, T(1), x.data<T>(), k, g.data<T>(), n, T(0), gw.data<T>(), n);
    if (need_x) {
      gx = Tensor::empty(x.shape(), x.dtype());
      if (n == 0) std::memset(gx.data<T>(), 0, gx.numel() * sizeof(T));
      else gemm<T>(false, !lw.trans, m, k, n, T(1), g.data<T>(), n, wc.data<T>(), lw.ld, T(0), gx.data<T>(), k);
    }
  });
  if (need_bias) gb = cpu::sum_rows(g);
  return {gx, gw, gb};
}

}  // namespace kcore::cpu
