#include "ops/random.h"

#include "core/parallel.h"

namespace kcore::cpu {

namespace {
inline uint64_t splitmix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
// Uniform in [0, 1) with 53 random bits.
inline double uniform01(uint64_t seed, uint64_t i) {
  return double(splitmix64(seed * 0xD1B54A32D192ED03ull + splitmix64(i)) >> 11) * 0x1.0p-53;
}

template <typename Fn>
Tensor fill_random(const Shape& shape, DType dtype, const char* op, Fn&& value) {
  Tensor out = Tensor::empty(shape, dtype);
  dispatch_float(dtype, op, [&](auto tag) {
    using T = decltype(tag);
    T* o = out.data<T>();
    parallel_for(out.numel(), 1 << 15, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) o[i] = T(value(i));
    });
  });
  return out;
}
}  // namespace

Tensor dropout_mask(const Shape& shape, double rate, uint64_t seed, DType dtype) {
  KCORE_CHECK(rate >= 0.0 && rate < 1.0, "dropout: rate must be in [0, 1), got " << rate);
  const double keep = 1.0 - rate, scale = 1.0 / keep;
  return fill_random(shape, dtype, "dropout",
                     [&](int64_t i) { return uniform01(seed, (uint64_t)i) < keep ? scale : 0.0; });
}

Tensor random_uniform(const Shape& shape, double lo, double hi, uint64_t seed, DType dtype) {
  return fill_random(shape, dtype, "random_uniform",
                     [&](int64_t i) { return lo + (hi - lo) * uniform01(seed, (uint64_t)i); });
}

}  // namespace kcore::cpu
