// bfloat16 operands for ops with their own bfloat16 kernels (matmul/linear, conv, the recurrent
// layers: the bfloat16 GEMM, cpu/gemm_bf16.h). bf16_native(op, args...) calls op on the operands as
// they are when no tensor argument mixes bfloat16 with float32/float64; a mix computes in float32
// through float_compute (ops/float_compute.h), as every other op does.
#pragma once
#include <utility>

#include "ops/float_compute.h"

namespace kcore {

template <typename F, typename... A> decltype(auto) bf16_native(F&& f, A&&... args) {
  float_compute_detail::Scan s;
  (float_compute_detail::scan(s, args), ...);
  if (s.bf16 && s.wider) return float_compute(std::forward<F>(f), std::forward<A>(args)...);
  return f(std::forward<A>(args)...);
}

// A plain function with op's signature that runs op through bf16_native (for binding).
template <auto Op> struct Bf16Native;
template <typename R, typename... A, R (*Op)(A...)> struct Bf16Native<Op> {
  static R call(A... args) { return bf16_native(Op, std::forward<A>(args)...); }
};

}  // namespace kcore

// The bindable bf16_native wrapper of the entry point kcore::name.
#define KCORE_BF16_NATIVE(name) (&::kcore::Bf16Native<&::kcore::name>::call)
