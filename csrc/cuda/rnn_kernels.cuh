// The fused per-step kernels of cuda/rnn.cu: one thread per (batch row b, unit j), n = B * U.
// Each computes, for its element, what cpu/rnn.cpp's row functions compute for a whole row, with
// the same gate layouts (LSTM i, f, c, o; GRU z, r, h) and mask semantics (masked steps carry
// h and c over; the output repeats the last valid one, zero before it).
#pragma once
#include "cuda/common.cuh"
#include "ops/rnn.h"
#include "ops/rnn_math.h"

namespace kcore::cuda::rnn_kernels {

using rnn_math::grad;
using rnn_math::value;

template <typename M>
__global__ void mask_kernel(const M* mask, uint8_t* out, int64_t b, int64_t t, bool reverse) {
  KC_GRID_STRIDE(e, b * t) {  // e = s * b + i in processed order
    const int64_t s = e / b, i = e - s * b, src = reverse ? t - 1 - s : s;
    out[e] = mask[i * t + src] != M(0);
  }
}

// (B, T, F) <-> (T, B, F) with optional time reversal; to_time_major reads (B, T, F), else writes it.
template <typename T>
__global__ void permute_time_kernel(const T* src, T* dst, int64_t b, int64_t t, int64_t f, bool reverse,
                                    bool to_time_major) {
  KC_GRID_STRIDE(e, b * t * f) {  // e indexes the time-major side
    const int64_t k = e % f, i = (e / f) % b, s = e / (f * b), tt = reverse ? t - 1 - s : s;
    const int64_t bm = (i * t + tt) * f + k;
    if (to_time_major) dst[e] = src[bm];
    else dst[bm] = src[e];
  }
}

template <typename T>
__global__ void multiply_kernel(const T* a, const T* b, T* out, int64_t n) {
  KC_GRID_STRIDE(e, n) out[e] = a[e] * b[e];
}

template <typename T>
__global__ void multiply_add_kernel(const T* a, const T* b, T* out, int64_t n) {
  KC_GRID_STRIDE(e, n) out[e] += a[e] * b[e];
}

// ---- forward -------------------------------------------------------------------------------

template <typename T>
struct StepArgs {
  int64_t batch = 0, units = 0, steps = 0, gcount = 1, s = 0;
  RnnActivation act = RnnActivation::tanh, ract = RnnActivation::sigmoid;
  const uint8_t* mask = nullptr;  // (T, B) processed order, or null
  T* gates = nullptr;             // (B, G*U) of step s
  const T* h_prev = nullptr;      // (B, U)
  T* h_next = nullptr;            // (B, U)
  T* c_prev = nullptr;            // LSTM (B, U); c_next = c_prev + B*U
  T* extra = nullptr;             // (B, U) of step s
  const T* rec_input = nullptr;   // h_prev, or h_prev * rec_mask
  const T* b_rec = nullptr;       // GRU reset_after: recurrent bias (3U) or null
  T* rec = nullptr;               // GRU reset_after: (B, 3U) h_{t-1} U
  T* out = nullptr;               // (B, T, U)

