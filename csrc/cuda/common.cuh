// Shared by the CUDA kernels: error checking, launch geometry, the caching allocator,
// and strided / broadcast index maps passed to kernels by value.
#pragma once
#include <cuda_runtime.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>

#include "core/broadcast.h"
#include "core/tensor.h"
#include "cuda/device.h"

namespace kcore::cuda {

// ---- launch geometry ------------------------------------------------------------------
constexpr int kThreads = 256;
inline unsigned grid_for(int64_t n, int threads = kThreads) {
  int64_t b = (n + threads - 1) / threads;
  return (unsigned)std::max<int64_t>(1, std::min<int64_t>(b, 1 << 20));
}
// KC_LAUNCH(grid, kernel)(args...): a launch of `grid` blocks of kThreads on kStream. Written as a
// macro so the host emulation (csrc/cuda/emulate) can turn it into a plain call.
#ifndef KC_LAUNCH
#define KC_LAUNCH(grid, ...) __VA_ARGS__<<<(grid), kThreads, 0, kStream>>>
#endif
#define KC_GRID_STRIDE(i, n) \
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (int64_t)gridDim.x * blockDim.x)

// ---- index maps ------------------------------------------------------------------------
constexpr int kMaxDims = 10;

// Maps a flat index over `shape` to an element offset through `stride` (0 on broadcast axes).
struct IndexMap {
  int nd = 0;
  int64_t shape[kMaxDims];
  int64_t stride[kMaxDims];
  __host__ __device__ int64_t operator()(int64_t i) const {
    if (nd == 1) return i * stride[0];
    int64_t off = 0;
    for (int d = nd - 1; d >= 0; --d) {
      int64_t q = i / shape[d];
      off += (i - q * shape[d]) * stride[d];
      i = q;
    }
    return off;
  }
};

// One map per operand over a common (broadcast) iteration space, axes coalesced.
template <int N>
std::array<IndexMap, N> broadcast_maps(const Shape& out_shape, const std::array<const Tensor*, N>& ops) {
  BroadcastPlan<N> p = make_plan<N>(out_shape, ops);
  KCORE_CHECK((int)p.shape.size() <= kMaxDims, "cuda: tensors of rank > " << kMaxDims << " are not supported");
  std::array<IndexMap, N> maps;
  for (int k = 0; k < N; ++k) {
    maps[k].nd = (int)p.shape.size();
    for (size_t d = 0; d < p.shape.size(); ++d) {
      maps[k].shape[d] = p.shape[d];
      maps[k].stride[d] = p.strides[k][d];
    }
  }
  return maps;
}

inline IndexMap strided_map(const Tensor& t) { return broadcast_maps<1>(t.shape(), {&t})[0]; }

// Pointer to element 0 of a tensor (offset applied) typed as T.
template <typename T>
T* ptr(const Tensor& t) {
  return static_cast<T*>(t.raw());
}

}  // namespace kcore::cuda

namespace kcore::cuda {
// Sum of v over a block of kThreads threads; every thread gets the total. `scratch` is
// kThreads doubles of shared memory, reusable right after the call.
__device__ inline double block_sum(double v, double* scratch) {
  scratch[threadIdx.x] = v;
  __syncthreads();
  for (int s = blockDim.x / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) scratch[threadIdx.x] += scratch[threadIdx.x + s];
    __syncthreads();
  }
  double total = scratch[0];
  __syncthreads();
  return total;
}
}  // namespace kcore::cuda

namespace kcore::cuda {
// Row-per-warp kernels: kThreads / 32 rows per block, lanes stride over the row.
constexpr int kWarp = 32;
constexpr int kRowsPerBlock = kThreads / kWarp;
inline unsigned row_blocks(int64_t rows) {
  return (unsigned)std::max<int64_t>(1, (rows + kRowsPerBlock - 1) / kRowsPerBlock);
}

template <typename T>
__device__ inline T warp_sum(T v) {
  for (int o = kWarp / 2; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
template <typename T>
__device__ inline T warp_max(T v) {
  for (int o = kWarp / 2; o > 0; o >>= 1) v = fmax(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}
// Max and log-sum-exp of a row of n values, computed by one warp; every lane gets both.
template <typename T>
__device__ inline void warp_row_stats(const T* xr, int64_t n, int lane, T* mx, T* lse) {
  T m = -INFINITY;
  for (int64_t j = lane; j < n; j += kWarp) m = fmax(m, xr[j]);
  m = warp_max(m);
  T s = 0;
  for (int64_t j = lane; j < n; j += kWarp) s += exp(xr[j] - m);
  *mx = m;
  *lse = log(warp_sum(s));
}
}  // namespace kcore::cuda

namespace kcore::cuda {
// y[r, f] = bias[f] (add = false) or y[r, f] += bias[f] (add = true) for a contiguous (rows, F).
template <typename T>
__global__ void bias_rows_kernel(T* y, const T* bias, int64_t rows, int64_t F, bool add) {
  KC_GRID_STRIDE(e, rows * F) { y[e] = add ? y[e] + bias[e % F] : bias[e % F]; }
}

template <typename T>
void bias_rows(T* y, const T* bias, int64_t rows, int64_t F, bool add) {
  if (rows * F == 0) return;
  KC_LAUNCH(grid_for(rows * F), bias_rows_kernel<T>)(y, bias, rows, F, add);
  KC_LAUNCHED("bias rows");
}
}  // namespace kcore::cuda
