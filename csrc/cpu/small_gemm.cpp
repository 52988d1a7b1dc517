// Register-blocked float32 GEMM for small products (see small_gemm.h).
#include "cpu/small_gemm.h"

#include <algorithm>
#include <array>
#include <utility>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace kcore {

namespace {

#if defined(__AVX512F__)
constexpr int kNv = 4;
constexpr int64_t kKc = 160;  // 160 rows of 64 floats: 40 KiB  // at most 64 columns (4 vectors) per register block

template <int R, int NV>
void micro(int64_t K, const float* a, int64_t ars, int64_t aks, const float* b, int64_t ldb, float* c, int64_t ldc,
           __mmask16 last, bool accumulate) {
  __m512 s[R][NV];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) {
      const __mmask16 m = j == NV - 1 ? last : __mmask16(0xFFFF);
      s[r][j] = accumulate ? _mm512_maskz_loadu_ps(m, c + r * ldc + 16 * j) : _mm512_setzero_ps();
    }
  for (int64_t k = 0; k < K; ++k) {
    __m512 bv[NV];
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j)
      bv[j] = j == NV - 1 ? _mm512_maskz_loadu_ps(last, b + k * ldb + 16 * j) : _mm512_loadu_ps(b + k * ldb + 16 * j);
    const float* ak = a + k * aks;
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      const __m512 av = _mm512_set1_ps(ak[r * ars]);
#pragma GCC unroll 4
      for (int j = 0; j < NV; ++j) s[r][j] = _mm512_fmadd_ps(av, bv[j], s[r][j]);
    }
  }
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j)
      _mm512_mask_storeu_ps(c + r * ldc + 16 * j, j == NV - 1 ? last : __mmask16(0xFFFF), s[r][j]);
}

using MicroFn = void (*)(int64_t, const float*, int64_t, int64_t, const float*, int64_t, float*, int64_t, __mmask16,
                         bool);

// Rows per register block for NV vectors of columns: 24 accumulators (12 when NV = 1: the loads of A
// then bound the loop).
constexpr int rows_for(int nv) { return nv == 4 ? 6 : nv == 3 ? 8 : 12; }

template <int NV, size_t... R>
constexpr std::array<MicroFn, sizeof...(R)> micro_row(std::index_sequence<R...>) {
  return {micro<int(R) + 1, NV>...};
}

// micro_table[nv - 1][r - 1]: r rows (1..rows_for(nv)) by nv vectors of columns
const std::array<MicroFn, 12> micro_table[kNv] = {
    micro_row<1>(std::make_index_sequence<12>()), micro_row<2>(std::make_index_sequence<12>()),
    micro_row<3>(std::make_index_sequence<12>()), micro_row<4>(std::make_index_sequence<12>())};

}  // namespace

void small_gemm(int64_t rows, int64_t cols, int64_t K, const float* a, int64_t ars, int64_t aks, const float* b,
                int64_t ldb, float* c, int64_t ldc, bool accumulate) {
  for (int64_t f0 = 0; f0 < cols; f0 += 16 * kNv) {
    const int64_t width = std::min<int64_t>(16 * kNv, cols - f0);
    const int nv = int((width + 15) / 16);
    const int tail = int(width - 16 * (nv - 1));
    const __mmask16 last = __mmask16((1u << tail) - 1u);
    const int mr = rows_for(nv);
    // K in blocks whose rows of B (up to 64 floats each) stay in L1 while every row block passes
    for (int64_t k0 = 0; k0 < K || k0 == 0; k0 += kKc) {
      const int64_t kb = std::min<int64_t>(kKc, K - k0);
      const float* ak = a + k0 * aks;
      const float* bk = b + k0 * ldb + f0;
      for (int64_t r0 = 0; r0 < rows; r0 += mr) {
        const int r = int(std::min<int64_t>(mr, rows - r0));
        micro_table[nv - 1][r - 1](kb, ak + r0 * ars, ars, aks, bk, ldb, c + r0 * ldc + f0, ldc, last,
                                   accumulate || k0 > 0);
      }
    }
  }
}
#else
}  // namespace

// Portable version: the compiler vectorises the column loop.
void small_gemm(int64_t rows, int64_t cols, int64_t K, const float* a, int64_t ars, int64_t aks, const float* b,
                int64_t ldb, float* c, int64_t ldc, bool accumulate) {
  for (int64_t r = 0; r < rows; ++r) {
    float* cr = c + r * ldc;
    if (!accumulate) std::fill(cr, cr + cols, 0.f);
    for (int64_t k = 0; k < K; ++k) {
      const float av = a[r * ars + k * aks];
      const float* bk = b + k * ldb;
      for (int64_t j = 0; j < cols; ++j) cr[j] += av * bk[j];
    }
  }
}
#endif

}  // namespace kcore
