// Matrix products through cuBLAS, over the operands ops/linalg.cpp prepares: transposed views
// are used in place (no copy), leading batch axes broadcast like NumPy. Full FP32 by default;
// TF32 tensor-core math only after set_allow_tf32(true).
#include <cublas_v2.h>

#include <limits>

#include "cuda/common.cuh"
#include "cuda/gemm.h"
#include "cuda/table.h"
#include "ops/arguments.h"

namespace kcore::cuda {
namespace {
using arguments::batch_offset;
using arguments::layout_of;
using arguments::MatrixLayout;

const char* cublas_message(cublasStatus_t s) {
  switch (s) {
    case CUBLAS_STATUS_NOT_INITIALIZED: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case CUBLAS_STATUS_ALLOC_FAILED: return "CUBLAS_STATUS_ALLOC_FAILED";
    case CUBLAS_STATUS_INVALID_VALUE: return "CUBLAS_STATUS_INVALID_VALUE";
    case CUBLAS_STATUS_ARCH_MISMATCH: return "CUBLAS_STATUS_ARCH_MISMATCH";
    case CUBLAS_STATUS_EXECUTION_FAILED: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case CUBLAS_STATUS_INTERNAL_ERROR: return "CUBLAS_STATUS_INTERNAL_ERROR";
    case CUBLAS_STATUS_NOT_SUPPORTED: return "CUBLAS_STATUS_NOT_SUPPORTED";
    default: return "cuBLAS error";
  }
}

void check_cublas(cublasStatus_t s, const char* what) {
  if (s != CUBLAS_STATUS_SUCCESS) throw DeviceError(std::string("cuBLAS error in ") + what + ": " + cublas_message(s));
}

bool g_allow_tf32 = false;

cublasHandle_t handle() {
  static cublasHandle_t h = [] {
    cublasHandle_t c;
    check_cublas(cublasCreate(&c), "cublasCreate");
    check_cublas(cublasSetStream(c, kStream), "cublasSetStream");
    return c;
  }();
  check_cublas(cublasSetMathMode(h, g_allow_tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH),
               "cublasSetMathMode");
  return h;
}

// Row-major C[m,n] = op(A)[m,k] @ op(B)[k,n] (+ beta C), through column-major cuBLAS as
// C^T = op(B)^T op(A)^T.
template <typename T>
void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, const T* b, int64_t ldb, T beta,
          T* c, int64_t ldc) {
  constexpr int64_t kMax = std::numeric_limits<int>::max();
  KCORE_CHECK(m <= kMax && n <= kMax && k <= kMax && lda <= kMax && ldb <= kMax && ldc <= kMax,
              "matmul: a matrix dimension exceeds cuBLAS's 32-bit limit (" << m << " x " << k << " @ " << k << " x "
                                                                           << n << ")");
  const T one = T(1);
  const cublasOperation_t opa = ta ? CUBLAS_OP_T : CUBLAS_OP_N, opb = tb ? CUBLAS_OP_T : CUBLAS_OP_N;
  if constexpr (std::is_same_v<T, float>)
    check_cublas(
        cublasSgemm(handle(), opb, opa, (int)n, (int)m, (int)k, &one, b, (int)ldb, a, (int)lda, &beta, c, (int)ldc),
        "cublasSgemm");
  else
    check_cublas(
        cublasDgemm(handle(), opb, opa, (int)n, (int)m, (int)k, &one, b, (int)ldb, a, (int)lda, &beta, c, (int)ldc),
        "cublasDgemm");
}

// One call for `count` products whose operands sit `sa` / `sb` elements apart (0: shared).
template <typename T>
void gemm_strided_batched(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, int64_t sa,
                          const T* b, int64_t ldb, int64_t sb, T* c, int64_t ldc, int64_t count) {
  constexpr int64_t kMax = std::numeric_limits<int>::max();
  KCORE_CHECK(m <= kMax && n <= kMax && k <= kMax && count <= kMax,
              "matmul: a dimension exceeds cuBLAS's 32-bit limit");
  const T one = T(1), zero = T(0);
  const cublasOperation_t opa = ta ? CUBLAS_OP_T : CUBLAS_OP_N, opb = tb ? CUBLAS_OP_T : CUBLAS_OP_N;
  if constexpr (std::is_same_v<T, float>)
    check_cublas(cublasSgemmStridedBatched(handle(), opb, opa, (int)n, (int)m, (int)k, &one, b, (int)ldb, sb, a,
                                           (int)lda, sa, &zero, c, (int)ldc, m * n, (int)count),
                 "cublasSgemmStridedBatched");
  else
    check_cublas(cublasDgemmStridedBatched(handle(), opb, opa, (int)n, (int)m, (int)k, &one, b, (int)ldb, sb, a,
                                           (int)lda, sa, &zero, c, (int)ldc, m * n, (int)count),
                 "cublasDgemmStridedBatched");
}

// The distance between consecutive matrices of t over the (broadcast) batch shape when it is
// one constant (0 when t is shared by every batch entry); -1 when offsets are irregular.
int64_t uniform_batch_stride(const Tensor& t, const Shape& batch) {
  const int64_t lead = (int64_t)batch.size() - (t.ndim() - 2);
  int64_t stride = -1, expect = -1;
  for (int64_t d = (int64_t)batch.size() - 1; d >= 0; --d) {
    if (batch[d] == 1) continue;
    const int64_t td = d - lead;
    const int64_t s = (td >= 0 && t.shape()[td] != 1) ? t.strides()[td] : 0;
    if (stride < 0) {
      stride = s;
    } else if (s != expect) {
      return -1;
    }
    expect = s * batch[d];
  }
  return stride < 0 ? 0 : stride;
}

template <typename T>
void batched_gemm(const Tensor& a, const Tensor& b, Tensor& out, const Shape& batch) {
  MatrixLayout la = layout_of(a), lb = layout_of(b);
  const int64_t m = a.dim(-2), k = a.dim(-1), n = b.dim(-1);
  const T* ap = static_cast<const T*>(a.storage()->data) + a.offset();
  const T* bp = static_cast<const T*>(b.storage()->data) + b.offset();
  T* o = ptr<T>(out);
  if (k == 0) {
    fill(out, 0.0);
    return;
  }
  const int64_t nb = shape_numel(batch);
  const int64_t sa = uniform_batch_stride(a, batch), sb = uniform_batch_stride(b, batch);
  if (nb > 1 && sa >= 0 && sb >= 0) {
    gemm_strided_batched<T>(la.trans, lb.trans, m, n, k, ap, la.ld, sa, bp, lb.ld, sb, o, n, nb);
    return;
  }
  for (int64_t i = 0; i < nb; ++i)
    gemm<T>(la.trans, lb.trans, m, n, k, ap + batch_offset(a, batch, i), la.ld, bp + batch_offset(b, batch, i), lb.ld,
            T(0), o + i * m * n, n);
}

// Column sums in double, one thread per column (rows are read coalesced across threads).
template <typename T>
__global__ void sum_rows_kernel(const T* x, T* out, int64_t rows, int64_t cols) {
  KC_GRID_STRIDE(c, cols) {
    double acc = 0;
    for (int64_t r = 0; r < rows; ++r) acc += (double)x[r * cols + c];
    out[c] = T(acc);
  }
}

}  // namespace

