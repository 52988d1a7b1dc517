// CPU kernels for broadcasting binary arithmetic and unary math (forward and backward), comparisons
// and logical connectives (bool results) and where.
#include "ops/elementwise.h"

#include <cmath>
#include <cstring>
#include <type_traits>

#include "core/broadcast.h"
#include "ops/activation_math.h"
#include "ops/reduce.h"

namespace kcore::cpu {

namespace {
// Applies f elementwise over three broadcast operands: out[i] = f(a[i], b[i]).
template <typename T, typename F> void map2(const BroadcastPlan<3>& p, T* out, const T* a, const T* b, F f) {
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

template <typename T> void binary_kernel(BinaryOp op, const BroadcastPlan<3>& p, T* o, const T* a, const T* b) {
  using C = acc_t<T>;  // bf16 operands compute in float
  switch (op) {
    case BinaryOp::add: return map2(p, o, a, b, [](C x, C y) { return x + y; });
    case BinaryOp::subtract: return map2(p, o, a, b, [](C x, C y) { return x - y; });
    case BinaryOp::multiply: return map2(p, o, a, b, [](C x, C y) { return x * y; });
    case BinaryOp::divide: return map2(p, o, a, b, [](C x, C y) { return x / y; });
    case BinaryOp::power: return map2(p, o, a, b, [](C x, C y) { return std::pow(x, y); });
    case BinaryOp::maximum: return map2(p, o, a, b, [](C x, C y) { return (x >= y || std::isnan(x)) ? x : y; });
    case BinaryOp::minimum: return map2(p, o, a, b, [](C x, C y) { return (x <= y || std::isnan(x)) ? x : y; });
  }
}

template <typename T> void compare_kernel(CompareOp op, const BroadcastPlan<3>& p, T* o, const T* a, const T* b) {
  // Truth of an element for the logical ops: nonzero, NaN included (x != 0 holds for NaN).
  auto truth = [](T v) { return v != T(0); };
  switch (op) {
    case CompareOp::equal: return map2(p, o, a, b, [](T x, T y) { return x == y ? T(1) : T(0); });
    case CompareOp::not_equal: return map2(p, o, a, b, [](T x, T y) { return x != y ? T(1) : T(0); });
    case CompareOp::less: return map2(p, o, a, b, [](T x, T y) { return x < y ? T(1) : T(0); });
    case CompareOp::less_equal: return map2(p, o, a, b, [](T x, T y) { return x <= y ? T(1) : T(0); });
    case CompareOp::greater: return map2(p, o, a, b, [](T x, T y) { return x > y ? T(1) : T(0); });
    case CompareOp::greater_equal: return map2(p, o, a, b, [](T x, T y) { return x >= y ? T(1) : T(0); });
    case CompareOp::logical_and: return map2(p, o, a, b, [&](T x, T y) { return truth(x) && truth(y) ? T(1) : T(0); });
    case CompareOp::logical_or: return map2(p, o, a, b, [&](T x, T y) { return truth(x) || truth(y) ? T(1) : T(0); });
    case CompareOp::logical_xor: return map2(p, o, a, b, [&](T x, T y) { return truth(x) != truth(y) ? T(1) : T(0); });
  }
}

// d(op)/da and d(op)/db times the incoming gradient g, at the broadcast shape.
template <typename T>
void binary_grad_kernel(BinaryOp op, const Shape& shape, const Tensor& a, const Tensor& b, const Tensor& g, Tensor& ga,
                        Tensor& gb) {
  using C = acc_t<T>;  // bf16 operands compute in float
  auto run = [&](Tensor& out, auto f) {
    if (!out.defined()) return;
    auto p = make_plan<4>(shape, {&out, &g, &a, &b});
    for_each_chunk<T, 4>(p, {out.data<T>(), g.data<T>(), a.data<T>(), b.data<T>()},
                         [&](int64_t n, std::array<T*, 4> q, std::array<int64_t, 4> s) {
                           for (int64_t i = 0; i < n; ++i)
                             q[0][i * s[0]] = f(q[1][i * s[1]], q[2][i * s[2]], q[3][i * s[3]]);
                         });
  };
  switch (op) {
    case BinaryOp::add:
      run(ga, [](C gv, T, T) { return gv; });
      run(gb, [](C gv, T, T) { return gv; });
      break;
    case BinaryOp::subtract:
      run(ga, [](C gv, T, T) { return gv; });
      run(gb, [](C gv, T, T) { return -gv; });
      break;
    case BinaryOp::multiply:
      run(ga, [](C gv, T, C y) { return gv * y; });
      run(gb, [](C gv, C x, T) { return gv * x; });
      break;
    case BinaryOp::divide:
      run(ga, [](C gv, T, C y) { return gv / y; });
      run(gb, [](C gv, C x, C y) { return -gv * x / (y * y); });
      break;
    case BinaryOp::power:
      run(ga, [](C gv, C x, C y) { return y == C(0) ? C(0) : gv * y * std::pow(x, y - C(1)); });
      run(gb, [](C gv, C x, C y) { return x > C(0) ? gv * std::pow(x, y) * std::log(x) : C(0); });
      break;
    case BinaryOp::maximum:
      run(ga, [](C gv, C x, C y) { return x >= y ? gv : C(0); });
      run(gb, [](C gv, C x, C y) { return x >= y ? C(0) : gv; });
      break;
    case BinaryOp::minimum:
      run(ga, [](C gv, C x, C y) { return x <= y ? gv : C(0); });
      run(gb, [](C gv, C x, C y) { return x <= y ? C(0) : gv; });
      break;
  }
}


// The loop over elements is instantiated per op so the compiler can vectorise each one.
// bf16 values compute in float (C = acc_t<T>) and round once at the store.
template <typename T, UnaryOp OP> void unary_loop(int64_t n, T* o, const T* x, acc_t<T> alpha) {
  using C = acc_t<T>;
  for (int64_t i = 0; i < n; ++i) o[i] = T(activation::value<C>(OP, C(x[i]), alpha));
}
template <typename T, UnaryOp OP>
void unary_grad_loop(int64_t n, T* o, const T* x, const T* y, const T* g, acc_t<T> alpha) {
  using C = acc_t<T>;
  for (int64_t i = 0; i < n; ++i) o[i] = T(C(g[i]) * activation::derivative<C>(OP, C(x[i]), C(y[i]), alpha));
}

template <typename T, typename Fn> void with_unary_op(UnaryOp op, Fn&& fn) {
#define KC_CASE(name) \
  case UnaryOp::name: return fn(std::integral_constant<UnaryOp, UnaryOp::name>{});
  switch (op) { KCORE_UNARY_OPS(KC_CASE) }
#undef KC_CASE
  throw ValueError("unknown unary op");
}
}  // namespace

void binary(BinaryOp op, const Tensor& a, const Tensor& b, Tensor& out) {
  auto plan = make_plan<3>(out.shape(), {&out, &a, &b});
  dispatch_float_cpu(a.dtype(), binary_name(op), [&](auto tag) {
    using T = decltype(tag);
    binary_kernel<T>(op, plan, out.data<T>(), a.data<T>(), b.data<T>());
  });
}

void binary_backward(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& grad, Tensor& ga, Tensor& gb) {
  dispatch_float_cpu(grad.dtype(), binary_name(op), [&](auto tag) {
    using T = decltype(tag);
    binary_grad_kernel<T>(op, grad.shape(), a, b, grad, ga, gb);
  });
}

void unary(UnaryOp op, const Tensor& x, double alpha, Tensor& out) {
  dispatch_float_cpu(x.dtype(), "unary", [&](auto tag) {
    using T = decltype(tag);
    const T* xp = x.data<T>();
    T* op_ = out.data<T>();
    with_unary_op<T>(op, [&](auto opc) {
      parallel_for(x.numel(), 1 << 14, [&](int64_t lo, int64_t hi) {
        unary_loop<T, decltype(opc)::value>(hi - lo, op_ + lo, xp + lo, acc_t<T>(alpha));
      });
    });
  });
}

void unary_backward(UnaryOp op, const Tensor& x, const Tensor& y, const Tensor& g, double alpha, Tensor& out) {
  dispatch_float_cpu(x.dtype(), "unary backward", [&](auto tag) {
    using T = decltype(tag);
    with_unary_op<T>(op, [&](auto opc) {
      parallel_for(x.numel(), 1 << 14, [&](int64_t lo, int64_t hi) {
        unary_grad_loop<T, decltype(opc)::value>(hi - lo, out.data<T>() + lo, x.data<T>() + lo, y.data<T>() + lo,
                                                 g.data<T>() + lo, acc_t<T>(alpha));
      });
    });
  });
}

void clip(const Tensor& x, double lo, double hi, Tensor& out) {
  dispatch_float(x.dtype(), "clip", [&](auto tag) {
    using T = decltype(tag);
    const T* xp = x.data<T>();
    T* o = out.data<T>();
    parallel_for(x.numel(), 1 << 15, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) o[i] = std::min(std::max(xp[i], T(lo)), T(hi));
    });
  });
}

