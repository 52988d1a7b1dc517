// Pieces shared by the recurrent forward (rnn_forward.cpp) and backward (rnn_backward.cpp)
// kernels on the CPU: gate activations from ops/activation_math.h, the GEMM choice, and how the
// packed path splits units over threads.
#pragma once
#include <cstring>
#include <immintrin.h>
#include <type_traits>

#include "core/blas.h"
#include "core/parallel.h"
#include "cpu/gemm_packed.h"
#include "cpu/rnn_gemm.h"
#include "cpu/sequence_layout.h"
#include "ops/activation_math.h"
#include "ops/rnn.h"

namespace kcore::rnn_cpu {

// Calls fn(std::integral_constant<UnaryOp, op>) for the UnaryOp that computes `a`; linear
// (the identity) calls nothing. A compile-time op folds activation_math's switch out of the loops.
template <typename Fn> inline void with_unary(RnnActivation a, Fn&& fn) {
  switch (a) {
    case RnnActivation::linear: return;
    case RnnActivation::tanh: return fn(std::integral_constant<UnaryOp, UnaryOp::tanh>());
    case RnnActivation::relu: return fn(std::integral_constant<UnaryOp, UnaryOp::relu>());
    case RnnActivation::sigmoid: return fn(std::integral_constant<UnaryOp, UnaryOp::sigmoid>());
    case RnnActivation::hard_sigmoid: return fn(std::integral_constant<UnaryOp, UnaryOp::hard_sigmoid>());
    case RnnActivation::hard_sigmoid_k2: return fn(std::integral_constant<UnaryOp, UnaryOp::hard_sigmoid_k2>());
  }
}

// A recurrent activation fixed at compile time: its value, and its slope from its output.
template <RnnActivation A> struct Act {
  static constexpr UnaryOp op() {
    switch (A) {
      case RnnActivation::relu: return UnaryOp::relu;
      case RnnActivation::sigmoid: return UnaryOp::sigmoid;
      case RnnActivation::hard_sigmoid: return UnaryOp::hard_sigmoid;
      case RnnActivation::hard_sigmoid_k2: return UnaryOp::hard_sigmoid_k2;
      default: return UnaryOp::tanh;  // tanh (linear never reaches activation_math)
    }
  }
  template <typename T> KCORE_MATH static T value(T x) {
    if constexpr (A == RnnActivation::linear) return x;
    else return activation::value(op(), x, T(0));
  }
  template <typename T> KCORE_MATH static T slope(T y) {
    if constexpr (A == RnnActivation::linear) return T(1);
    else return activation::derivative_from_output(op(), y);
  }
};

// Calls fn(Act<a>{}) (every activation, linear included), so a fused gate loop compiles per pair.
template <typename Fn> inline void with_act(RnnActivation a, Fn&& fn) {
  switch (a) {
    case RnnActivation::linear: return fn(Act<RnnActivation::linear>());
    case RnnActivation::tanh: return fn(Act<RnnActivation::tanh>());
    case RnnActivation::relu: return fn(Act<RnnActivation::relu>());
    case RnnActivation::sigmoid: return fn(Act<RnnActivation::sigmoid>());
    case RnnActivation::hard_sigmoid: return fn(Act<RnnActivation::hard_sigmoid>());
    case RnnActivation::hard_sigmoid_k2: return fn(Act<RnnActivation::hard_sigmoid_k2>());
  }
}

// with_act for a cell's (recurrent_activation, activation) pair: fn(RecAct, Act).
template <typename Fn> inline void with_acts(const RnnConfig& c, Fn&& fn) {
  with_act(c.recurrent_activation, [&](auto ra) { with_act(c.activation, [&](auto a) { fn(ra, a); }); });
}

// v[j] = act(v[j]) for j < n.
template <typename T> inline void activate(RnnActivation a, T* v, int64_t n) {
  with_unary(a, [&](auto op) {
    for (int64_t j = 0; j < n; ++j) v[j] = activation::value(decltype(op)::value, v[j], T(0));
  });
}

// g[j] *= act'(x) where y[j] = act(x) (every recurrent activation's slope is a function of its output).
template <typename T> inline void scale_by_slope(RnnActivation a, const T* y, T* g, int64_t n) {
  with_unary(a, [&](auto op) {
    for (int64_t j = 0; j < n; ++j) g[j] *= activation::derivative_from_output(decltype(op)::value, y[j]);
  });
}

// dst[0:n) = src[0:n) for values written once and read back only by the backward pass: float32
// rows of whole 64-byte lines go around the cache (non-temporal stores, no read for ownership).
template <typename T> inline void stream_out(T* dst, const T* src, int64_t n) {
#if defined(__AVX512F__)
  if constexpr (std::is_same_v<T, float>) {
    if ((reinterpret_cast<uintptr_t>(dst) & 63) == 0 && n % 16 == 0) {
      for (int64_t j = 0; j < n; j += 16) _mm512_stream_ps(dst + j, _mm512_loadu_ps(src + j));
      return;
    }
  }
#endif
  std::memcpy(dst, src, n * sizeof(T));
}

// Orders this thread's non-temporal stores before what follows (the end of a parallel region).
inline void stream_fence() {
#if defined(__AVX512F__)
  _mm_sfence();
#endif
}

inline int64_t gate_count(const RnnConfig& c) { return rnn_gate_count(c); }

// The per-step gate kernels split the batch rows over kcore's OpenMP team (the team that runs the GEMMs).
template <typename Fn> void for_rows(int64_t rows, Fn&& fn) {
  parallel_for(rows, 8, [&](int64_t lo, int64_t hi) {
    for (int64_t b = lo; b < hi; ++b) fn(b);
  });
}

using sequence::copy_or_zero;  // layout helpers shared with the ConvLSTM kernels
using sequence::permute_time;
using sequence::processed_mask;

// The GEMMs over all steps at once of the step-by-step path (input projection, input gradient,
// weight gradients): kcore's packed GEMM for float32, the BLAS library for float64. beta: 0 or 1.
template <typename T>
void pass_gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, const T* b, int64_t ldb,
               T beta, T* c, int64_t ldc) {
  if constexpr (std::is_same_v<T, float>) packed::gemm(ta, tb, m, n, k, a, lda, b, ldb, c, ldc, beta != T(0));
  else gemm<T>(ta, tb, m, n, k, T(1), a, lda, b, ldb, beta, c, ldc);
}

