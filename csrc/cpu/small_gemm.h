// Register-blocked float32 GEMM for the small, cache-resident products of the conv kernels
// (Winograd's per-point GEMMs, the row-sliding Conv1D): no packing, any row/column stride of A,
// so overlapping rows (a sliding window over the input) and transposed A need no copy.
#pragma once
#include <cstdint>

namespace kcore {

// C[rows x cols] (+)= A[rows x K] @ B[K x cols] with A(r, k) = a[r * ars + k * aks], B row-major (ldb),
// C row-major (ldc); accumulate adds to C instead of overwriting it. AVX-512 micro-kernels where the
// build has AVX-512, a vectorisable loop otherwise.
void small_gemm(int64_t rows, int64_t cols, int64_t K, const float* a, int64_t ars, int64_t aks, const float* b,
                int64_t ldb, float* c, int64_t ldc, bool accumulate);

// Whether this build has the register-blocked (AVX-512) kernels: the automatic choices of the conv
// paths that rely on small_gemm (Winograd F(4x4, 3x3), the row-sliding Conv1D) only pick them then.
constexpr bool small_gemm_fast() {
#if defined(__AVX512F__)
  return true;
#else
  return false;
#endif
}

}  // namespace kcore
