// Bulk float <-> bfloat16 conversions: AVX-512 where the build targets it, scalar loops otherwise.
#include "core/bfloat16.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define KCORE_X86 1
#endif

namespace kcore {

void bf16_to_float(const bf16* src, float* dst, int64_t n) {
  int64_t i = 0;
#if defined(__AVX512F__)
  for (; i + 16 <= n; i += 16) {
    __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i));
    __m512i w = _mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16);
    _mm512_storeu_si512(dst + i, w);
  }
#endif
  for (; i < n; ++i) dst[i] = float(src[i]);
}

void float_to_bf16(const float* src, bf16* dst, int64_t n) {
  int64_t i = 0;
#if defined(__AVX512F__) && defined(__AVX512BW__)
  const __m512i round = _mm512_set1_epi32(0x7fff), one = _mm512_set1_epi32(1);
  const __m512i abs_mask = _mm512_set1_epi32(0x7fffffff), inf = _mm512_set1_epi32(0x7f800000);
  const __m512i quiet = _mm512_set1_epi32(0x00400000);
  for (; i + 16 <= n; i += 16) {
    __m512i u = _mm512_loadu_si512(src + i);
    __m512i odd = _mm512_and_si512(_mm512_srli_epi32(u, 16), one);
    __m512i r = _mm512_add_epi32(u, _mm512_add_epi32(round, odd));
    __mmask16 nan = _mm512_cmpgt_epu32_mask(_mm512_and_si512(u, abs_mask), inf);
    r = _mm512_mask_mov_epi32(r, nan, _mm512_or_si512(u, quiet));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i), _mm512_cvtepi32_epi16(_mm512_srli_epi32(r, 16)));
  }
#endif
  for (; i < n; ++i) dst[i] = bf16(src[i]);
}

#if defined(KCORE_X86) && (defined(__GNUC__) || defined(__clang__))
__attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16"))) static void float_to_bf16_hw(const float* src,
                                                                                             bf16* dst, int64_t n) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m256bh h = _mm512_cvtneps_pbh(_mm512_loadu_ps(src + i));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i), reinterpret_cast<__m256i&>(h));
  }
  if (i < n) {
    const __mmask16 m = __mmask16((1u << (n - i)) - 1u);
    __m256bh h = _mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(m, src + i));
    _mm256_mask_storeu_epi16(dst + i, m, reinterpret_cast<__m256i&>(h));
  }
}

bool cpu_has_avx512_bf16() {
  static const bool has = __builtin_cpu_supports("avx512bf16");
  return has;
}
#else
bool cpu_has_avx512_bf16() { return false; }
#endif

void float_to_bf16_ftz_portable(const float* src, bf16* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    uint32_t u;
    std::memcpy(&u, src + i, 4);
    if ((u & 0x7f800000u) == 0) u &= 0x80000000u;  // a denormal input counts as (signed) zero
    uint16_t b = float_bits_to_bf16_bits(u);
    if ((b & 0x7f80u) == 0) b &= 0x8000u;  // and a denormal result flushes
    dst[i].bits = b;
  }
}

void float_to_bf16_ftz(const float* src, bf16* dst, int64_t n) {
#if defined(KCORE_X86) && (defined(__GNUC__) || defined(__clang__))
  if (cpu_has_avx512_bf16()) {
    float_to_bf16_hw(src, dst, n);
    return;
  }
#endif
  float_to_bf16_ftz_portable(src, dst, n);
}

}  // namespace kcore
