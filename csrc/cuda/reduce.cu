// CUDA reductions, argmax and softmax over the layouts ops/reduce.cpp prepares: each row of
// reduced values is reduced by one block; sums accumulate in double.
#include <algorithm>
#include <cmath>

#include "cuda/common.cuh"
#include "cuda/table.h"
#include "ops/arguments.h"

namespace kcore::cuda {
namespace {

template <typename T>
__device__ T pick_extreme(T a, T b, bool is_max) {
  if (isnan(a)) return a;
  if (isnan(b)) return b;
  return (is_max ? b > a : b < a) ? b : a;
}

// One block per row. Sums in double (as the CPU does); max/min propagate NaN.
template <typename T>
__global__ void reduce_rows_kernel(ReduceOp op, const T* x, T* out, int64_t n) {
  __shared__ double acc_s[kThreads];
  __shared__ T ext_s[kThreads];
  const T* row = x + (int64_t)blockIdx.x * n;
  const bool additive = op == ReduceOp::sum || op == ReduceOp::mean;
  const bool is_max = op == ReduceOp::max;
  double acc = 0;
  T ext = row[0];
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
    if (additive) acc += (double)row[i];
    else ext = pick_extreme(ext, row[i], is_max);
  }
  acc_s[threadIdx.x] = acc;
  ext_s[threadIdx.x] = ext;
  __syncthreads();
  for (int s = blockDim.x / 2; s > 0; s >>= 1) {
    if (threadIdx.x < s) {
      acc_s[threadIdx.x] += acc_s[threadIdx.x + s];
      ext_s[threadIdx.x] = pick_extreme(ext_s[threadIdx.x], ext_s[threadIdx.x + s], is_max);
    }
    __syncthreads();
  }
  if (threadIdx.x == 0)
    out[blockIdx.x] = additive ? T(op == ReduceOp::mean ? acc_s[0] / double(n) : acc_s[0]) : ext_s[0];
}

template <typename T>
__global__ void hit_kernel(T* hit, const T* x, const T* y, int64_t n) {
  KC_GRID_STRIDE(i, n) hit[i] = (x[i] == y[i] || (isnan(x[i]) && isnan(y[i]))) ? T(1) : T(0);
}

template <typename T>
__global__ void argmax_kernel(const T* x, int64_t* out, int64_t rows, int64_t n) {
  KC_GRID_STRIDE(r, rows) {
    const T* q = x + r * n;
    int64_t best = 0;
    for (int64_t i = 1; i < n; ++i)
      if (q[i] > q[best] || (isnan(q[i]) && !isnan(q[best]))) best = i;
    out[r] = best;
  }
}

// inner > 1: one thread per (outer, inner) line of n elements spaced `inner` apart.
template <typename T>
__global__ void softmax_kernel(const T* x, T* o, int64_t lines, int64_t n, int64_t inner, bool log_out) {
  KC_GRID_STRIDE(r, lines) {
    const int64_t base = (r / inner) * n * inner + (r % inner);
    T mx = -INFINITY;
    for (int64_t i = 0; i < n; ++i) {  // NaN-propagating, unclamped: as the CPU kernel
      const T v = x[base + i * inner];
      if (v > mx || v != v) mx = v;
    }
    T sum = 0;
    for (int64_t i = 0; i < n; ++i) {
      T e = exp(x[base + i * inner] - mx);
      o[base + i * inner] = e;
      sum += e;
    }
    if (log_out) {
      T ls = log(sum);
      for (int64_t i = 0; i < n; ++i) o[base + i * inner] = (x[base + i * inner] - mx) - ls;
    } else {
      T inv = T(1) / sum;
      for (int64_t i = 0; i < n; ++i) o[base + i * inner] *= inv;
    }
  }
}

template <typename T>
__global__ void softmax_grad_kernel(const T* y, const T* g, T* o, int64_t lines, int64_t n, int64_t inner,
                                    bool log_out) {
  KC_GRID_STRIDE(r, lines) {
    const int64_t base = (r / inner) * n * inner + (r % inner);
    T dot = 0;
    if (log_out) {
      for (int64_t i = 0; i < n; ++i) dot += g[base + i * inner];
      for (int64_t i = 0; i < n; ++i) o[base + i * inner] = g[base + i * inner] - exp(y[base + i * inner]) * dot;
    } else {
      for (int64_t i = 0; i < n; ++i) dot += g[base + i * inner] * y[base + i * inner];
      for (int64_t i = 0; i < n; ++i) o[base + i * inner] = y[base + i * inner] * (g[base + i * inner] - dot);
    }
  }
}

// inner == 1 (softmax over the last axis, the usual case): one warp per row.
template <typename T>
__global__ void softmax_rows_kernel(const T* x, T* o, int64_t rows, int64_t n, bool log_out) {
  const int64_t r = (int64_t)blockIdx.x * kRowsPerBlock + threadIdx.x / kWarp;
  const int lane = threadIdx.x % kWarp;
  if (r >= rows) return;  // whole warps leave together
  const T* xr = x + r * n;
  T* orow = o + r * n;
  T mx = -INFINITY;
  for (int64_t j = lane; j < n; j += kWarp) mx = fmax(mx, xr[j]);
  mx = warp_max(mx);
  if (isinf(mx)) mx = 0;
  T sum = 0;
  for (int64_t j = lane; j < n; j += kWarp) sum += exp(xr[j] - mx);
  sum = warp_sum(sum);
  const T ls = log(sum), inv = T(1) / sum;
  for (int64_t j = lane; j < n; j += kWarp) orow[j] = log_out ? (xr[j] - mx) - ls : exp(xr[j] - mx) * inv;
}

template <typename T>
__global__ void softmax_grad_rows_kernel(const T* y, const T* g, T* o, int64_t rows, int64_t n, bool log_out) {
  const int64_t r = (int64_t)blockIdx.x * kRowsPerBlock + threadIdx.x / kWarp;
  const int lane = threadIdx.x % kWarp;
  if (r >= rows) return;
  const T* yr = y + r * n;
  const T* gr = g + r * n;
  T* orow = o + r * n;
  T dot = 0;
  for (int64_t j = lane; j < n; j += kWarp) dot += log_out ? gr[j] : gr[j] * yr[j];
  dot = warp_sum(dot);
  for (int64_t j = lane; j < n; j += kWarp) orow[j] = log_out ? gr[j] - exp(yr[j]) * dot : yr[j] * (gr[j] - dot);
}


}  // namespace

