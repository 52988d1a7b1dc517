// bfloat16 operands computed in float32: the one fallback that makes every op correct on bf16.
//
// float_compute(op, args...) calls op(args...) unchanged when no tensor argument is bfloat16. Otherwise
// it converts each bf16 tensor argument to a float32 temporary, calls op on those, writes float32
// results back into bf16 arguments the op takes by non-const reference (in-place updates), and
// rounds the float32 tensors it returns to bf16 when every floating tensor argument was bf16 (an op
// that also gets a float32 or float64 operand returns what it computed, as Keras 3's type promotion
// does for bfloat16 with float32). Integer and bool tensors pass through in both directions, so an
// argmax or a comparison keeps its dtype. Statistics, reductions and recurrent state are therefore
// float32 inside the op; only the stored results are bf16.
//
// Every bound kernel op runs through it (KCORE_DEF_KERNEL, python/bindings.h), so a new op is correct on
// bf16 with no code of its own. An op whose kernels compute bf16 in float themselves (the elementwise
// unary / binary kernels, reductions and softmax, a bf16 GEMM / convolution / recurrent kernel) is bound with
// KCORE_DEF_KERNEL_BF16 (float_compute_if_mixed: bf16 operands reach it as they are unless float32 or
// float64 ones come with them); pure data movement with KCORE_DEF_KERNEL_ANY_DTYPE (no conversion ever).
#pragma once
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace kcore {
namespace float_compute_detail {

struct Scan {
  bool bf16 = false;   // some tensor argument is bf16
  bool wider = false;  // some tensor argument is float32 or float64
};
inline void scan(Scan& s, const Tensor& t) {
  if (!t.defined()) return;
  if (t.dtype() == DType::bf16) s.bf16 = true;
  else if (t.dtype() == DType::f32 || t.dtype() == DType::f64) s.wider = true;
}
inline void scan(Scan& s, const std::vector<Tensor>& ts) {
  for (const auto& t : ts) scan(s, t);
}
template <typename T> void scan(Scan&, const T&) {}

inline Tensor widen_one(const Tensor& t) { return t.defined() && t.dtype() == DType::bf16 ? t.astype(DType::f32) : t; }
inline Tensor narrow_one(const Tensor& t) { return t.defined() && t.dtype() == DType::f32 ? t.astype(DType::bf16) : t; }
inline std::vector<Tensor> each(const std::vector<Tensor>& ts, Tensor (*fn)(const Tensor&)) {
  std::vector<Tensor> out;
  out.reserve(ts.size());
  for (const auto& t : ts) out.push_back(fn(t));
  return out;
}

inline Tensor widen(const Tensor& t) { return widen_one(t); }
inline OptionalTensor widen(const OptionalTensor& t) { return widen_one(t); }
inline std::vector<Tensor> widen(const std::vector<Tensor>& ts) { return each(ts, widen_one); }
template <typename T> const T& widen(const T& x) { return x; }

template <typename T> const T& narrow(const T& x) { return x; }
inline Tensor narrow(const Tensor& t) { return narrow_one(t); }
inline OptionalTensor narrow(const OptionalTensor& t) { return narrow_one(t); }
inline std::vector<Tensor> narrow(const std::vector<Tensor>& ts) { return each(ts, narrow_one); }
template <typename A, typename B> std::pair<A, B> narrow(const std::pair<A, B>& p) {
  return {narrow(p.first), narrow(p.second)};
}
template <typename... T> std::tuple<T...> narrow(const std::tuple<T...>& t) {
  return std::apply([](const auto&... x) { return std::tuple<T...>(narrow(x)...); }, t);
}

// A bf16 tensor the op updated in place (through its float32 temporary) gets the new values back.
template <typename A> void write_back(A&& original, const std::decay_t<A>& widened) {
  if constexpr (std::is_lvalue_reference_v<A> && !std::is_const_v<std::remove_reference_t<A>> &&
                std::is_base_of_v<Tensor, std::decay_t<A>>) {
    if (original.defined() && original.dtype() == DType::bf16) original.copy_from(widened.astype(DType::bf16));
  }
}

template <typename F, typename... A, size_t... I>
decltype(auto) call_widened(const Scan& s, F&& f, std::index_sequence<I...>, A&&... args) {
  std::tuple<std::decay_t<A>...> wide(widen(args)...);
  using R = decltype(f(std::get<I>(wide)...));
  if constexpr (std::is_void_v<R>) {
    f(std::get<I>(wide)...);
    (write_back(std::forward<A>(args), std::get<I>(wide)), ...);
  } else {
    R out = f(std::get<I>(wide)...);
    (write_back(std::forward<A>(args), std::get<I>(wide)), ...);
    if (s.wider) return out;
    return R(narrow(out));
  }
}

}  // namespace float_compute_detail

template <typename F, typename... A> decltype(auto) float_compute(F&& f, A&&... args) {
  float_compute_detail::Scan s;
  (float_compute_detail::scan(s, args), ...);
  if (!s.bf16) return f(std::forward<A>(args)...);
  return float_compute_detail::call_widened(s, f, std::index_sequence_for<A...>{}, std::forward<A>(args)...);
}

// For an op whose kernels take bf16: op(args...) itself when the floating operands share one dtype
// (all bf16 included), float_compute when bf16 meets float32 or float64.
template <typename F, typename... A> decltype(auto) float_compute_if_mixed(F&& f, A&&... args) {
  float_compute_detail::Scan s;
  (float_compute_detail::scan(s, args), ...);
  if (!s.bf16 || !s.wider) return f(std::forward<A>(args)...);
  return float_compute_detail::call_widened(s, f, std::index_sequence_for<A...>{}, std::forward<A>(args)...);
}

// Plain functions with op's signature that run op through float_compute / float_compute_if_mixed (for binding).
template <auto Op> struct FloatCompute;
template <typename R, typename... A, R (*Op)(A...)> struct FloatCompute<Op> {
  static R call(A... args) { return float_compute(Op, std::forward<A>(args)...); }
  static R call_if_mixed(A... args) { return float_compute_if_mixed(Op, std::forward<A>(args)...); }
};

}  // namespace kcore

// The bindable float_compute wrapper of the entry point kcore::name, and its float_compute_if_mixed one.
#define KCORE_FLOAT_COMPUTE(name) (&::kcore::FloatCompute<&::kcore::name>::call)
#define KCORE_FLOAT_COMPUTE_IF_MIXED(name) (&::kcore::FloatCompute<&::kcore::name>::call_if_mixed)
