// CUDA kernels for broadcasting binary arithmetic and unary math (forward and backward).
// The formulas mirror csrc/cpu/elementwise.cpp one for one.
#include <cmath>

#include "cuda/common.cuh"
#include "cuda/table.h"
#include "ops/activation_math.h"

namespace kcore::cuda {
namespace {

const char* binary_name(BinaryOp op) {
  static const char* names[] = {"add", "subtract", "multiply", "divide", "power", "maximum", "minimum"};
  return names[(int)op];
}

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
  KC_GRID_STRIDE(i, n) if (!isfinite(x[i])) *flag = 1;
}

template <typename T>
__global__ void gather_kernel(T* out, const T* x, IndexMap xm, int64_t n) {
  KC_GRID_STRIDE(i, n) out[i] = x[xm(i)];
}

void check_unary_pair(const Tensor& a, const Tensor& b, const char* op) {
  check_on_cuda(a, op, "x");
  check_on_cuda(b, op, "grad");
  check_same_shape(a, b, op);
  check_same_dtype(a, b, op);
}

}  // namespace

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  const size_t nd = std::max(a.size(), b.size());
  Shape out(nd);
  for (size_t i = 0; i < nd; ++i) {
    const int64_t da = i < nd - a.size() ? 1 : a[i - (nd - a.size())];
    const int64_t db = i < nd - b.size() ? 1 : b[i - (nd - b.size())];
    KCORE_CHECK(da == db || da == 1 || db == 1, op << ": operands could not be broadcast together with shapes "
                                                   << shape_str(a) << " and " << shape_str(b));
    out[i] = da == 1 ? db : da;
  }
  return out;
}

Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b) {
  const char* name = binary_name(op);
  check_float(a, name, "x1");
  check_float(b, name, "x2");
  check_same_dtype(a, b, name);
  Shape shape = cuda::broadcast_shapes(a.shape(), b.shape(), name);
  Tensor out = empty(shape, a.dtype());
  const int64_t n = out.numel();
  if (n == 0) return out;
  auto maps = broadcast_maps<3>(shape, {&out, &a, &b});
  dispatch_float(a.dtype(), name, [&](auto tag) {
    using T = decltype(tag);
    binary_kernel<T><<<grid_for(n), kThreads, 0, kStream>>>(op, ptr<T>(out), ptr<T>(a), maps[1], ptr<T>(b), maps[2],
                                                            n);
  });
  KC_LAUNCHED(name);
  return out;
}

std::pair<Tensor, Tensor> binary_backward(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& grad,
                                          bool need_a, bool need_b) {
  const char* name = binary_name(op);
  check_same_dtype(a, grad, name);
  check_same_dtype(b, grad, name);
  Shape shape = cuda::broadcast_shapes(a.shape(), b.shape(), name);
  KCORE_CHECK(grad.shape() == shape, name << " backward: gradient shape " << shape_str(grad.shape())
                                          << " does not match output shape " << shape_str(shape));
  auto maps = broadcast_maps<3>(shape, {&grad, &a, &b});
  const int64_t n = shape_numel(shape);
  auto grad_of = [&](int which) {
    Tensor out = empty(shape, grad.dtype());
    if (n == 0) return out;
    dispatch_float(grad.dtype(), name, [&](auto tag) {
      using T = decltype(tag);
      binary_grad_kernel<T><<<grid_for(n), kThreads, 0, kStream>>>(op, which, ptr<T>(out), ptr<T>(grad), maps[0],
                                                                   ptr<T>(a), maps[1], ptr<T>(b), maps[2], n);
    });
    KC_LAUNCHED(name);
    return out;
  };
  Tensor ga, gb;
  if (need_a) ga = cuda::sum_to_shape(grad_of(0), a.shape());
  if (need_b) gb = cuda::sum_to_shape(grad_of(1), b.shape());
  return {ga, gb};
}

Tensor unary(UnaryOp op, const Tensor& x_in, double alpha) {
  check_float(x_in, "unary", "x");
  Tensor x = x_in.contiguous();
  Tensor out = empty(x.shape(), x.dtype());
  const int64_t n = x.numel();
  if (n == 0) return out;
  dispatch_float(x.dtype(), "unary", [&](auto tag) {
    using T = decltype(tag);
    unary_kernel<T><<<grid_for(n), kThreads, 0, kStream>>>(op, ptr<T>(out), ptr<T>(x), n, T(alpha));
  });
  KC_LAUNCHED("unary");
  return out;
}

