// Host emulation of the little of the CUDA runtime that csrc/cuda/{conv,pool,rnn}.cu use, so those
// files compile as plain C++ (csrc/cuda/emulate, built with -DKCORE_CUDA_EMULATE=ON) and their
// kernels and host logic run on the CPU against the CPU engine (tests/test_cuda_nn.py). A kernel
// launch is a plain call with one block of one thread: every grid-stride loop visits all elements
// in order. "Device" memory is host memory. Not a model of concurrency or of the memory spaces.
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __shared__ static

struct dim3 {
  unsigned x = 0, y = 0, z = 0;
};
inline const dim3 blockIdx{0, 0, 0}, threadIdx{0, 0, 0}, blockDim{1, 1, 1}, gridDim{1, 1, 1};

using cudaError_t = int;
constexpr cudaError_t cudaSuccess = 0;
using cudaStream_t = void*;
enum cudaMemcpyKind { cudaMemcpyHostToHost, cudaMemcpyHostToDevice, cudaMemcpyDeviceToHost, cudaMemcpyDeviceToDevice };

inline cudaError_t cudaMemcpy(void* dst, const void* src, size_t n, cudaMemcpyKind) {
  if (n) std::memcpy(dst, src, n);
  return cudaSuccess;
}
inline cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t n, cudaMemcpyKind kind, cudaStream_t) {
  return cudaMemcpy(dst, src, n, kind);
}
inline cudaError_t cudaMemsetAsync(void* dst, int value, size_t n, cudaStream_t) {
  if (n) std::memset(dst, value, n);
  return cudaSuccess;
}
inline cudaError_t cudaGetLastError() { return cudaSuccess; }
inline const char* cudaGetErrorName(cudaError_t) { return "cudaSuccess"; }
inline const char* cudaGetErrorString(cudaError_t) { return "no error"; }
inline void __syncthreads() {}
template <typename T>
T __shfl_xor_sync(unsigned, T v, int) {  // the warp helpers are not emulated (no kernel here uses them)
  return v;
}

// A launch is a call: one block of one thread.
template <typename Kernel>
Kernel* kc_emulated_launch(unsigned /*grid*/, Kernel* kernel) {
  return kernel;
}
#define KC_LAUNCH(grid, ...) kc_emulated_launch((grid), __VA_ARGS__)
