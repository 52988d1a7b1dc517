// Counter-based random numbers on CUDA: the same splitmix64 scheme as csrc/cpu/random.cpp,
// so element i of a draw is bit-identical on both devices for the same seed.
#include "cuda/common.cuh"
#include "cuda/table.h"

namespace kcore::cuda {
namespace {

__device__ inline uint64_t splitmix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Uniform in [0, 1) with 53 random bits (exact in double, as on the CPU).
__device__ inline double uniform01(uint64_t seed, uint64_t i) {
  return double(splitmix64(seed * 0xD1B54A32D192ED03ull + splitmix64(i)) >> 11) * 0x1.0p-53;
}

template <typename T> __global__ void dropout_kernel(T* out, int64_t n, uint64_t seed, double keep, double scale) {
  KC_GRID_STRIDE(i, n) out[i] = T(uniform01(seed, (uint64_t)i) < keep ? scale : 0.0);
}

template <typename T> __global__ void uniform_kernel(T* out, int64_t n, uint64_t seed, double lo, double hi) {
  KC_GRID_STRIDE(i, n) out[i] = T(lo + (hi - lo) * uniform01(seed, (uint64_t)i));
}

}  // namespace

void dropout_mask(double rate, uint64_t seed, Tensor& out) {
  const int64_t n = out.numel();
  const double keep = 1.0 - rate;
  dispatch_float(out.dtype(), "dropout", [&](auto tag) {
    using T = decltype(tag);
    dropout_kernel<T><<<grid_for(n), kThreads, 0, kStream>>>(ptr<T>(out), n, seed, keep, 1.0 / keep);
  });
  KC_LAUNCHED("dropout");
}

void random_uniform(double lo, double hi, uint64_t seed, Tensor& out) {
  const int64_t n = out.numel();
  dispatch_float(out.dtype(), "random_uniform", [&](auto tag) {
    using T = decltype(tag);
    uniform_kernel<T><<<grid_for(n), kThreads, 0, kStream>>>(ptr<T>(out), n, seed, lo, hi);
  });
  KC_LAUNCHED("random_uniform");
}

}  // namespace kcore::cuda
