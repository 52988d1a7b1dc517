// Vectorisable float32 exp / tanh / sigmoid (the loops that call them compile to SIMD code;
// libm's scalar calls do not). float64 (used by the gradient checks) goes through libm.
#pragma once
#include <cmath>
#include <cstdint>
#include <limits>

namespace kcore {

// Cephes-style exp: range reduction by ln 2 and a degree-6 polynomial; within 2 ulp.
__attribute__((always_inline)) inline float fast_exp(float x) {
  // NaN-safe clamp (a NaN would reach the int conversion below: undefined behaviour); NaN is returned at the end
  const float clamped = x > -87.0f ? (x < 88.0f ? x : 88.0f) : -87.0f;
  // round-to-nearest by the 1.5 * 2^23 trick (std::floor does not vectorise without -ffast-math)
  const float n = (clamped * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  const float r = clamped - n * 0.693359375f + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const uint32_t bits = uint32_t((int32_t)n + 127) << 23;  // n is in [-126, 127] after the clamp
  const float y = p * __builtin_bit_cast(float, bits);
  return x > 88.7f ? std::numeric_limits<float>::infinity() : (x < -87.5f ? 0.0f : (x != x ? x : y));
}
inline double fast_exp(double x) { return std::exp(x); }

// Odd polynomial near zero (no cancellation), (1 - e^-2|x|) / (1 + e^-2|x|) elsewhere.
__attribute__((always_inline)) inline float fast_tanh(float x) {
  const float ax = std::fabs(x);
  const float z = x * x;
  const float small =
      ((((-5.70498872745e-3f * z + 2.06390887954e-2f) * z - 5.37397155531e-2f) * z + 1.33314422036e-1f) * z -
       3.33332819422e-1f) *
          z * ax +
      ax;
  const float t = fast_exp(-2.0f * ax);
  const float large = (1.0f - t) / (1.0f + t);
  return std::copysign(ax < 0.625f ? small : large, x);
}
inline double fast_tanh(double x) { return std::tanh(x); }

__attribute__((always_inline)) inline float fast_sigmoid(float x) { return 1.0f / (1.0f + fast_exp(-x)); }
inline double fast_sigmoid(double x) { return x >= 0 ? 1.0 / (1.0 + std::exp(-x)) : std::exp(x) / (1.0 + std::exp(x)); }

}  // namespace kcore
