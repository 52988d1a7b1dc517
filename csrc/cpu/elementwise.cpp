// CPU kernels for broadcasting binary arithmetic and unary math (forward and backward), comparisons
// and logical connectives (bool results) and where.
#include "ops/elementwise.h"

#include <cmath>
#include <cstring>

#include "core/broadcast.h"
#include "ops/activation_math.h"
#include "ops/reduce.h"

namespace kcore::cpu {

namespace {
const char* binary_name(BinaryOp op) {
  static const char* names[] = {"add", "subtract", "multiply", "divide", "power", "maximum", "minimum"};
  return names[(int)op];
}

// Applies f elementwise over three broadcast operands: out[i] = f(a[i], b[i]).
template <typename T, typename F>
void map2(const BroadcastPlan<3>& p, T* out, const T* a, const T* b, F f) {
  for_each_chunk<T, 3>(p, {out, const_cast<T*>(a), const_cast<T*>(b)},
                       [&](int64_t n, std::array<T*, 3> q, std::array<int64_t, 3> s) {
                         T* o = q[0];
                         const T* x = q[1];
                         const T* y = q[2];
                         if (s[1] == 1 && s[2] == 1) {
                           for (int64_t i = 0; i < n; ++i) o[i] = f(x[i], y[i]);
                         } else if (s[1] == 1 && s[2] == 0) {
                           const T yv = *y;
                           for (int64_t i = 0; i < n; ++i) o[i] = f(x[i], yv);
                         } else if (s[1] == 0 && s[2] == 1) {
                           const T xv = *x;
                           for (int64_t i = 0; i < n; ++i) o[i] = f(xv, y[i]);
                         } else {
                           for (int64_t i = 0; i < n; ++i) o[i] = f(x[i * s[1]], y[i * s[2]]);
                         }
                       });
}

template <typename T>
void binary_kernel(BinaryOp op, const BroadcastPlan<3>& p, T* o, const T* a, const T* b) {
  switch (op) {
    case BinaryOp::add: return map2(p, o, a, b, [](T x, T y) { return x + y; });
    case BinaryOp::subtract: return map2(p, o, a, b, [](T x, T y) { return x - y; });
    case BinaryOp::multiply: return map2(p, o, a, b, [](T x, T y) { return x * y; });
    case BinaryOp::divide: return map2(p, o, a, b, [](T x, T y) { return x / y; });
    case BinaryOp::power: return map2(p, o, a, b, [](T x, T y) { return std::pow(x, y); });
    case BinaryOp::maximum: return map2(p, o, a, b, [](T x, T y) { return (x >= y || std::isnan(x)) ? x : y; });
    case BinaryOp::minimum: return map2(p, o, a, b, [](T x, T y) { return (x <= y || std::isnan(x)) ? x : y; });
  }
}

const char* compare_name(CompareOp op) {
  static const char* names[] = {"equal", "not_equal", "less", "less_equal", "greater", "greater_equal",
                                "logical_and", "logical_or", "logical_xor"};
  return names[(int)op];
}

template <typename T>
void compare_kernel(CompareOp op, const BroadcastPlan<3>& p, T* o, const T* a, const T* b) {
  // Truth of an element for the logical ops: nonzero, NaN included (x != 0 holds for NaN).
  auto truth = [](T v) { return v != T(0); };
  switch (op) {
    case CompareOp::equal: return map2(p, o, a, b, [](T x, T y) { return x == y ? T(1) : T(0); });
    case CompareOp::not_equal: return map2(p, o, a, b, [](T x, T y) { return x != y ? T(1) : T(0); });
    case CompareOp::less: return map2(p, o, a, b, [](T x, T y) { return x < y ? T(1) : T(0); });
    case CompareOp::less_equal: return map2(p, o, a, b, [](T x, T y) { return x <= y ? T(1) : T(0); });
    case CompareOp::greater: return map2(p, o, a, b, [](T x, T y) { return x > y ? T(1) : T(0); });
    case CompareOp::greater_equal: return map2(p, o, a, b, [](T x, T y) { return x >= y ? T(1) : T(0); });
    case CompareOp::logical_and:
      return map2(p, o, a, b, [&](T x, T y) { return truth(x) && truth(y) ? T(1) : T(0); });
    case CompareOp::logical_or:
      return map2(p, o, a, b, [&](T x, T y) { return truth(x) || truth(y) ? T(1) : T(0); });
    case CompareOp::logical_xor:
      return map2(p, o, a, b, [&](T x, T y) { return truth(x) != truth(y) ? T(1) : T(0); });
  }
}

// d(op)/da and d(op)/db times the incoming gradient g, at the broadcast shape.
template <typename T>
void binary_grad_kernel(BinaryOp op, const Shape& shape, const Tensor& a, const Tensor& b, const Tensor& g,
                        Tensor* ga, Tensor* gb) {
  auto run = [&](Tensor* out, auto f) {
    if (!out) return;
    *out = Tensor::empty(shape, g.dtype());
    auto p = make_plan<4>(shape, {out, &g, &a, &b});
    for_each_chunk<T, 4>(p, {out->data<T>(), g.data<T>(), a.data<T>(), b.data<T>()},
                         [&](int64_t n, std::array<T*, 4> q, std::array<int64_t, 4> s) {
                           for (int64_t i = 0; i < n; ++i)
                             q[0][i * s[0]] = f(q[1][i * s[1]], q[2][i * s[2]], q[3][i * s[3]]);
                         });
  };
  switch (op) {
    case BinaryOp::add:
      run(ga, [](T gv, T, T) { return gv; });
      run(gb, [](T gv, T, T) { return gv; });
      break;
    case BinaryOp::subtract:
      run(ga, [](T gv, T, T) { return gv; });
      run(gb, [](T gv, T, T) { return -gv; });
      break;
    case BinaryOp::multiply:
      run(ga, [](T gv, T, T y) { return gv * y; });
      run(gb, [](T gv, T x, T) { return gv * x; });
      break;
    case BinaryOp::divide:
      run(ga, [](T gv, T, T y) { return gv / y; });
      run(gb, [](T gv, T x, T y) { return -gv * x / (y * y); });
      break;
    case BinaryOp::power:
      run(ga, [](T gv, T x, T y) { return y == T(0) ? T(0) : gv * y * std::pow(x, y - T(1)); });
      run(gb, [](T gv, T x, T y) { return x > T(0) ? gv * std::pow(x, y) * std::log(x) : T(0); });
      break;
    case BinaryOp::maximum:
      run(ga, [](T gv, T x, T y) { return x >= y ? gv : T(0); });
      run(gb, [](T gv, T x, T y) { return x >= y ? T(0) : gv; });
      break;
    case BinaryOp::minimum:
      run(ga, [](T gv, T x, T y) { return x <= y ? gv : T(0); });
      run(gb, [](T gv, T x, T y) { return x <= y ? T(0) : gv; });
      break;
  }
}


// The loop over elements is instantiated per op so the compiler can vectorise each one.
template <typename T, UnaryOp OP>
void unary_loop(int64_t n, T* o, const T* x, T alpha) {
  for (int64_t i = 0; i < n; ++i) o[i] = activation::value<T>(OP, x[i], alpha);
}
template <typename T, UnaryOp OP>
void unary_grad_loop(int64_t n, T* o, const T* x, const T* y, const T* g, T alpha) {
  for (int64_t i = 0; i < n; ++i) o[i] = g[i] * activation::derivative<T>(OP, x[i], y[i], alpha);
}

template <typename T, typename Fn>
void with_unary_op(UnaryOp op, Fn&& fn) {
#define KC_CASE(name) \
  case UnaryOp::name: return fn(std::integral_constant<UnaryOp, UnaryOp::name>{});
  switch (op) {
    KC_CASE(negative) KC_CASE(exp) KC_CASE(log) KC_CASE(sqrt) KC_CASE(square) KC_CASE(abs) KC_CASE(tanh)
    KC_CASE(sigmoid) KC_CASE(relu) KC_CASE(elu) KC_CASE(selu) KC_CASE(softplus) KC_CASE(softsign)
    KC_CASE(hard_sigmoid) KC_CASE(hard_sigmoid_k2) KC_CASE(gelu) KC_CASE(gelu_tanh) KC_CASE(silu)
    KC_CASE(leaky_relu) KC_CASE(relu6) KC_CASE(log_sigmoid) KC_CASE(reciprocal) KC_CASE(sin) KC_CASE(cos)
    KC_CASE(sign) KC_CASE(mish)
  }
#undef KC_CASE
  throw ValueError("unknown unary op");
}
}  // namespace

Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b) {
  const char* name = binary_name(op);
  check_float(a, name, "x1");
  check_float(b, name, "x2");
  check_same_dtype(a, b, name);
  Shape shape = broadcast_shapes(a.shape(), b.shape(), name);
  Tensor out = Tensor::empty(shape, a.dtype());
  if (out.numel() == 0) return out;
  auto plan = make_plan<3>(shape, {&out, &a, &b});
  dispatch_float(a.dtype(), name, [&](auto tag) {
    using T = decltype(tag);
    binary_kernel<T>(op, plan, out.data<T>(), a.data<T>(), b.data<T>());
  });
  return out;
}

