// GEMM through the BLAS library, threaded by kcore's own OpenMP team.
//
// The BLAS library itself always runs single-threaded: a second thread pool (OpenBLAS's
// pthreads) next to OpenMP's would oversubscribe the cores, and its workers would not flush
// denormals. Large products are split into column (or row) blocks, one per OpenMP thread.
#include "core/blas.h"

#include <algorithm>

#include "core/parallel.h"

#ifndef KCORE_BLAS_NAME
#define KCORE_BLAS_NAME "unknown"
#endif

namespace kcore {

namespace {
int g_gemm_threads = 1;
constexpr int64_t kMinWorkPerThread = 1 << 18;      // multiply-adds below which a split costs more than it saves
constexpr int64_t kDynamicWork = int64_t(1) << 30;  // multiply-adds from which large products split dynamically
constexpr int64_t kDynamicRows = 256;               // the smallest row block of that split

}  // namespace

void blas_library_single_threaded() {
#if defined(KCORE_BLAS_SCIPY_OPENBLAS)
  scipy_openblas_set_num_threads(1);
#elif defined(KCORE_BLAS_MKL)
  mkl_set_num_threads(1);
#elif defined(KCORE_BLAS_OPENBLAS)
  openblas_set_num_threads(1);
#endif
}

namespace {

inline void call(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
                 const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  KC_BLAS(sgemm)(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)k,
                 alpha, a, (int)std::max<int64_t>(lda, 1), b, (int)std::max<int64_t>(ldb, 1), beta, c,
                 (int)std::max<int64_t>(ldc, 1));
}

inline void call(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const double* a, int64_t lda,
                 const double* b, int64_t ldb, double beta, double* c, int64_t ldc) {
  KC_BLAS(dgemm)(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)k,
                 alpha, a, (int)std::max<int64_t>(lda, 1), b, (int)std::max<int64_t>(ldb, 1), beta, c,
                 (int)std::max<int64_t>(ldc, 1));
}

template <typename T>
void threaded_gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda, const T* b,
                   int64_t ldb, T beta, T* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  int64_t nt = omp_in_parallel() ? 1 : std::min<int64_t>(g_gemm_threads, num_threads());
  nt = std::min<int64_t>(nt, std::max<int64_t>(1, m * n * std::max<int64_t>(k, 1) / kMinWorkPerThread));
  if (nt <= 1) {
    call(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  if (m * n * std::max<int64_t>(k, 1) >= kDynamicWork && m >= 2 * kDynamicRows) {
    // Large products: blocks of rows handed out dynamically, several per thread, so a thread that the
    // machine slows down (a busy hyperthread sibling, a preempted vCPU) does not hold the others at the
    // final barrier. Row blocks (not column blocks) keep each block's packed panel its own: the BLAS
    // packs op(A)'s rows once per block and only re-packs the B panel per block (~1/kDynamicRows extra).
    const int64_t blocks = std::max<int64_t>(nt, std::min<int64_t>(4 * nt, m / kDynamicRows));
    const int64_t rows = ((m + blocks - 1) / blocks + 15) / 16 * 16;
    const int64_t count = (m + rows - 1) / rows;
#pragma omp parallel for num_threads((int)nt) schedule(dynamic, 1)
    for (int64_t i = 0; i < count; ++i) {
      const int64_t lo = i * rows, hi = std::min(m, lo + rows);
      const T* ai = ta ? a + lo : a + lo * lda;
      call(ta, tb, hi - lo, n, k, alpha, ai, lda, b, ldb, beta, c + lo * ldc, ldc);
    }
    return;
  }
  const bool split_columns = n >= m;
  const int64_t extent = split_columns ? n : m;
  const int64_t block = ((extent + nt - 1) / nt + 15) / 16 * 16;  // multiples of 16 keep SIMD tails out
#pragma omp parallel num_threads((int)nt)
  {
    const int64_t lo = omp_get_thread_num() * block, hi = std::min(extent, lo + block);
    if (lo < hi) {
      if (split_columns) {  // C[:, lo:hi] = op(A) @ op(B)[:, lo:hi]
        const T* bj = tb ? b + lo * ldb : b + lo;
        call(ta, tb, m, hi - lo, k, alpha, a, lda, bj, ldb, beta, c + lo, ldc);
      } else {  // C[lo:hi, :] = op(A)[lo:hi, :] @ op(B)
        const T* ai = ta ? a + lo : a + lo * lda;
        call(ta, tb, hi - lo, n, k, alpha, ai, lda, b, ldb, beta, c + lo * ldc, ldc);
      }
    }
  }
}
}  // namespace

void blas_set_num_threads(int n) { g_gemm_threads = std::max(1, n); }

const char* blas_name() { return KCORE_BLAS_NAME; }

template <>
void gemm<float>(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
                 const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  threaded_gemm<float>(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

template <>
void gemm<double>(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const double* a, int64_t lda,
                  const double* b, int64_t ldb, double beta, double* c, int64_t ldc) {
  threaded_gemm<double>(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

}  // namespace kcore
