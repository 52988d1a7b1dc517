// CPU kernels for comparisons, logical connectives and where (bool results / bool conditions).
#include <array>

#include "core/broadcast.h"
#include "ops/elementwise.h"

namespace kcore {

namespace {
const char* compare_name(CompareOp op) {
  static const char* names[] = {"equal", "not_equal", "less", "less_equal", "greater", "greater_equal",
                                "logical_and", "logical_or", "logical_xor"};
  return names[(int)op];
}

// out (same dtype as the operands, 0 or 1) = op(a, b) over the broadcast shape; the contiguous and
// scalar-operand rows get their own loops so they vectorise.
template <typename T, typename F>
void compare_map(const BroadcastPlan<3>& p, T* out, const T* a, const T* b, F f) {
  for_each_chunk<T, 3>(p, {out, const_cast<T*>(a), const_cast<T*>(b)},
                       [&](int64_t n, std::array<T*, 3> q, std::array<int64_t, 3> s) {
                         T* o = q[0];
                         const T* x = q[1];
                         const T* y = q[2];
                         if (s[0] == 1 && s[1] == 1 && s[2] == 1) {
                           for (int64_t i = 0; i < n; ++i) o[i] = f(x[i], y[i]) ? T(1) : T(0);
                         } else if (s[0] == 1 && s[1] == 1 && s[2] == 0) {
                           const T yv = *y;
                           for (int64_t i = 0; i < n; ++i) o[i] = f(x[i], yv) ? T(1) : T(0);
                         } else if (s[0] == 1 && s[1] == 0 && s[2] == 1) {
                           const T xv = *x;
                           for (int64_t i = 0; i < n; ++i) o[i] = f(xv, y[i]) ? T(1) : T(0);
                         } else {
                           for (int64_t i = 0; i < n; ++i) o[i * s[0]] = f(x[i * s[1]], y[i * s[2]]) ? T(1) : T(0);
                         }
                       });
}

template <typename T>
void compare_kernel(CompareOp op, const BroadcastPlan<3>& p, T* o, const T* a, const T* b) {
  // Truth of an element for the logical ops: nonzero, NaN included (x != 0 holds for NaN).
  auto truth = [](T v) { return v != T(0); };
  switch (op) {
    case CompareOp::equal: return compare_map(p, o, a, b, [](T x, T y) { return x == y; });
    case CompareOp::not_equal: return compare_map(p, o, a, b, [](T x, T y) { return x != y; });
    case CompareOp::less: return compare_map(p, o, a, b, [](T x, T y) { return x < y; });
    case CompareOp::less_equal: return compare_map(p, o, a, b, [](T x, T y) { return x <= y; });
    case CompareOp::greater: return compare_map(p, o, a, b, [](T x, T y) { return x > y; });
    case CompareOp::greater_equal: return compare_map(p, o, a, b, [](T x, T y) { return x >= y; });
    case CompareOp::logical_and: return compare_map(p, o, a, b, [&](T x, T y) { return truth(x) && truth(y); });
    case CompareOp::logical_or: return compare_map(p, o, a, b, [&](T x, T y) { return truth(x) || truth(y); });
    case CompareOp::logical_xor: return compare_map(p, o, a, b, [&](T x, T y) { return truth(x) != truth(y); });
  }
}
}  // namespace

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
                           const T *c = q[1], *x = q[2], *y = q[3];
                           if (s[0] == 1 && s[1] == 1 && s[2] == 1 && s[3] == 1) {
                             for (int64_t i = 0; i < n; ++i) o[i] = c[i] != T(0) ? x[i] : y[i];
                           } else {
                             for (int64_t i = 0; i < n; ++i)
                               o[i * s[0]] = c[i * s[1]] != T(0) ? x[i * s[2]] : y[i * s[3]];
                           }
                         });
  });
  return out;
}

}  // namespace kcore