std::pair<Tensor, Tensor> binary_backward(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& grad,
                                          bool need_a, bool need_b) {
  const char* name = binary_name(op);
  check_same_dtype(a, grad, name);
  check_same_dtype(b, grad, name);
  Shape shape = broadcast_shapes(a.shape(), b.shape(), name);
  KCORE_CHECK(grad.shape() == shape, name << " backward: gradient shape " << shape_str(grad.shape())
                                          << " does not match output shape " << shape_str(shape));
  Tensor ga, gb;
  dispatch_float(grad.dtype(), name, [&](auto tag) {
    using T = decltype(tag);
    binary_grad_kernel<T>(op, shape, a, b, grad, need_a ? &ga : nullptr, need_b ? &gb : nullptr);
  });
  if (need_a) ga = cpu::sum_to_shape(ga, a.shape());
  if (need_b) gb = cpu::sum_to_shape(gb, b.shape());
  return {ga, gb};
}

Tensor unary(UnaryOp op, const Tensor& x_in, double alpha) {
  check_float(x_in, "unary", "x");
  Tensor x = x_in.contiguous();
  Tensor out = Tensor::empty(x.shape(), x.dtype());
  dispatch_float(x.dtype(), "unary", [&](auto tag) {
    using T = decltype(tag);
    const T* xp = x.data<T>();
    T* op_ = out.data<T>();
    with_unary_op<T>(op, [&](auto opc) {
      parallel_for(x.numel(), 1 << 14, [&](int64_t lo, int64_t hi) {
        unary_loop<T, decltype(opc)::value>(hi - lo, op_ + lo, xp + lo, T(alpha));
      });
    });
  });
  return out;
}