  __device__ bool valid(int64_t b) const { return !mask || mask[s * batch + b]; }
  // Masked rows carry h (and c) over; every row writes its output.
  __device__ void finish(int64_t b, int64_t j) const {
    const int64_t e = b * units + j;
    const bool ok = valid(b);
    if (!ok) {
      h_next[e] = h_prev[e];
      if (c_prev) c_prev[batch * units + e] = c_prev[e];
    }
    T* o = out + (b * steps + s) * units + j;
    o[0] = ok ? h_next[e] : (s == 0 ? T(0) : o[-units]);
  }
};

// The forward of element (b, j) for each kind of step; forward_kernel runs one over all elements.
enum class Forward : int { simple, lstm, gru_after, gru_before_gates, gru_before_out };

template <typename T>
__device__ void gru_combine(const StepArgs<T>& a, int64_t b, int64_t j, T z, T n) {
  const int64_t e = b * a.units + j;
  a.h_next[e] = z * a.h_prev[e] + (T(1) - z) * n;
  a.finish(b, j);
}

template <typename T, Forward kStep>
__global__ void forward_kernel(StepArgs<T> a) {
  const int64_t u = a.units;
  KC_GRID_STRIDE(e, a.batch * u) {
    const int64_t b = e / u, j = e - b * u;
    T* g = a.gates + b * a.gcount * u + j;
    if constexpr (kStep == Forward::simple) {
      g[0] = value(a.act, g[0]);
      a.h_next[e] = g[0];
      a.finish(b, j);
    } else if constexpr (kStep == Forward::lstm) {
      const T gi = value(a.ract, g[0]), gf = value(a.ract, g[u]), gc = value(a.act, g[2 * u]),
              go = value(a.ract, g[3 * u]);
      g[0] = gi;
      g[u] = gf;
      g[2 * u] = gc;
      g[3 * u] = go;
      const T cn = gf * a.c_prev[e] + gi * gc;
      a.c_prev[a.batch * u + e] = cn;
      const T tc = value(a.act, cn);
      a.extra[e] = tc;
      a.h_next[e] = go * tc;
      a.finish(b, j);
    } else if constexpr (kStep == Forward::gru_after) {  // gates hold x W + b_in, rec holds h_{t-1} U
      const T* r_in = a.rec + b * 3 * u + j;
      const T* br = a.b_rec ? a.b_rec + j : nullptr;
      const T z = value(a.ract, g[0] + r_in[0] + (br ? br[0] : T(0)));
      const T r = value(a.ract, g[u] + r_in[u] + (br ? br[u] : T(0)));
      const T hh = r_in[2 * u] + (br ? br[2 * u] : T(0));
      const T n = value(a.act, g[2 * u] + r * hh);
      g[0] = z;
      g[u] = r;
      g[2 * u] = n;
      a.extra[e] = hh;
      gru_combine(a, b, j, z, n);
    } else if constexpr (kStep == Forward::gru_before_gates) {  // z, r (recurrent parts added) and r * h_{t-1}
      g[0] = value(a.ract, g[0]);
      g[u] = value(a.ract, g[u]);
      a.extra[e] = g[u] * a.rec_input[e];
    } else {  // gru_before_out: the candidate's pre-activation is complete
      g[2 * u] = value(a.act, g[2 * u]);
      gru_combine(a, b, j, g[0], g[2 * u]);
    }
  }
}

// ---- backward ------------------------------------------------------------------------------

template <typename T>
struct BackStepArgs {
  int64_t batch = 0, units = 0, steps = 0, gcount = 1, s = 0;
  RnnActivation act = RnnActivation::tanh, ract = RnnActivation::sigmoid;
  const uint8_t* mask = nullptr;
  const T* gates = nullptr;      // (B, G*U) activated gates of step s
  const T* h_prev = nullptr;     // (B, U)
  const T* c_prev = nullptr;     // LSTM (B, U)
  const T* extra = nullptr;      // (B, U)
  const T* rec_input = nullptr;  // h_prev, or h_prev * rec_mask
  const T* grad_out = nullptr;   // (B, T, U) or null
  T* dh = nullptr;               // (B, U) gradient w.r.t. h after this step
  T* dh_prev = nullptr;          // (B, U) direct part of the gradient w.r.t. h_{t-1}
  T* dacc = nullptr;             // gradient w.r.t. the recurrent GEMM input: dh_prev, or a scratch
  T* dc = nullptr;               // LSTM (B, U), becomes dc_prev
  T* carry = nullptr;            // (B, U) output gradients waiting for the last valid step
  T* dgx = nullptr;              // (B, G*U) of step s: pre-activation gradients (input side)
  T* dgh = nullptr;              // GRU reset_after: recurrent side; else == dgx

