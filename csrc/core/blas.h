// The one place that knows which BLAS kcore was built against.
#pragma once
#include <cstdint>

#if defined(KCORE_BLAS_SCIPY_OPENBLAS)
#include <cblas.h>
#define KC_BLAS(name) scipy_cblas_##name
#elif defined(KCORE_BLAS_MKL)
#include <mkl_cblas.h>
#define KC_BLAS(name) cblas_##name
#else
#include <cblas.h>
#define KC_BLAS(name) cblas_##name
#endif

namespace kcore {

// Threads for the next GEMMs (kcore splits large products over its OpenMP team; the BLAS
// library itself stays single-threaded).
void blas_set_num_threads(int n);
// Puts the BLAS library itself in single-threaded mode (done whenever kcore's threads are set).
void blas_library_single_threaded();
const char* blas_name();

// Row-major C[m,n] = alpha * op(A)[m,k] @ op(B)[k,n] + beta * C.
template <typename T>
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda, const T* b,
          int64_t ldb, T beta, T* c, int64_t ldc);

}  // namespace kcore
