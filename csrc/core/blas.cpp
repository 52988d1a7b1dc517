#include "core/blas.h"

#ifndef KCORE_BLAS_NAME
#define KCORE_BLAS_NAME "unknown"
#endif

namespace kcore {

void blas_set_num_threads(int n) {
#if defined(KCORE_BLAS_SCIPY_OPENBLAS)
  scipy_openblas_set_num_threads(n);
#elif defined(KCORE_BLAS_MKL)
  mkl_set_num_threads(n);
#elif defined(KCORE_BLAS_OPENBLAS)
  openblas_set_num_threads(n);
#else
  (void)n;
#endif
}

const char* blas_name() { return KCORE_BLAS_NAME; }

template <>
void gemm<float>(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
                 const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  KC_BLAS(sgemm)(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)m, (int)n,
                 (int)k, alpha, a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
}

template <>
void gemm<double>(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const double* a, int64_t lda,
                  const double* b, int64_t ldb, double beta, double* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  KC_BLAS(dgemm)(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)m, (int)n,
                 (int)k, alpha, a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
}

}  // namespace kcore