  __device__ bool valid(int64_t b) const { return !mask || mask[s * batch + b]; }
  // Total gradient w.r.t. the new h of element (b, j), stored in dh; false for a masked step
  // (whose state gradient passes through and whose gate gradients are zero).
  __device__ bool gather(int64_t b, int64_t j, T* d) const {
    const int64_t e = b * units + j, gu = gcount * units;
    const T go = grad_out ? grad_out[(b * steps + s) * units + j] : T(0);
    if (!valid(b)) {
      carry[e] += go;
      dh_prev[e] = dh[e];
      for (int64_t k = 0; k < gcount; ++k) {
        dgx[b * gu + k * units + j] = T(0);
        dgh[b * gu + k * units + j] = T(0);
      }
      return false;
    }
    *d = dh[e] + carry[e] + go;
    dh[e] = *d;
    carry[e] = T(0);
    return true;
  }
};

// The backward of element (b, j) for each kind of step; every kind but gru_before_second first
// gathers the total gradient w.r.t. the new h (masked steps stop there).
enum class Backward : int { simple, lstm, gru_after, gru_before_first, gru_before_second };

// Through h = z h_{t-1} + (1 - z) n: dz and dn (slopes applied) into out, and dh_{t-1}'s direct term.
template <typename T>
__device__ void gru_common(const BackStepArgs<T>& a, int64_t e, const T* g, T d, T* out) {
  const int64_t u = a.units;
  const T z = g[0], n = g[2 * u];
  out[0] = grad(a.ract, z, d * (a.h_prev[e] - n));
  out[2 * u] = grad(a.act, n, d * (T(1) - z));
  a.dh_prev[e] = d * z;
}

// drh: gru_before_second's d(r h_{t-1}) (B x U) from the GEMM, else null.
template <typename T, Backward kStep>
__global__ void backward_kernel(BackStepArgs<T> a, const T* drh) {
  const int64_t u = a.units;
  KC_GRID_STRIDE(e, a.batch * u) {
    const int64_t b = e / u, j = e - b * u;
    const T* g = a.gates + b * a.gcount * u + j;
    T* gx = a.dgx + b * a.gcount * u + j;
    if constexpr (kStep == Backward::gru_before_second) {  // d(r h) splits into dr and a dh_{t-1} term
      if (!a.valid(b)) continue;                           // masked rows got drh = 0
      gx[u] = grad(a.ract, g[u], drh[e] * a.rec_input[e]);
      a.dacc[e] += drh[e] * g[u];
      continue;
    }
    T d;
    if (!a.gather(b, j, &d)) continue;
    if constexpr (kStep == Backward::simple) {
      gx[0] = grad(a.act, g[0], d);
      a.dh_prev[e] = T(0);
    } else if constexpr (kStep == Backward::lstm) {
      const T gi = g[0], gf = g[u], gc = g[2 * u], go = g[3 * u], tc = a.extra[e];
      const T dct = a.dc[e] + grad(a.act, tc, d * go);
      gx[0] = grad(a.ract, gi, dct * gc);
      gx[u] = grad(a.ract, gf, dct * a.c_prev[e]);
      gx[2 * u] = grad(a.act, gc, dct * gi);
      gx[3 * u] = grad(a.ract, go, d * tc);
      a.dc[e] = dct * gf;
      a.dh_prev[e] = T(0);
    } else if constexpr (kStep == Backward::gru_after) {
      T* gh = a.dgh + b * 3 * u + j;
      gru_common(a, e, g, d, gx);
      gx[u] = grad(a.ract, g[u], gx[2 * u] * a.extra[e]);
      gh[2 * u] = gx[2 * u] * g[u];
      gh[0] = gx[0];
      gh[u] = gx[u];
    } else {  // gru_before_first: dz, dn, dh_{t-1}'s direct term; dr needs d(r h) from a GEMM
      gru_common(a, e, g, d, gx);
    }
  }
}

}  // namespace kcore::cuda::rnn_kernels