Tensor unary_backward(UnaryOp op, const Tensor& x_in, const Tensor& y_in, const Tensor& g_in, double alpha) {
  check_float(g_in, "unary backward", "grad");
  check_same_shape(x_in, g_in, "unary backward");
  check_same_shape(y_in, g_in, "unary backward");
  Tensor x = x_in.contiguous(), y = y_in.contiguous(), g = g_in.contiguous();
  Tensor out = Tensor::empty(x.shape(), x.dtype());
  dispatch_float(x.dtype(), "unary backward", [&](auto tag) {
    using T = decltype(tag);
    with_unary_op<T>(op, [&](auto opc) {
      parallel_for(x.numel(), 1 << 14, [&](int64_t lo, int64_t hi) {
        unary_grad_loop<T, decltype(opc)::value>(hi - lo, out.data<T>() + lo, x.data<T>() + lo, y.data<T>() + lo,
                                                 g.data<T>() + lo, T(alpha));
      });
    });
  });
  return out;
}

Tensor clip(const Tensor& x_in, double lo, double hi) {
  check_float(x_in, "clip", "x");
  Tensor x = x_in.contiguous();
  Tensor out = Tensor::empty(x.shape(), x.dtype());
  dispatch_float(x.dtype(), "clip", [&](auto tag) {
    using T = decltype(tag);
    const T* xp = x.data<T>();
    T* o = out.data<T>();
    parallel_for(x.numel(), 1 << 15, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) o[i] = std::min(std::max(xp[i], T(lo)), T(hi));
    });
  });
  return out;
}

Tensor clip_backward(const Tensor& x_in, const Tensor& g_in, double lo, double hi) {
  check_same_shape(x_in, g_in, "clip backward");
  Tensor x = x_in.contiguous(), g = g_in.contiguous();
  Tensor out = Tensor::empty(x.shape(), x.dtype());
  dispatch_float(x.dtype(), "clip", [&](auto tag) {
    using T = decltype(tag);
    const T* xp = x.data<T>();
    const T* gp = g.data<T>();
    T* o = out.data<T>();
    parallel_for(x.numel(), 1 << 15, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) o[i] = (xp[i] >= T(lo) && xp[i] <= T(hi)) ? gp[i] : T(0);
    });
  });
  return out;
}

Tensor sum_to_shape(const Tensor& grad, const Shape& shape) {
  if (grad.shape() == shape) return grad;
  const int64_t lead = grad.ndim() - (int64_t)shape.size();
  KCORE_CHECK(lead >= 0, "sum_to_shape: cannot reduce " << shape_str(grad.shape()) << " to " << shape_str(shape));
  std::vector<int64_t> axes;
  for (int64_t d = 0; d < grad.ndim(); ++d)
    if (d < lead || (shape[d - lead] == 1 && grad.shape()[d] != 1)) axes.push_back(d);
  Tensor r = cpu::reduce(ReduceOp::sum, grad, axes, false);
  return r.contiguous().view(shape);
}

