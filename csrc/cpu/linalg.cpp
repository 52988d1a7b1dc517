// CPU matrix products through BLAS over the operands ops/linalg.cpp prepares.
#include "ops/linalg.h"

#include <algorithm>
#include <cstring>

#include "core/blas.h"
#include "core/parallel.h"
#include "cpu/linalg_bf16.h"
#include "ops/arguments.h"

namespace kcore::cpu {

namespace {
using arguments::batch_offset;
using arguments::layout_of;
using arguments::MatrixLayout;

template <typename T> void batched_gemm(const Tensor& a, const Tensor& b, Tensor& out, const Shape& batch) {
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

}  // namespace

void matmul(const Tensor& a, const Tensor& b, const Shape& batch, Tensor& out) {
  if (a.dtype() == DType::bf16) return bf16_linalg::matmul(a, b, batch, out);
  dispatch_float(a.dtype(), "matmul", [&](auto tag) { batched_gemm<decltype(tag)>(a, b, out, batch); });
}

void linear(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& out) {
  if (x.dtype() == DType::bf16) return bf16_linalg::linear(x, w, bias, out);
  const int64_t m = x.dim(0), k = w.dim(0), n = w.dim(1);  // k may be 0: rows still come from the shape
  MatrixLayout lw = layout_of(w);
  dispatch_float(x.dtype(), "linear", [&](auto tag) {
    using T = decltype(tag);
    T* o = out.data<T>();
    T beta = T(0);
    if (bias.defined()) {
      const T* bp = bias.data<T>();
      parallel_for(m, 256, [&](int64_t lo, int64_t hi) {
        for (int64_t r = lo; r < hi; ++r) std::memcpy(o + r * n, bp, n * sizeof(T));
      });
      beta = T(1);
    } else if (k == 0) {
      std::memset(o, 0, out.numel() * sizeof(T));
    }
    if (k > 0) gemm<T>(false, lw.trans, m, n, k, T(1), x.data<T>(), k, w.data<T>(), lw.ld, beta, o, n);
  });
}

void sum_rows(const Tensor& x, int64_t rows, int64_t cols, Tensor& out) {
  dispatch_float(x.dtype(), "sum_rows", [&](auto tag) {
    using T = decltype(tag);
    const T* p = x.data<T>();
    T* o = out.data<T>();
    parallel_for(cols, 64, [&](int64_t lo, int64_t hi) {
      constexpr int64_t kBlock = 512;  // columns summed at once, in double, in a stack buffer
      double acc[kBlock];
      for (int64_t c0 = lo; c0 < hi; c0 += kBlock) {
        const int64_t n = std::min(kBlock, hi - c0);
        std::fill(acc, acc + n, 0.0);
        for (int64_t r = 0; r < rows; ++r) {
          const T* row = p + r * cols + c0;
          for (int64_t c = 0; c < n; ++c) acc[c] += row[c];
        }
        for (int64_t c = 0; c < n; ++c) o[c0 + c] = T(acc[c]);
      }
    });
  });
}

void linear_backward(const Tensor& x, const Tensor& w, const Tensor& g, Tensor& gw, Tensor& gx) {
  if (x.dtype() == DType::bf16) return bf16_linalg::linear_backward(x, w, g, gw, gx);
  const int64_t m = x.dim(0), k = w.dim(0), n = w.dim(1);
  MatrixLayout lw = layout_of(w);
  dispatch_float(x.dtype(), "linear backward", [&](auto tag) {
    using T = decltype(tag);
    // grad_w = x^T @ g
    if (m == 0) std::memset(gw.data<T>(), 0, gw.numel() * sizeof(T));
    else if (gw.numel() > 0) gemm<T>(true, false, k, n, m, T(1), x.data<T>(), k, g.data<T>(), n, T(0), gw.data<T>(), n);
    if (gx.defined() && gx.numel() > 0) {
      if (n == 0) std::memset(gx.data<T>(), 0, gx.numel() * sizeof(T));
      else gemm<T>(false, !lw.trans, m, k, n, T(1), g.data<T>(), n, w.data<T>(), lw.ld, T(0), gx.data<T>(), k);
    }
  });
}

}  // namespace kcore::cpu