Tensor unary_backward(UnaryOp op, const Tensor& x_in, const Tensor& y_in, const Tensor& g_in, double alpha) {
  check_float(g_in, "unary backward", "grad");
  check_unary_pair(x_in, g_in, "unary backward");
  check_unary_pair(y_in, g_in, "unary backward");
  Tensor x = x_in.contiguous(), y = y_in.contiguous(), g = g_in.contiguous();
  Tensor out = empty(x.shape(), x.dtype());
  const int64_t n = x.numel();
  if (n == 0) return out;
  dispatch_float(x.dtype(), "unary backward", [&](auto tag) {
    using T = decltype(tag);
    unary_grad_kernel<T><<<grid_for(n), kThreads, 0, kStream>>>(op, ptr<T>(out), ptr<T>(x), ptr<T>(y), ptr<T>(g), n,
                                                                T(alpha));
  });
  KC_LAUNCHED("unary backward");
  return out;
}

Tensor clip(const Tensor& x_in, double lo, double hi) {
  check_float(x_in, "clip", "x");
  Tensor x = x_in.contiguous();
  Tensor out = empty(x.shape(), x.dtype());
  const int64_t n = x.numel();
  if (n == 0) return out;
  dispatch_float(x.dtype(), "clip", [&](auto tag) {
    using T = decltype(tag);
    clip_kernel<T><<<grid_for(n), kThreads, 0, kStream>>>(ptr<T>(out), ptr<T>(x), n, T(lo), T(hi));
  });
  KC_LAUNCHED("clip");
  return out;
}

Tensor clip_backward(const Tensor& x_in, const Tensor& g_in, double lo, double hi) {
  check_unary_pair(x_in, g_in, "clip backward");
  Tensor x = x_in.contiguous(), g = g_in.contiguous();
  Tensor out = empty(x.shape(), x.dtype());
  const int64_t n = x.numel();
  if (n == 0) return out;
  dispatch_float(x.dtype(), "clip", [&](auto tag) {
    using T = decltype(tag);
    clip_grad_kernel<T><<<grid_for(n), kThreads, 0, kStream>>>(ptr<T>(out), ptr<T>(x), ptr<T>(g), n, T(lo), T(hi));
  });
  KC_LAUNCHED("clip backward");
  return out;
}

Tensor sum_to_shape(const Tensor& grad, const Shape& shape) {
  if (grad.shape() == shape) return grad;
  const int64_t lead = grad.ndim() - (int64_t)shape.size();
  KCORE_CHECK(lead >= 0, "sum_to_shape: cannot reduce " << shape_str(grad.shape()) << " to " << shape_str(shape));
  std::vector<int64_t> axes;
  for (int64_t d = 0; d < grad.ndim(); ++d)
    if (d < lead || (shape[d - lead] == 1 && grad.shape()[d] != 1)) axes.push_back(d);
  if (axes.empty()) return grad.contiguous().view(shape);
  return cuda::reduce(ReduceOp::sum, grad, axes, false).contiguous().view(shape);
}

Tensor broadcast_to(const Tensor& x, const Shape& shape) {
  check_on_cuda(x, "broadcast_to", "x");
  Shape s = cuda::broadcast_shapes(x.shape(), shape, "broadcast_to");
  KCORE_CHECK(s == shape, "broadcast_to: cannot broadcast " << shape_str(x.shape()) << " to " << shape_str(shape));
  Tensor out = empty(shape, x.dtype());
  const int64_t n = out.numel();
  if (n == 0) return out;
  auto maps = broadcast_maps<2>(shape, {&out, &x});
  dispatch_all(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    gather_kernel<T><<<grid_for(n), kThreads, 0, kStream>>>(ptr<T>(out), ptr<T>(x), maps[1], n);
  });
  KC_LAUNCHED("broadcast_to");
  return out;
}

Tensor scale(const Tensor& x_in, double s) {
  check_float(x_in, "scale", "x");
  Tensor x = x_in.contiguous();
  Tensor out = empty(x.shape(), x.dtype());
  const int64_t n = x.numel();
  if (n == 0) return out;
  dispatch_float(x.dtype(), "scale", [&](auto tag) {
    using T = decltype(tag);
    scale_kernel<T><<<grid_for(n), kThreads, 0, kStream>>>(ptr<T>(out), ptr<T>(x), n, T(s));
  });
  KC_LAUNCHED("scale");
  return out;
}

bool has_nonfinite(const Tensor& x_in) {
  if (!is_floating(x_in.dtype()) || x_in.numel() == 0) return false;
  Tensor x = x_in.contiguous();
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
