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

template <typename Fn> void fill_random(Tensor& out, const char* op, Fn&& value) {
  dispatch_float(out.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    T* o = out.data<T>();
    parallel_for(out.numel(), 1 << 15, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) o[i] = T(value(i));
    });
  });
}
}  // namespace

void dropout_mask(double rate, uint64_t seed, Tensor& out) {
  const double keep = 1.0 - rate, scale = 1.0 / keep;
  fill_random(out, "dropout", [&](int64_t i) { return uniform01(seed, (uint64_t)i) < keep ? scale : 0.0; });
}

void random_uniform(double lo, double hi, uint64_t seed, Tensor& out) {
  fill_random(out, "random_uniform", [&](int64_t i) { return lo + (hi - lo) * uniform01(seed, (uint64_t)i); });
}

}  // namespace kcore::cpu
