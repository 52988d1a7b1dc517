// CUDA kernels for broadcasting binary arithmetic and unary math (forward and backward).
// The formulas mirror csrc/cpu/elementwise.cpp one for one.
#include <cmath>

#include "cuda/common.cuh"
#include "cuda/table.h"
#include "ops/activation_math.h"

namespace kcore::cuda {
namespace {


template <typename T>
__device__ T binary_value(BinaryOp op, T x, T y) {
  switch (op) {
    case BinaryOp::add: return x + y;
    case BinaryOp::subtract: return x - y;
    case BinaryOp::multiply: return x * y;
    case BinaryOp::divide: return x / y;
    case BinaryOp::power: return pow(x, y);
    case BinaryOp::maximum: return (x >= y || isnan(x)) ? x : y;
    case BinaryOp::minimum: return (x <= y || isnan(x)) ? x : y;
  }
  return x;
}

// Gradient of op with respect to its first (which == 0) or second operand, times g.
template <typename T>
__device__ T binary_grad(BinaryOp op, int which, T g, T x, T y) {
  switch (op) {
    case BinaryOp::add: return g;
    case BinaryOp::subtract: return which == 0 ? g : -g;
    case BinaryOp::multiply: return which == 0 ? g * y : g * x;
    case BinaryOp::divide: return which == 0 ? g / y : -g * x / (y * y);
    case BinaryOp::power:
      if (which == 0) return y == T(0) ? T(0) : g * y * pow(x, y - T(1));
      return x > T(0) ? g * pow(x, y) * log(x) : T(0);
    case BinaryOp::maximum: return (x >= y) == (which == 0) ? g : T(0);
    case BinaryOp::minimum: return (x <= y) == (which == 0) ? g : T(0);
  }
  return T(0);
}

template <typename T>
__global__ void binary_kernel(BinaryOp op, T* out, const T* a, IndexMap am, const T* b, IndexMap bm, int64_t n) {
  KC_GRID_STRIDE(i, n) out[i] = binary_value<T>(op, a[am(i)], b[bm(i)]);
}

template <typename T>
__global__ void binary_grad_kernel(BinaryOp op, int which, T* out, const T* g, IndexMap gm, const T* a, IndexMap am,
                                   const T* b, IndexMap bm, int64_t n) {
  KC_GRID_STRIDE(i, n) out[i] = binary_grad<T>(op, which, g[gm(i)], a[am(i)], b[bm(i)]);
}


template <typename T>
__global__ void unary_kernel(UnaryOp op, T* out, const T* x, int64_t n, T alpha) {
  KC_GRID_STRIDE(i, n) out[i] = activation::value<T>(op, x[i], alpha);
}

template <typename T>
__global__ void unary_grad_kernel(UnaryOp op, T* out, const T* x, const T* y, const T* g, int64_t n, T alpha) {
  KC_GRID_STRIDE(i, n) out[i] = g[i] * activation::derivative<T>(op, x[i], y[i], alpha);
}

template <typename T>
__global__ void clip_kernel(T* out, const T* x, int64_t n, T lo, T hi) {
  KC_GRID_STRIDE(i, n) out[i] = activation::clamp(x[i], lo, hi);
}

template <typename T>
__global__ void clip_grad_kernel(T* out, const T* x, const T* g, int64_t n, T lo, T hi) {
  KC_GRID_STRIDE(i, n) out[i] = (x[i] >= lo && x[i] <= hi) ? g[i] : T(0);
}

template <typename T>
__global__ void scale_kernel(T* out, const T* x, int64_t n, T s) {
  KC_GRID_STRIDE(i, n) out[i] = x[i] * s;
}

template <typename T>
__global__ void nonfinite_kernel(const T* x, int64_t n, int* flag) {
  KC_GRID_STRIDE(i, n) if (!isfinite(x[i]))* flag = 1;
}

template <typename T>
__global__ void gather_kernel(T* out, const T* x, IndexMap xm, int64_t n) {
  KC_GRID_STRIDE(i, n) out[i] = x[xm(i)];
}

}  // namespace

void binary(BinaryOp op, const Tensor& a, const Tensor& b, Tensor& out) {
  const int64_t n = out.numel();
  auto maps = broadcast_maps<3>(out.shape(), {&out, &a, &b});
  dispatch_float(a.dtype(), binary_name(op), [&](auto tag) {
    using T = decltype(tag);
    binary_kernel<T><<<grid_for(n), kThreads, 0, kStream>>>(op, ptr<T>(out), ptr<T>(a), maps[1], ptr<T>(b), maps[2], n);
  });
  KC_LAUNCHED(binary_name(op));
}

void binary_backward(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& grad, Tensor& ga, Tensor& gb) {
  const Shape& shape = grad.shape();
  auto maps = broadcast_maps<3>(shape, {&grad, &a, &b});
  const int64_t n = shape_numel(shape);
  auto grad_of = [&](int which, Tensor& out) {
    if (!out.defined()) return;
    dispatch_float(grad.dtype(), binary_name(op), [&](auto tag) {
      using T = decltype(tag);
      binary_grad_kernel<T><<<grid_for(n), kThreads, 0, kStream>>>(op, which, ptr<T>(out), ptr<T>(grad), maps[0],
                                                                   ptr<T>(a), maps[1], ptr<T>(b), maps[2], n);
    });
    KC_LAUNCHED(binary_name(op));
  };
  grad_of(0, ga);
  grad_of(1, gb);
}

void unary(UnaryOp op, const Tensor& x, double alpha, Tensor& out) {
  const int64_t n = x.numel();
  dispatch_float(x.dtype(), "unary", [&](auto tag) {
    using T = decltype(tag);
    unary_kernel<T><<<grid_for(n), kThreads, 0, kStream>>>(op, ptr<T>(out), ptr<T>(x), n, T(alpha));
  });
  KC_LAUNCHED("unary");
}

void unary_backward(UnaryOp op, const Tensor& x, const Tensor& y, const Tensor& g, double alpha, Tensor& out) {
  const int64_t n = x.numel();
  dispatch_float(x.dtype(), "unary backward", [&](auto tag) {
    using T = decltype(tag);
    unary_grad_kernel<T>
        <<<grid_for(n), kThreads, 0, kStream>>>(op, ptr<T>(out), ptr<T>(x), ptr<T>(y), ptr<T>(g), n, T(alpha));
  });
  KC_LAUNCHED("unary backward");
}

void clip(const Tensor& x, double lo, double hi, Tensor& out) {
  const int64_t n = x.numel();
  dispatch_float(x.dtype(), "clip", [&](auto tag) {
    using T = decltype(tag);
    clip_kernel<T><<<grid_for(n), kThreads, 0, kStream>>>(ptr<T>(out), ptr<T>(x), n, T(lo), T(hi));
  });
  KC_LAUNCHED("clip");
}

void clip_backward(const Tensor& x, const Tensor& g, double lo, double hi, Tensor& out) {
  const int64_t n = x.numel();
  dispatch_float(x.dtype(), "clip", [&](auto tag) {
    using T = decltype(tag);
    clip_grad_kernel<T><<<grid_for(n), kThreads, 0, kStream>>>(ptr<T>(out), ptr<T>(x), ptr<T>(g), n, T(lo), T(hi));
  });
  KC_LAUNCHED("clip backward");
}

void broadcast_to(const Tensor& x, Tensor& out) {
  const int64_t n = out.numel();
  auto maps = broadcast_maps<2>(out.shape(), {&out, &x});
  dispatch_all(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    gather_kernel<T><<<grid_for(n), kThreads, 0, kStream>>>(ptr<T>(out), ptr<T>(x), maps[1], n);
  });
  KC_LAUNCHED("broadcast_to");
}

void scale(const Tensor& x, double s, Tensor& out) {
  const int64_t n = x.numel();
  dispatch_float(x.dtype(), "scale", [&](auto tag) {
    using T = decltype(tag);
    scale_kernel<T><<<grid_for(n), kThreads, 0, kStream>>>(ptr<T>(out), ptr<T>(x), n, T(s));
  });
  KC_LAUNCHED("scale");
}

bool has_nonfinite(const Tensor& x) {
  Tensor flag = zeros({1}, DType::i32);
  const int64_t n = x.numel();
  dispatch_float(x.dtype(), "isfinite", [&](auto tag) {
    using T = decltype(tag);
    nonfinite_kernel<T><<<grid_for(n), kThreads, 0, kStream>>>(ptr<T>(x), n, ptr<int>(flag));
  });
  KC_LAUNCHED("isfinite");
  int host = 0;
  KC_CUDA(cudaMemcpy(&host, flag.raw(), sizeof(int), cudaMemcpyDeviceToHost));
  return host != 0;
}

}  // namespace kcore::cuda