Tensor broadcast_to(const Tensor& x, const Shape& shape) {
  Shape s = broadcast_shapes(x.shape(), shape, "broadcast_to");
  KCORE_CHECK(s == shape, "broadcast_to: cannot broadcast " << shape_str(x.shape()) << " to " << shape_str(shape));
  Tensor out = Tensor::empty(shape, x.dtype());
  if (out.numel() == 0) return out;
  auto plan = make_plan<2>(shape, {&out, &x});
  dispatch_all(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    for_each_chunk<T, 2>(plan, {out.data<T>(), x.data<T>()},
                         [&](int64_t n, std::array<T*, 2> q, std::array<int64_t, 2> s) {
                           for (int64_t i = 0; i < n; ++i) q[0][i * s[0]] = q[1][i * s[1]];
                         });
  });
  return out;
}

Tensor scale(const Tensor& x_in, double s) {
  check_float(x_in, "scale", "x");
  Tensor x = x_in.contiguous();
  Tensor out = Tensor::empty(x.shape(), x.dtype());
  dispatch_float(x.dtype(), "scale", [&](auto tag) {
    using T = decltype(tag);
    const T* xp = x.data<T>();
    T* o = out.data<T>();
    const T sv = T(s);
    parallel_for(x.numel(), 1 << 15, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) o[i] = xp[i] * sv;
    });
  });
  return out;
}

bool has_nonfinite(const Tensor& x_in) {
  if (!is_floating(x_in.dtype())) return false;
  Tensor x = x_in.contiguous();
  return dispatch_float(x.dtype(), "isfinite", [&](auto tag) {
    using T = decltype(tag);
    const T* p = x.data<T>();
    bool bad = false;
    for (int64_t i = 0; i < x.numel(); ++i)
      if (!std::isfinite(p[i])) { bad = true; break; }
    return bad;
  });
}

Tensor compare(CompareOp op, const Tensor& a, const Tensor& b) {
  const char* name = compare_name(op);
  check_same_dtype(a, b, name);
  Shape shape = broadcast_shapes(a.shape(), b.shape(), name);
  // Computed in the operands' dtype (one vectorisable loop per op), then narrowed to bool.
  Tensor wide = Tensor::empty(shape, a.dtype());
  if (wide.numel() == 0) return Tensor::empty(shape, DType::b8);
  auto plan = make_plan<3>(shape, {&wide, &a, &b});
  dispatch_all(a.dtype(), [&](auto tag) {
    using T = decltype(tag);
    compare_kernel<T>(op, plan, wide.data<T>(), a.data<T>(), b.data<T>());
  });
  return a.dtype() == DType::b8 ? wide : wide.astype(DType::b8);
}

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  KCORE_CHECK(cond.dtype() == DType::b8, "where: condition must be a bool tensor, got " << dtype_name(cond.dtype()));
  check_same_dtype(a, b, "where");
  Shape shape = broadcast_shapes(broadcast_shapes(cond.shape(), a.shape(), "where"), b.shape(), "where");
  Tensor out = Tensor::empty(shape, a.dtype());
  if (out.numel() == 0) return out;
  Tensor c = cond.astype(a.dtype());  // 0 / 1 in the values' dtype: one element type for the walk
  auto plan = make_plan<4>(shape, {&out, &c, &a, &b});
  dispatch_all(a.dtype(), [&](auto tag) {
    using T = decltype(tag);
    for_each_chunk<T, 4>(plan, {out.data<T>(), c.data<T>(), a.data<T>(), b.data<T>()},
                         [&](int64_t n, std::array<T*, 4> q, std::array<int64_t, 4> s) {
                           T* o = q[0];
                           const T *k = q[1], *x = q[2], *y = q[3];
                           if (s[0] == 1 && s[1] == 1 && s[2] == 1 && s[3] == 1) {
                             for (int64_t i = 0; i < n; ++i) o[i] = k[i] != T(0) ? x[i] : y[i];
                           } else {
                             for (int64_t i = 0; i < n; ++i)
                               o[i * s[0]] = k[i * s[1]] != T(0) ? x[i * s[2]] : y[i * s[3]];
                           }
                         });
  });
  return out;
}

}  // namespace kcore::cpu
