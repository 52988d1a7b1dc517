// bfloat16: kcore's 2-byte floating storage type (the top half of an IEEE float32).
//
// A bf16 holds the 16 high bits of a float: the same exponent range as float32 and 8 mantissa bits.
// Converting to float is exact; converting from float rounds to nearest, ties to even, and keeps NaN
// a (quiet) NaN and infinities infinite; float32 denormals round like any other value (as
// ml_dtypes.bfloat16 does). CPU kernels compute in float: a bf16 converts implicitly to float, and
// a float (or double, or integer) converts to bf16 by rounding, so `T y = a * b` in a kernel templated on
// T computes in float and rounds once at the store. Reductions accumulate in acc_t<T> (float for bf16).
#pragma once
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace kcore {

// The RNE conversion of one float's bits to bf16 bits (NaN -> quiet NaN with the sign kept).
inline uint16_t float_bits_to_bf16_bits(uint32_t u) {
  if ((u & 0x7fffffffu) > 0x7f800000u) return uint16_t((u >> 16) | 0x0040u);
  return uint16_t((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

struct bf16 {
  uint16_t bits = 0;

  bf16() = default;
  bf16(float f) {  // NOLINT(google-explicit-constructor): kernels assign float results to T
    uint32_t u;
    std::memcpy(&u, &f, 4);
    bits = float_bits_to_bf16_bits(u);
  }
  template <typename U, typename = std::enable_if_t<std::is_arithmetic_v<U> && !std::is_same_v<U, float>>>
  bf16(U v) : bf16(static_cast<float>(v)) {}  // NOLINT(google-explicit-constructor)

  static bf16 from_bits(uint16_t b) {
    bf16 h;
    h.bits = b;
    return h;
  }
  operator float() const {  // NOLINT(google-explicit-constructor)
    uint32_t u = uint32_t(bits) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
  }
};
static_assert(sizeof(bf16) == 2, "bf16 must be 2 bytes");

// The type a kernel accumulates T in: float for bf16, T itself otherwise.
template <typename T> struct accumulator {
  using type = T;
};
template <> struct accumulator<bf16> {
  using type = float;
};
template <typename T> using acc_t = typename accumulator<T>::type;

// Bulk conversions (vectorised; csrc/core/bfloat16.cpp). Exact round-to-nearest-even, NaN kept,
// denormals kept: the same bits as the scalar conversion on every machine.
void bf16_to_float(const bf16* src, float* dst, int64_t n);
void float_to_bf16(const float* src, bf16* dst, int64_t n);
// For packing kernel operands: the fastest conversion the CPU has (VCVTNEPS2BF16 where the CPU has
// AVX512-BF16, checked at run time). Like the kernels' denormal mode, it flushes float32 denormal
// inputs and bf16 denormal results to zero; otherwise it equals float_to_bf16.
void float_to_bf16_ftz(const float* src, bf16* dst, int64_t n);
void float_to_bf16_ftz_portable(const float* src, bf16* dst, int64_t n);  // the same without AVX512-BF16
// Whether this CPU has the AVX512-BF16 instructions (and this build can use them).
bool cpu_has_avx512_bf16();

}  // namespace kcore