template <typename T>
void gemm_rows(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, const T* b, int64_t ldb,
               T beta, T* c, int64_t ldc) {
  gemm<T>(ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc);
}
template void gemm_rows<float>(bool, bool, int64_t, int64_t, int64_t, const float*, int64_t, const float*, int64_t,
                               float, float*, int64_t);
template void gemm_rows<double>(bool, bool, int64_t, int64_t, int64_t, const double*, int64_t, const double*, int64_t,
                                double, double*, int64_t);

void set_allow_tf32(bool allow) { g_allow_tf32 = allow; }
bool allow_tf32() { return g_allow_tf32; }

void matmul(const Tensor& a, const Tensor& b, const Shape& batch, Tensor& out) {
  dispatch_float(a.dtype(), "matmul", [&](auto tag) { batched_gemm<decltype(tag)>(a, b, out, batch); });
}

void linear(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& out) {
  const int64_t m = x.dim(0), k = w.dim(0), n = w.dim(1);
  MatrixLayout lw = layout_of(w);
  dispatch_float(x.dtype(), "linear", [&](auto tag) {
    using T = decltype(tag);
    T beta = T(0);
    if (bias.defined()) {
      bias_rows<T>(ptr<T>(out), ptr<T>(bias), m, n, false);
      beta = T(1);
    } else if (k == 0) {
      fill(out, 0.0);
    }
    if (k > 0) gemm<T>(false, lw.trans, m, n, k, ptr<T>(x), k, ptr<T>(w), lw.ld, beta, ptr<T>(out), n);
  });
}

void sum_rows(const Tensor& x, int64_t rows, int64_t cols, Tensor& out) {
  dispatch_float(x.dtype(), "sum_rows", [&](auto tag) {
    using T = decltype(tag);
    sum_rows_kernel<T><<<grid_for(cols), kThreads, 0, kStream>>>(ptr<T>(x), ptr<T>(out), rows, cols);
  });
  KC_LAUNCHED("sum_rows");
}

void linear_backward(const Tensor& x, const Tensor& w, const Tensor& g, Tensor& gw, Tensor& gx) {
  const int64_t m = x.dim(0), k = w.dim(0), n = w.dim(1);
  MatrixLayout lw = layout_of(w);
  dispatch_float(x.dtype(), "linear backward", [&](auto tag) {
    using T = decltype(tag);
    if (m == 0 || k == 0 || n == 0) fill(gw, 0.0);
    else gemm<T>(true, false, k, n, m, ptr<T>(x), k, ptr<T>(g), n, T(0), ptr<T>(gw), n);
    if (gx.defined()) {
      if (n == 0 || m == 0 || k == 0) fill(gx, 0.0);
      else gemm<T>(false, !lw.trans, m, k, n, ptr<T>(g), n, ptr<T>(w), lw.ld, T(0), ptr<T>(gx), k);
    }
  });
}

}  // namespace kcore::cuda
