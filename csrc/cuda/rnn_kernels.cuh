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
  int64_t batch = 0, units = 0, steps = 0, s = 0;
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

template <typename T>
__global__ void simple_forward_kernel(StepArgs<T> a) {
  KC_GRID_STRIDE(e, a.batch * a.units) {
    const int64_t b = e / a.units, j = e - b * a.units;
    T* z = a.gates + e;  // G = 1: the gate row is the unit row
    *z = value(a.act, *z);
    a.h_next[e] = *z;
    a.finish(b, j);
  }
}

template <typename T>
__global__ void lstm_forward_kernel(StepArgs<T> a) {
  const int64_t u = a.units;
  KC_GRID_STRIDE(e, a.batch * u) {
    const int64_t b = e / u, j = e - b * u;
    T* g = a.gates + b * 4 * u + j;
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
  }
}

template <typename T>
__device__ void gru_combine(const StepArgs<T>& a, int64_t b, int64_t j, T z, T n) {
  const int64_t e = b * a.units + j;
  a.h_next[e] = z * a.h_prev[e] + (T(1) - z) * n;
  a.finish(b, j);
}

// reset_after: gates hold x W + b_in, rec holds h_{t-1} U.
template <typename T>
__global__ void gru_after_forward_kernel(StepArgs<T> a) {
  const int64_t u = a.units;
  KC_GRID_STRIDE(e, a.batch * u) {
    const int64_t b = e / u, j = e - b * u;
    T* g = a.gates + b * 3 * u + j;
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
  }
}

// reset_after=False, first half: z and r (their recurrent part is already added), and r * h_{t-1}.
template <typename T>
__global__ void gru_before_gates_kernel(StepArgs<T> a) {
  const int64_t u = a.units;
  KC_GRID_STRIDE(e, a.batch * u) {
    const int64_t b = e / u, j = e - b * u;
    T* g = a.gates + b * 3 * u + j;
    g[0] = value(a.ract, g[0]);
    g[u] = value(a.ract, g[u]);
    a.extra[e] = g[u] * a.rec_input[e];
  }
}

// Second half: the candidate's pre-activation is complete.
template <typename T>
__global__ void gru_before_out_kernel(StepArgs<T> a) {
  const int64_t u = a.units;
  KC_GRID_STRIDE(e, a.batch * u) {
    const int64_t b = e / u, j = e - b * u;
    T* g = a.gates + b * 3 * u + j;
    g[2 * u] = value(a.act, g[2 * u]);
    gru_combine(a, b, j, g[0], g[2 * u]);
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

template <typename T>
__global__ void simple_backward_kernel(BackStepArgs<T> a) {
  KC_GRID_STRIDE(e, a.batch * a.units) {
    const int64_t b = e / a.units, j = e - b * a.units;
    T d;
    if (!a.gather(b, j, &d)) continue;
    a.dgx[e] = grad(a.act, a.gates[e], d);
    a.dh_prev[e] = T(0);
  }
}

template <typename T>
__global__ void lstm_backward_kernel(BackStepArgs<T> a) {
  const int64_t u = a.units;
  KC_GRID_STRIDE(e, a.batch * u) {
    const int64_t b = e / u, j = e - b * u;
    T d;
    if (!a.gather(b, j, &d)) continue;
    const T* g = a.gates + b * 4 * u + j;
    const T gi = g[0], gf = g[u], gc = g[2 * u], go = g[3 * u], tc = a.extra[e];
    const T dct = a.dc[e] + grad(a.act, tc, d * go);
    T* out = a.dgx + b * 4 * u + j;
    out[0] = grad(a.ract, gi, dct * gc);
    out[u] = grad(a.ract, gf, dct * a.c_prev[e]);
    out[2 * u] = grad(a.act, gc, dct * gi);
    out[3 * u] = grad(a.ract, go, d * tc);
    a.dc[e] = dct * gf;
    a.dh_prev[e] = T(0);
  }
}

// Through h = z h_{t-1} + (1 - z) n: dz and dn (slopes applied) into out, and dh_{t-1}'s direct term.
template <typename T>
__device__ void gru_common(const BackStepArgs<T>& a, int64_t b, int64_t j, T d, T* out) {
  const int64_t u = a.units, e = b * u + j;
  const T* g = a.gates + b * 3 * u + j;
  const T z = g[0], n = g[2 * u];
  out[0] = grad(a.ract, z, d * (a.h_prev[e] - n));
  out[2 * u] = grad(a.act, n, d * (T(1) - z));
  a.dh_prev[e] = d * z;
}

template <typename T>
__global__ void gru_after_backward_kernel(BackStepArgs<T> a) {
  const int64_t u = a.units;
  KC_GRID_STRIDE(e, a.batch * u) {
    const int64_t b = e / u, j = e - b * u;
    T d;
    if (!a.gather(b, j, &d)) continue;
    T* gx = a.dgx + b * 3 * u + j;
    T* gh = a.dgh + b * 3 * u + j;
    gru_common(a, b, j, d, gx);
    const T r = a.gates[b * 3 * u + u + j], dn = gx[2 * u];
    gx[u] = grad(a.ract, r, dn * a.extra[e]);
    gh[2 * u] = dn * r;
    gh[0] = gx[0];
    gh[u] = gx[u];
  }
}

// reset_after=False, first half: dz, dn and dh_{t-1}'s direct term; dr needs d(r h) from a GEMM.
template <typename T>
__global__ void gru_before_first_kernel(BackStepArgs<T> a) {
  const int64_t u = a.units;
  KC_GRID_STRIDE(e, a.batch * u) {
    const int64_t b = e / u, j = e - b * u;
    T d;
    if (a.gather(b, j, &d)) gru_common(a, b, j, d, a.dgx + b * 3 * u + j);
  }
}

// Second half: d(r h) (drh, B x U) splits into dr and a dh_{t-1} term. Masked rows got drh = 0.
template <typename T>
__global__ void gru_before_second_kernel(BackStepArgs<T> a, const T* drh) {
  const int64_t u = a.units;
  KC_GRID_STRIDE(e, a.batch * u) {
    const int64_t b = e / u, j = e - b * u;
    if (!a.valid(b)) continue;
    const T r = a.gates[b * 3 * u + u + j];
    a.dgx[b * 3 * u + u + j] = grad(a.ract, r, drh[e] * a.rec_input[e]);
    a.dacc[e] += drh[e] * r;
  }
}

}  // namespace kcore::cuda::rnn_kernels