void reduce(ReduceOp op, const Tensor& x, int64_t outer, int64_t red, Tensor& out) {
  dispatch_float(x.dtype(), reduce_name(op), [&](auto tag) {
    using T = decltype(tag);
    reduce_rows_kernel<T><<<(unsigned)outer, kThreads, 0, kStream>>>(op, ptr<T>(x), ptr<T>(out), red);
  });
  KC_LAUNCHED(reduce_name(op));
}

void extremum_hits(const Tensor& x, const Tensor& y, Tensor& hits) {
  const int64_t n = x.numel();
  dispatch_float(x.dtype(), "extremum_hits", [&](auto tag) {
    using T = decltype(tag);
    hit_kernel<T><<<grid_for(n), kThreads, 0, kStream>>>(ptr<T>(hits), ptr<T>(x), ptr<T>(y), n);
  });
  KC_LAUNCHED("extremum_hits");
}

void argmax(const Tensor& x, int64_t outer, int64_t red, Tensor& out) {
  dispatch_float(x.dtype(), "argmax", [&](auto tag) {
    using T = decltype(tag);
    argmax_kernel<T><<<grid_for(outer), kThreads, 0, kStream>>>(ptr<T>(x), ptr<int64_t>(out), outer, red);
  });
  KC_LAUNCHED("argmax");
}

void softmax(const Tensor& x, int64_t outer, int64_t n, int64_t inner, bool log_out, Tensor& out) {
  const int64_t lines = outer * inner;
  dispatch_float(x.dtype(), "softmax", [&](auto tag) {
    using T = decltype(tag);
    if (inner == 1)
      softmax_rows_kernel<T><<<row_blocks(lines), kThreads, 0, kStream>>>(ptr<T>(x), ptr<T>(out), lines, n, log_out);
    else softmax_kernel<T><<<grid_for(lines), kThreads, 0, kStream>>>(ptr<T>(x), ptr<T>(out), lines, n, inner, log_out);
  });
  KC_LAUNCHED("softmax");
}

void softmax_backward(const Tensor& y, const Tensor& g, int64_t outer, int64_t n, int64_t inner, bool log_out,
                      Tensor& out) {
  const int64_t lines = outer * inner;
  dispatch_float(y.dtype(), "softmax backward", [&](auto tag) {
    using T = decltype(tag);
    if (inner == 1)
      softmax_grad_rows_kernel<T>
          <<<row_blocks(lines), kThreads, 0, kStream>>>(ptr<T>(y), ptr<T>(g), ptr<T>(out), lines, n, log_out);
    else
      softmax_grad_kernel<T>
          <<<grid_for(lines), kThreads, 0, kStream>>>(ptr<T>(y), ptr<T>(g), ptr<T>(out), lines, n, inner, log_out);
  });
  KC_LAUNCHED("softmax backward");
}

}  // namespace kcore::cuda