// ---- packed path (float32): weight-stationary threads over ranges of units ------------------
// Each thread owns the units [lo, hi) (whole panels of the packed GEMM) of every gate: it packs
// those weight panels once per pass, keeps them in its cache for all steps, and runs the gate
// kernel on its columns right after its GEMM tile. One barrier per step joins the threads.

// Whether a pass runs on the packed path: float32 and one recurrent GEMM per step.
inline bool packed_path(const RnnConfig& c, DType dt) {
  return dt == DType::f32 && !(c.cell == RnnCell::gru && !c.reset_after);
}

// How many threads share the units (each needs at least one panel of nr columns).
inline int unit_team(int64_t units, int64_t nr = packed::kNR) {
  const int64_t blocks = (units + nr - 1) / nr;
  return omp_in_parallel() ? 1 : int(std::max<int64_t>(1, std::min<int64_t>(num_threads(), blocks)));
}

struct UnitRange {
  int64_t lo, hi;              // units
  int64_t panel_lo, panel_hi;  // panels of a per-gate packed matrix (units x units or gates*units x units)
};

inline UnitRange unit_range(int64_t units, int tid, int nt, int64_t nr = packed::kNR) {
  const int64_t blocks = (units + nr - 1) / nr;
  const int64_t p0 = blocks * tid / nt, p1 = blocks * (tid + 1) / nt;
  return {std::min(units, p0 * nr), std::min(units, p1 * nr), p0, p1};
}

}  // namespace kcore::rnn_cpu