void clip_backward(const Tensor& x, const Tensor& g, double lo, double hi, Tensor& out) {
  dispatch_float(x.dtype(), "clip", [&](auto tag) {
    using T = decltype(tag);
    const T* xp = x.data<T>();
    const T* gp = g.data<T>();
    T* o = out.data<T>();
    parallel_for(x.numel(), 1 << 15, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) o[i] = (xp[i] >= T(lo) && xp[i] <= T(hi)) ? gp[i] : T(0);
    });
  });
}

void broadcast_to(const Tensor& x, Tensor& out) {
  auto plan = make_plan<2>(out.shape(), {&out, &x});
  dispatch_all(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    for_each_chunk<T, 2>(plan, {out.data<T>(), x.data<T>()},
                         [&](int64_t n, std::array<T*, 2> q, std::array<int64_t, 2> s) {
                           for (int64_t i = 0; i < n; ++i) q[0][i * s[0]] = q[1][i * s[1]];
                         });
  });
}

void scale(const Tensor& x, double s, Tensor& out) {
  dispatch_float(x.dtype(), "scale", [&](auto tag) {
    using T = decltype(tag);
    const T* xp = x.data<T>();
    T* o = out.data<T>();
    const T sv = T(s);
    parallel_for(x.numel(), 1 << 15, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) o[i] = xp[i] * sv;
    });
  });
}

