// CUDA reductions, argmax and softmax, mirroring csrc/cpu/reduce.cpp: reduced axes are moved
// last (one copy when needed) and each row is reduced by one block; sums accumulate in double.
#include <algorithm>
#include <cmath>

#include "cuda/common.cuh"
#include "cuda/table.h"
#include "ops/arguments.h"

namespace kcore::cuda {
namespace {

// x with the reduced axes last, packed: (outer, red) rows.
Tensor reduced_axes_last(const Tensor& x, const std::vector<int64_t>& axes, int64_t* outer, int64_t* red) {
  Shape shape, strides;
  *outer = 1;
  *red = 1;
  for (int64_t d = 0; d < x.ndim(); ++d)
    if (!std::binary_search(axes.begin(), axes.end(), d)) {
      shape.push_back(x.shape()[d]);
      strides.push_back(x.strides()[d]);
      *outer *= x.shape()[d];
    }
  for (auto d : axes) {
    shape.push_back(x.shape()[d]);
    strides.push_back(x.strides()[d]);
    *red *= x.shape()[d];
  }
  return x.as_strided(shape, strides, x.offset()).contiguous();
}

const char* reduce_name(ReduceOp op) {
  static const char* n[] = {"sum", "mean", "max", "min"};
  return n[(int)op];
}

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

Tensor reduce(ReduceOp op, const Tensor& x_in, std::vector<int64_t> axes, bool keepdims) {
  const char* name = reduce_name(op);
  check_float(x_in, name, "x");
  check_on_cuda(x_in, name, "x");
  axes = normalized_axes(axes, x_in.ndim(), name);
  Shape out_shape = reduced_shape(x_in.shape(), axes, keepdims);
  int64_t outer, red;
  Tensor x = reduced_axes_last(x_in, axes, &outer, &red);
  if (red == 0) {
    KCORE_CHECK(op == ReduceOp::sum || op == ReduceOp::mean || outer == 0,
                name << ": zero-size reduction of shape " << shape_str(x_in.shape()) << " has no identity");
    return full(out_shape, x.dtype(), op == ReduceOp::sum ? 0.0 : std::nan(""));
  }
  Tensor out = empty(out_shape, x.dtype());
  if (outer == 0) return out;
  dispatch_float(x.dtype(), name, [&](auto tag) {
    using T = decltype(tag);
    reduce_rows_kernel<T><<<(unsigned)outer, kThreads, 0, kStream>>>(op, ptr<T>(x), ptr<T>(out), red);
  });
  KC_LAUNCHED(name);
  return out;
}

Tensor reduce_backward(ReduceOp op, const Tensor& x, const Tensor& y, const Tensor& grad, std::vector<int64_t> axes,
                       bool keepdims) {
  const char* name = reduce_name(op);
  axes = normalized_axes(axes, x.ndim(), name);
  Shape kept = reduced_shape(x.shape(), axes, true);
  Tensor g = grad.contiguous().view(kept);
  int64_t count = 1;
  for (auto a : axes) count *= x.shape()[a];
  if (op == ReduceOp::sum) return cuda::broadcast_to(g, x.shape());
  if (op == ReduceOp::mean)
    return cuda::broadcast_to(cuda::scale(g, 1.0 / double(std::max<int64_t>(count, 1))), x.shape());
  // max / min: the gradient is shared equally by the elements that attain the extremum.
  Tensor xb = x.contiguous();
  Tensor yb = cuda::broadcast_to(y.contiguous().view(kept), x.shape());
  Tensor hit = empty(x.shape(), x.dtype());
  const int64_t n = x.numel();
  if (n > 0) {
    dispatch_float(x.dtype(), name, [&](auto tag) {
      using T = decltype(tag);
      hit_kernel<T><<<grid_for(n), kThreads, 0, kStream>>>(ptr<T>(hit), ptr<T>(xb), ptr<T>(yb), n);
    });
    KC_LAUNCHED(name);
  }
  Tensor ties = cuda::reduce(ReduceOp::sum, hit, axes, true);
  Tensor share = cuda::binary(BinaryOp::divide, g, ties);
  return cuda::binary(BinaryOp::multiply, hit, share);
}

Tensor argmax(const Tensor& x_in, int64_t axis, bool keepdims) {
  check_float(x_in, "argmax", "x");
  axis = normalize_axis(axis, x_in.ndim(), "argmax");
  KCORE_CHECK(x_in.shape()[axis] > 0, "argmax: attempt to get argmax of an empty axis");
  int64_t outer, red;
  Tensor x = reduced_axes_last(x_in, {axis}, &outer, &red);
  Tensor out = empty(reduced_shape(x_in.shape(), {axis}, keepdims), DType::i64);
  if (outer == 0) return out;
  dispatch_float(x.dtype(), "argmax", [&](auto tag) {
    using T = decltype(tag);
    argmax_kernel<T><<<grid_for(outer), kThreads, 0, kStream>>>(ptr<T>(x), ptr<int64_t>(out), outer, red);
  });
  KC_LAUNCHED("argmax");
  return out;
}

Tensor softmax(const Tensor& x_in, int64_t axis, bool log_out) {
  check_float(x_in, log_out ? "log_softmax" : "softmax", "x");
  axis = normalize_axis(axis, x_in.ndim(), "softmax");
  Tensor x = x_in.contiguous();
  Tensor out = empty(x.shape(), x.dtype());
  int64_t outer, n, inner;
  arguments::axis_geometry(x, axis, &outer, &n, &inner);
  const int64_t lines = outer * inner;
  if (lines == 0 || n == 0) return out;
  dispatch_float(x.dtype(), "softmax", [&](auto tag) {
    using T = decltype(tag);
    if (inner == 1)
      softmax_rows_kernel<T><<<row_blocks(lines), kThreads, 0, kStream>>>(ptr<T>(x), ptr<T>(out), lines, n, log_out);
    else
      softmax_kernel<T><<<grid_for(lines), kThreads, 0, kStream>>>(ptr<T>(x), ptr<T>(out), lines, n, inner, log_out);
  });
  KC_LAUNCHED("softmax");
  return out;
}

Tensor softmax_backward(const Tensor& y_in, const Tensor& g_in, int64_t axis, bool log_out) {
  check_same_shape(y_in, g_in, "softmax backward");
  axis = normalize_axis(axis, y_in.ndim(), "softmax");
  Tensor y = y_in.contiguous(), g = g_in.contiguous();
  Tensor out = empty(y.shape(), y.dtype());
  int64_t outer, n, inner;
  arguments::axis_geometry(y, axis, &outer, &n, &inner);
  const int64_t lines = outer * inner;
  if (lines == 0 || n == 0) return out;
  dispatch_float(y.dtype(), "softmax backward", [&](auto tag) {
    using T = decltype(tag);
    if (inner == 1)
      softmax_grad_rows_kernel<T><<<row_blocks(lines), kThreads, 0, kStream>>>(ptr<T>(y), ptr<T>(g), ptr<T>(out),
                                                                               lines, n, log_out);
    else
      softmax_grad_kernel<T><<<grid_for(lines), kThreads, 0, kStream>>>(ptr<T>(y), ptr<T>(g), ptr<T>(out), lines, n,
                                                                        inner, log_out);
  });
  KC_LAUNCHED("softmax backward");
  return out;
}

}  // namespace kcore::cuda
