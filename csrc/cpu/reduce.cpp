// CPU reductions and softmax. Reductions view x as (outer, reduced, inner) after moving
// reduced axes together; sums accumulate in double and run in a fixed order (deterministic).
#include "ops/reduce.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/parallel.h"
#include "ops/elementwise.h"
#include "ops/shape.h"
#include "ops/arguments.h"

namespace kcore::cpu {

namespace {
// Reorders x so the reduced axes are last (a copy only when they are not already last).
Tensor reduced_axes_last(const Tensor& x, const std::vector<int64_t>& axes, int64_t* outer, int64_t* red) {
  std::vector<int64_t> perm;
  for (int64_t d = 0; d < x.ndim(); ++d)
    if (!std::binary_search(axes.begin(), axes.end(), d)) perm.push_back(d);
  *outer = 1;
  for (auto d : perm) *outer *= x.shape()[d];
  *red = 1;
  for (auto d : axes) {
    perm.push_back(d);
    *red *= x.shape()[d];
  }
  return transpose(x, perm).contiguous();
}

template <typename T>
void reduce_rows(ReduceOp op, const T* x, T* out, int64_t rows, int64_t n) {
  parallel_for(rows, std::max<int64_t>(1, 16384 / std::max<int64_t>(n, 1)), [&](int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      const T* p = x + r * n;
      if (op == ReduceOp::sum || op == ReduceOp::mean) {
        double acc = 0;
        for (int64_t i = 0; i < n; ++i) acc += p[i];
        out[r] = T(op == ReduceOp::mean ? acc / double(n) : acc);
      } else {
        T best = p[0];
        bool is_max = op == ReduceOp::max;
        for (int64_t i = 1; i < n; ++i) {
          T v = p[i];
          if (std::isnan(v) || (is_max ? v > best : v < best)) best = v;
          if (std::isnan(best)) break;
        }
        out[r] = best;
      }
    }
  });
}

const char* reduce_name(ReduceOp op) {
  static const char* n[] = {"sum", "mean", "max", "min"};
  return n[(int)op];
}

}  // namespace

Tensor reduce(ReduceOp op, const Tensor& x_in, std::vector<int64_t> axes, bool keepdims) {
  const char* name = reduce_name(op);
  check_float(x_in, name, "x");
  axes = normalized_axes(axes, x_in.ndim(), name);
  Shape out_shape = reduced_shape(x_in.shape(), axes, keepdims);
  int64_t outer, red;
  Tensor x = reduced_axes_last(x_in, axes, &outer, &red);
  if (red == 0) {
    KCORE_CHECK(op == ReduceOp::sum || op == ReduceOp::mean || outer == 0,
                name << ": zero-size reduction of shape " << shape_str(x_in.shape()) << " has no identity");
    return Tensor::full(out_shape, x.dtype(), op == ReduceOp::sum ? 0.0 : std::nan(""));
  }
  Tensor out = Tensor::empty(out_shape, x.dtype());
  dispatch_float(x.dtype(), name, [&](auto tag) {
    using T = decltype(tag);
    reduce_rows<T>(op, x.data<T>(), out.data<T>(), outer, red);
  });
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
  if (op == ReduceOp::sum) return cpu::broadcast_to(g, x.shape());
  if (op == ReduceOp::mean) return cpu::broadcast_to(cpu::scale(g, 1.0 / double(std::max<int64_t>(count, 1))), x.shape());
  // max / min: the gradient is shared equally by the elements that attain the extremum.
  Tensor yk = y.contiguous().view(kept);
  Tensor hit = Tensor::empty(x.shape(), x.dtype());
  Tensor xb = x.contiguous();
  Tensor yb = cpu::broadcast_to(yk, x.shape());
  dispatch_float(x.dtype(), name, [&](auto tag) {
    using T = decltype(tag);
    const T* xp = xb.data<T>();
    const T* yp = yb.data<T>();
    T* h = hit.data<T>();
    for (int64_t i = 0; i < x.numel(); ++i) h[i] = (xp[i] == yp[i] || (std::isnan(xp[i]) && std::isnan(yp[i]))) ? T(1) : T(0);
  });
  Tensor ties = cpu::reduce(ReduceOp::sum, hit, axes, true);
  Tensor share = cpu::binary(BinaryOp::divide, g, ties);
  return cpu::binary(BinaryOp::multiply, hit, share);
}