bool has_nonfinite(const Tensor& x) {
  return dispatch_float(x.dtype(), "isfinite", [&](auto tag) {
    using T = decltype(tag);
    const T* p = x.data<T>();
    bool bad = false;
    for (int64_t i = 0; i < x.numel(); ++i)
      if (!std::isfinite(p[i])) {
        bad = true;
        break;
      }
    return bad;
  });
}

// Computed in the operands' dtype (one vectorisable loop per op), then narrowed to bool.
void compare(CompareOp op, const Tensor& a, const Tensor& b, Tensor& out) {
  Tensor wide = a.dtype() == DType::b8 ? out : Tensor::empty(out.shape(), a.dtype());
  auto plan = make_plan<3>(out.shape(), {&wide, &a, &b});
  dispatch_all(a.dtype(), [&](auto tag) {
    using T = decltype(tag);
    compare_kernel<T>(op, plan, wide.data<T>(), a.data<T>(), b.data<T>());
    if constexpr (!std::is_same_v<T, bool>) {
      const T* w = wide.data<T>();
      bool* o = out.data<bool>();
      parallel_for(out.numel(), 1 << 16, [&](int64_t lo, int64_t hi) {
        for (int64_t i = lo; i < hi; ++i) o[i] = w[i] != T(0);
      });
    }
  });
}

void where(const Tensor& cond, const Tensor& a, const Tensor& b, Tensor& out) {
  Tensor c = cond.astype(a.dtype());  // 0 / 1 in the values' dtype: one element type for the walk
  auto plan = make_plan<4>(out.shape(), {&out, &c, &a, &b});
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
}

}  // namespace kcore::cpu