Tensor argmax(const Tensor& x_in, int64_t axis, bool keepdims) {
  check_float(x_in, "argmax", "x");
  axis = normalize_axis(axis, x_in.ndim(), "argmax");
  KCORE_CHECK(x_in.shape()[axis] > 0, "argmax: attempt to get argmax of an empty axis");
  int64_t outer, red;
  Tensor x = reduced_axes_last(x_in, {axis}, &outer, &red);
  Tensor out = Tensor::empty(reduced_shape(x_in.shape(), {axis}, keepdims), DType::i64);
  int64_t* o = out.data<int64_t>();
  dispatch_float(x.dtype(), "argmax", [&](auto tag) {
    using T = decltype(tag);
    const T* p = x.data<T>();
    parallel_for(outer, 256, [&](int64_t lo, int64_t hi) {
      for (int64_t r = lo; r < hi; ++r) {
        const T* q = p + r * red;
        int64_t best = 0;
        for (int64_t i = 1; i < red; ++i)
          if (q[i] > q[best] || (std::isnan(q[i]) && !std::isnan(q[best]))) best = i;
        o[r] = best;
      }
    });
  });
  return out;
}

Tensor softmax(const Tensor& x_in, int64_t axis, bool log) {
  check_float(x_in, log ? "log_softmax" : "softmax", "x");
  axis = normalize_axis(axis, x_in.ndim(), "softmax");
  Tensor x = x_in.contiguous();
  Tensor out = Tensor::empty(x.shape(), x.dtype());
  int64_t outer, n, inner;
  arguments::axis_geometry(x, axis, &outer, &n, &inner);
  dispatch_float(x.dtype(), "softmax", [&](auto tag) {
    using T = decltype(tag);
    const T* xp = x.data<T>();
    T* o = out.data<T>();
    parallel_for(outer * inner, std::max<int64_t>(1, 4096 / std::max<int64_t>(n, 1)), [&](int64_t lo, int64_t hi) {
      for (int64_t r = lo; r < hi; ++r) {
        const int64_t base = (r / inner) * n * inner + (r % inner);
        T mx = -std::numeric_limits<T>::infinity();
        // NaN-propagating max, not clamped: a row holding NaN or +inf, or only -inf, comes out all NaN
        // (NumPy's and TensorFlow's answer); finite rows give exact zeros at their -inf entries.
        for (int64_t i = 0; i < n; ++i) {
          const T v = xp[base + i * inner];
          if (v > mx || v != v) mx = v;
        }
        T sum = 0;
        for (int64_t i = 0; i < n; ++i) {
          T e = std::exp(xp[base + i * inner] - mx);
          o[base + i * inner] = e;
          sum += e;
        }
        if (log) {
          T ls = std::log(sum);
          for (int64_t i = 0; i < n; ++i) o[base + i * inner] = (xp[base + i * inner] - mx) - ls;
        } else {
          T inv = T(1) / sum;
          for (int64_t i = 0; i < n; ++i) o[base + i * inner] *= inv;
        }
      }
    });
  });
  return out;
}

Tensor softmax_backward(const Tensor& y_in, const Tensor& g_in, int64_t axis, bool log) {
  check_same_shape(y_in, g_in, "softmax backward");
  axis = normalize_axis(axis, y_in.ndim(), "softmax");
  Tensor y = y_in.contiguous(), g = g_in.contiguous();
  Tensor out = Tensor::empty(y.shape(), y.dtype());
  int64_t outer, n, inner;
  arguments::axis_geometry(y, axis, &outer, &n, &inner);
  dispatch_float(y.dtype(), "softmax backward", [&](auto tag) {
    using T = decltype(tag);
    const T* yp = y.data<T>();
    const T* gp = g.data<T>();
    T* o = out.data<T>();
    parallel_for(outer * inner, std::max<int64_t>(1, 4096 / std::max<int64_t>(n, 1)), [&](int64_t lo, int64_t hi) {
      for (int64_t r = lo; r < hi; ++r) {
        const int64_t base = (r / inner) * n * inner + (r % inner);
        T dot = 0;
        if (log) {
          for (int64_t i = 0; i < n; ++i) dot += gp[base + i * inner];
          for (int64_t i = 0; i < n; ++i)
            o[base + i * inner] = gp[base + i * inner] - std::exp(yp[base + i * inner]) * dot;
        } else {
          for (int64_t i = 0; i < n; ++i) dot += gp[base + i * inner] * yp[base + i * inner];
          for (int64_t i = 0; i < n; ++i)
            o[base + i * inner] = yp[base + i * inner] * (gp[base + i * inner] - dot);
        }
      }
    });
  });
  return out;
}

}  // namespace kcore::cpu
