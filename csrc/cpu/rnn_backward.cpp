// Recurrent layers on the CPU, backward through time: the steps run in reverse with a fused
// gate-gradient kernel and one GEMM per step for dh_{t-1}. On the packed path (float32, see
// rnn_forward.cpp) the weight, bias and input gradients are accumulated every few steps by the
// threads that own the columns; otherwise they are single GEMMs over all steps.
#include <algorithm>
#include <cstring>
#include <type_traits>

#include "core/blas.h"
#include "cpu/rnn_common.h"
#include "ops/linalg.h"
#include "ops/rnn.h"

namespace kcore {

using namespace rnn_cpu;

namespace {

// ---- backward -----------------------------------------------------------------------------

template <typename T> struct BackwardStep {
  const RnnSaved& sv;
  const T* grad_out;  // (B, T, U) or null
  T* dh;              // (B, U) gradient w.r.t. h after this step (in), reused as dh_prev direct term (out)
  T* dc;              // LSTM (B, U) gradient w.r.t. c after this step; becomes dc_prev
  T* dh_prev;         // (B, U) direct part of the gradient w.r.t. h_{t-1}
  T* dacc;            // (B, U) gradient w.r.t. the recurrent GEMM input: dh_prev, or a scratch with rec_mask
  T* carry;           // (B, U) output gradients waiting for the last valid step
  T* dgx;             // (T, B, G*U) gradients of the pre-activations (input side)
  T* dgh;             // GRU reset_after: (T, B, 3U) recurrent-side gradients; else == dgx
  int64_t s = 0;

  int64_t B() const { return sv.batch; }
  int64_t U() const { return sv.units; }
  int64_t GU() const { return gate_count(sv.config) * U(); }
  const T* gates(int64_t b) const { return sv.gates.data<T>() + (s * B() + b) * GU(); }
  const T* h_prev(int64_t b) const { return sv.states.data<T>() + (s * B() + b) * U(); }
  const T* rec_input(int64_t b) const {
    return sv.rec_in.defined() ? sv.rec_in.data<T>() + (s * B() + b) * U() : h_prev(b);
  }
  const T* extra(int64_t b) const { return sv.extra.data<T>() + (s * B() + b) * U(); }
  T* dgx_row(int64_t b) const { return dgx + (s * B() + b) * GU(); }
  T* dgh_row(int64_t b) const { return dgh + (s * B() + b) * GU(); }
  bool valid(int64_t b) const { return sv.mask.empty() || sv.mask[s * B() + b]; }

  // The row functions handle row b, units [j0, j1) of every gate (the packed path gives each
  // thread a range of units; the BLAS path passes all units).

  // Total gradient w.r.t. the new h of row b, in place in dh; false for a masked (carried) step.
  bool gather(int64_t b, int64_t j0, int64_t j1) const {
    const int64_t u = U(), w = j1 - j0;
    T* acc = carry + b * u;
    const T* go = grad_out ? grad_out + (b * sv.steps + s) * u : nullptr;
    if (!valid(b)) {
      if (go)
        for (int64_t j = j0; j < j1; ++j) acc[j] += go[j];
      std::memcpy(dh_prev + b * u + j0, dh + b * u + j0, w * sizeof(T));  // state passes through; c stays in dc
      for (int64_t k = j0; k < GU(); k += u) {
        std::memset(dgx_row(b) + k, 0, w * sizeof(T));
        if (dgh != dgx) std::memset(dgh_row(b) + k, 0, w * sizeof(T));
      }
      return false;
    }
    T* d = dh + b * u;
    for (int64_t j = j0; j < j1; ++j) {  // (no `go ? go[j] : 0` in the loop: see ForwardStep's biases)
      d[j] += acc[j];
      acc[j] = T(0);
    }
    if (go)
      for (int64_t j = j0; j < j1; ++j) d[j] += go[j];
    return true;
  }

  void simple_row(int64_t b, int64_t j0, int64_t j1) const {
    if (!gather(b, j0, j1)) return;
    const int64_t u = U(), w = j1 - j0;
    T* g = dgx_row(b) + j0;
    std::memcpy(g, dh + b * u + j0, w * sizeof(T));
    scale_by_slope(sv.config.activation, gates(b) + j0, g, w);
    std::memset(dh_prev + b * u + j0, 0, w * sizeof(T));
  }

  void lstm_row(int64_t b, int64_t j0, int64_t j1) const {
    if (!gather(b, j0, j1)) return;
    const int64_t u = U();
    const T* g = gates(b);
    const T* tc = extra(b);
    const T* cp = sv.cells.data<T>() + (s * B() + b) * u;
    const T* d = dh + b * u;
    T* dcb = dc + b * u;
    T* out = dgx_row(b);
    T* dp = dh_prev + b * u;
    with_acts(sv.config, [&](auto ract, auto act) {
      using R = decltype(ract);
      using A = decltype(act);
#pragma GCC ivdep
      for (int64_t j = j0; j < j1; ++j) {
        const T i = g[j], f = g[u + j], cc = g[2 * u + j], o = g[3 * u + j], t = tc[j], dj = d[j];
        const T dct = dcb[j] + dj * o * A::slope(t);
        out[j] = dct * cc * R::slope(i);
        out[u + j] = dct * cp[j] * R::slope(f);
        out[2 * u + j] = dct * i * A::slope(cc);
        out[3 * u + j] = dj * t * R::slope(o);
        dcb[j] = dct * f;
        dp[j] = T(0);
      }
    });
  }

  // Gradients through h = z h_{t-1} + (1 - z) n: dz and dn (scaled by slopes), dh_{t-1} direct term.
  void gru_common(int64_t b, T* out, int64_t j0, int64_t j1) const {
    const int64_t u = U(), w = j1 - j0;
    const T* g = gates(b);
    const T *z = g, *n = g + 2 * u;
    const T* hp = h_prev(b);
    const T* d = dh + b * u;
    T* dp = dh_prev + b * u;
    T *dz = out, *dn = out + 2 * u;
    for (int64_t j = j0; j < j1; ++j) {
      dz[j] = d[j] * (hp[j] - n[j]);
      dn[j] = d[j] * (T(1) - z[j]);
      dp[j] = d[j] * z[j];
    }
    scale_by_slope(sv.config.recurrent_activation, z + j0, dz + j0, w);
    scale_by_slope(sv.config.activation, n + j0, dn + j0, w);
  }

  void gru_after_row(int64_t b, int64_t j0, int64_t j1) const {
    if (!gather(b, j0, j1)) return;
    const int64_t u = U(), w = j1 - j0;
    T* gx = dgx_row(b);
    T* gh = dgh_row(b);
    gru_common(b, gx, j0, j1);
    const T* r = gates(b) + u;
    const T* hh = extra(b);
    T* dr = gx + u;
    const T* dn = gx + 2 * u;
    for (int64_t j = j0; j < j1; ++j) {
      dr[j] = dn[j] * hh[j];
      gh[2 * u + j] = dn[j] * r[j];
    }
    scale_by_slope(sv.config.recurrent_activation, r + j0, dr + j0, w);
    for (int64_t k = j0; k < 2 * u; k += u) std::memcpy(gh + k, gx + k, w * sizeof(T));
  }

  // The gate-gradient kernel of one row before the recurrent GEMM (not GRU reset_after=False).
  void row(int64_t b, int64_t j0, int64_t j1) const {
    switch (sv.config.cell) {
      case RnnCell::simple: return simple_row(b, j0, j1);
      case RnnCell::lstm: return lstm_row(b, j0, j1);
      case RnnCell::gru: return gru_after_row(b, j0, j1);
    }
  }

  // With recurrent dropout: the GEMM's gradient lands in dacc and reaches dh_{t-1} through the mask.
  void undrop_row(int64_t b, int64_t j0, int64_t j1) const {
    const T* m = sv.rec_mask.data<T>() + b * U();
    const T* a = dacc + b * U();
    T* d = dh_prev + b * U();
    for (int64_t j = j0; j < j1; ++j) d[j] += a[j] * m[j];
  }

  // reset_after=False, first half: dz, dn and dh_{t-1} direct term; dr needs d(r h) from a GEMM.
  void gru_before_first_row(int64_t b) const {
    if (!gather(b, 0, U())) return;
    gru_common(b, dgx_row(b), 0, U());
  }

  // Second half: d(r h) (in drh) splits into dr and a dh_{t-1} term. Masked rows got drh = 0.
  void gru_before_second_row(int64_t b, const T* drh) const {
    if (!valid(b)) return;
    const int64_t u = U();
    const T* r = gates(b) + u;
    const T* hp = rec_input(b);
    const T* d = drh + b * u;
    T* dr = dgx_row(b) + u;
    T* dp = dacc + b * u;
    for (int64_t j = 0; j < u; ++j) {
      dr[j] = d[j] * hp[j];
      dp[j] += d[j] * r[j];
    }
    scale_by_slope(sv.config.recurrent_activation, r, dr, u);
  }
};

template <typename T> void backward_steps(BackwardStep<T>& st, const Tensor& rk) {
  const RnnSaved& sv = st.sv;
  const RnnConfig& c = sv.config;
  const int64_t b = sv.batch, u = sv.units, gu = gate_count(c) * u;
  const T* w = rk.data<T>();
  const bool dropped = sv.rec_mask.defined();
  Tensor drh = c.cell == RnnCell::gru && !c.reset_after ? Tensor::empty({b, u}, sv.x.dtype()) : Tensor();
  Tensor scratch = dropped ? Tensor::empty({b, u}, sv.x.dtype()) : Tensor();
  for (int64_t s = sv.steps - 1; s >= 0; --s) {
    st.s = s;
    st.dacc = dropped ? scratch.data<T>() : st.dh_prev;
    if (dropped) std::memset(st.dacc, 0, b * u * sizeof(T));
    T* gx = st.dgx + s * b * gu;
    T* gh = st.dgh + s * b * gu;
    if (c.cell == RnnCell::gru && !c.reset_after) {
      for_rows(b, [&](int64_t r) { st.gru_before_first_row(r); });
      T* d = drh.data<T>();
      gemm<T>(false, true, b, u, u, T(1), gx + 2 * u, gu, w + 2 * u, gu, T(0), d, u);
      for_rows(b, [&](int64_t r) { st.gru_before_second_row(r, d); });
      gemm<T>(false, true, b, u, 2 * u, T(1), gx, gu, w, gu, T(1), st.dacc, u);
    } else {
      for_rows(b, [&](int64_t r) { st.row(r, 0, u); });
      gemm<T>(false, true, b, u, gu, T(1), gh, gu, w, gu, T(1), st.dacc, u);
    }
    if (dropped) for_rows(b, [&](int64_t r) { st.undrop_row(r, 0, u); });
    std::swap(st.dh, st.dh_prev);
  }
}

// float32, one recurrent GEMM per step: the transposed recurrent kernel packed once, each thread
// owns a range of units (rnn_common.h): gate gradients for its units, then its columns of
// dh_{t-1} = dG U^T after the one barrier per step (dG of every unit is needed).
// Every kChunk steps each thread adds the chunk's share of dW, dU and the bias gradient for
// its own gate columns, while the gate gradients it has just written are still in its cache,
// and writes the chunk's dx = dG W^T for its range of input features (W^T packed once).
template <class E>
void backward_steps_packed(BackwardStep<float>& st0, const Tensor& kernel, const Tensor& rk, bool need_x,
                           RnnGrads& grads) {
  const RnnSaved& sv = st0.sv;
  const int64_t b = sv.batch, u = sv.units, d = sv.input_dim, gu = gate_count(sv.config) * u;
  constexpr int64_t kChunk = 4;
  const float* xs = sv.x.data<float>();
  const float* hs = sv.rec_in.defined() ? sv.rec_in.data<float>() : sv.states.data<float>();  // h_{t-1} rows
  float* dw = grads.kernel.data<float>();
  float* du = grads.recurrent_kernel.data<float>();
  float* db = grads.bias.defined() ? grads.bias.data<float>() : nullptr;
  const bool two_biases = sv.config.cell == RnnCell::gru;  // reset_after: (2, 3U), second row from dgh
  const bool dropped = sv.rec_mask.defined();
  Tensor scratch = dropped ? Tensor::empty({b, u}, DType::f32) : Tensor();
  typename E::Weights wt, wxt;  // U^T (gates * units, units), W^T (gates * units, features)
  wt.resize(gu, u);
  wxt.resize(gu, d);
  const int64_t t = sv.steps;
  float* dx = need_x ? grads.x.data<float>() : nullptr;  // (B, T, D) in the caller's time order
  const int nt = unit_team(u, E::kNR);
  // dG as the GEMMs read it; two chunks of steps: a thread rounds step s - 1 while another still reads chunk [s, ...)
  typename E::Grads gm(st0.dgh, st0.dgx, b, gu, 2 * kChunk);
  float* final_dh = nullptr;
#pragma omp parallel num_threads(nt)
  {
    const UnitRange r = unit_range(u, omp_get_thread_num(), omp_get_num_threads(), E::kNR);
    const UnitRange xr = unit_range(d, omp_get_thread_num(), omp_get_num_threads(), E::kNR);  // dx columns
    E::pack(wt, rk.data<float>(), gu, true, r.panel_lo, r.panel_hi);
    if (dx) E::pack(wxt, kernel.data<float>(), gu, true, xr.panel_lo, xr.panel_hi);
    typename E::Rows lhs;          // a step's gate gradients
    BackwardStep<float> st = st0;  // each thread swaps its own pointers (in step with the others)
    typename E::Weights dg_block;  // a block of this thread's gate-gradient columns
    st.dacc = dropped ? scratch.data<float>() : nullptr;
    int64_t chunk_end = sv.steps;
    for (int64_t s = sv.steps - 1; s >= 0; --s) {
      st.s = s;
      if (!dropped) st.dacc = st.dh_prev;
      for (int64_t i = 0; i < b; ++i) {
        st.row(i, r.lo, r.hi);
        if (dropped) std::memset(st.dacc + i * u + r.lo, 0, (r.hi - r.lo) * sizeof(float));
        for (int64_t k = i * gu; k < (i + 1) * gu; k += u) gm.copy(s, k + r.lo, k + r.hi);
      }
#pragma omp barrier
      lhs.set(gm.h(s), b, gu, gu);
      E::panels(wt, r.panel_lo, r.panel_hi, lhs, st.dacc, u, true);
      if (dropped)
        for (int64_t i = 0; i < b; ++i) st.undrop_row(i, r.lo, r.hi);
      std::swap(st.dh, st.dh_prev);
      if (s % kChunk != 0) continue;
      // Steps [s, chunk_end): the barrier of step s has made their dG complete.
      const int64_t r0 = s * b, rows = (chunk_end - s) * b, w = r.hi - r.lo;
      for (int64_t k = r.lo; w > 0 && k < gu; k += u) {  // weight gradients, own columns
        const float* gx = st.dgx + r0 * gu + k;
        const float* gh = st.dgh + r0 * gu + k;
        for (int64_t q0 = 0; q0 < rows; q0 += E::kKC) {  // dG packed once for dU and (LSTM, SimpleRNN) dW
          const int64_t kc = std::min(E::kKC, rows - q0);
          dg_block.resize(kc, w);
          E::pack(dg_block, gm.h(s) + q0 * gu + k, gu, false, 0, dg_block.panels());
          E::gemm_packed_b(true, u, hs + (r0 + q0) * u, u, dg_block, du + k, gu, true);
          if (d == 0) continue;
          if (gm.split()) E::pack(dg_block, gm.x(s) + q0 * gu + k, gu, false, 0, dg_block.panels());
          E::gemm_packed_b(true, d, xs + (r0 + q0) * d, d, dg_block, dw + k, gu, true);
        }
        if (db)
          for (int64_t i = 0; i < rows; ++i)
            for (int64_t j = 0; j < w; ++j) {
              db[k + j] += gx[i * gu + j];
              if (two_biases) db[gu + k + j] += gh[i * gu + j];
            }
      }
      for (int64_t q = s; dx && q < chunk_end; ++q) {  // dx rows of step q, own feature columns
        const int64_t tq = sv.config.go_backwards ? t - 1 - q : q;
        lhs.set(gm.x(q), b, gu, gu);
        E::panels(wxt, xr.panel_lo, xr.panel_hi, lhs, dx + tq * d, t * d, false);
      }
      chunk_end = s;
    }
    if (omp_get_thread_num() == 0) final_dh = st.dh;
  }
  if (final_dh) st0.dh = final_dh;
}

// Column sums of a (rows, cols) block with row stride ld into out (the bias gradients).
template <typename T> void column_sums(const T* a, int64_t rows, int64_t cols, int64_t ld, T* out) {
  for (int64_t j = 0; j < cols; ++j) out[j] = T(0);
  for (int64_t r = 0; r < rows; ++r) {
    const T* row = a + r * ld;
    for (int64_t j = 0; j < cols; ++j) out[j] += row[j];
  }
}

// C (m, n) = A^T B with A (k, m), B (k, n) and k = the rows of all steps: the weight gradients.
template <typename T>
void gemm_tn(int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, const T* b, int64_t ldb, T* c, int64_t ldc) {
  pass_gemm<T>(true, false, m, n, k, a, lda, b, ldb, T(0), c, ldc);
}

// dW, dU, the bias gradient and dx, unless the steps have computed them (weights_done).
// g's weight gradients arrive zero-filled.
template <typename T>
void weight_grads(const RnnSaved& sv, const Tensor& kernel, const T* dgx, const T* dgh, bool need_x, bool weights_done,
                  RnnGrads& g) {
  const RnnConfig& c = sv.config;
  const int64_t b = sv.batch, t = sv.steps, d = sv.input_dim, u = sv.units, gu = gate_count(c) * u;
  const int64_t rows = t * b;
  const DType dt = sv.x.dtype();
  if (rows == 0 || weights_done) return;  // g.x is empty when rows == 0
  if (need_x) {
    Tensor dxs = Tensor::empty({t, b, d}, dt);
    if (d > 0) pass_gemm<T>(false, true, rows, d, gu, dgx, gu, kernel.data<T>(), gu, T(0), dxs.data<T>(), d);
    permute_time(dxs.data<T>(), g.x.data<T>(), b, t, d, c.go_backwards, false);
  }
  const T* xs = sv.x.data<T>();
  // rows 0..T-1 of states are h_{t-1} of every step (rec_in: the same, times the dropout mask)
  const T* hs = sv.rec_in.defined() ? sv.rec_in.data<T>() : sv.states.data<T>();
  T* dw = g.kernel.data<T>();
  T* du = g.recurrent_kernel.data<T>();
  if (d > 0) gemm_tn<T>(d, gu, rows, xs, d, dgx, gu, dw, gu);
  if (c.cell == RnnCell::gru && !c.reset_after) {
    gemm_tn<T>(u, 2 * u, rows, hs, u, dgx, gu, du, gu);
    gemm_tn<T>(u, u, rows, sv.extra.data<T>(), u, dgx + 2 * u, gu, du + 2 * u, gu);
  } else {
    gemm_tn<T>(u, gu, rows, hs, u, dgh, gu, du, gu);
  }
  if (sv.has_bias) {
    const bool two = c.cell == RnnCell::gru && c.reset_after;
    column_sums(dgx, rows, gu, gu, g.bias.data<T>());
    if (two) column_sums(dgh, rows, gu, gu, g.bias.data<T>() + gu);
  }
}

}  // namespace

namespace cpu {

void rnn_backward(const RnnSaved& sv, const Tensor& kernel, const Tensor& rk, const Tensor& grad_out,
                  const Tensor& grad_h, const Tensor& grad_c, bool need_x, RnnGrads& g) {
  const RnnConfig& c = sv.config;
  const int64_t b = sv.batch, t = sv.steps, u = sv.units, gu = gate_count(c) * u;
  const DType dt = sv.x.dtype();
  const bool split = c.cell == RnnCell::gru && c.reset_after;
  Tensor dgx = Tensor::empty({t, b, gu}, dt), dgh = split ? Tensor::empty({t, b, gu}, dt) : dgx;
  Tensor dh = Tensor::empty({b, u}, dt), dh_prev = Tensor::empty({b, u}, dt), carry = Tensor::zeros({b, u}, dt);
  const bool packed = packed_path(c, dt);
  dispatch_float(dt, rnn_op_name(c), [&](auto tag) {
    using T = decltype(tag);
    copy_or_zero(dh.data<T>(), grad_h, b * u);
    if (g.c0.defined()) copy_or_zero(g.c0.data<T>(), grad_c, b * u);  // dc: the carry gradient, in place
    BackwardStep<T> st{sv,
                       grad_out.defined() ? grad_out.data<T>() : nullptr,
                       dh.data<T>(),
                       g.c0.defined() ? g.c0.data<T>() : nullptr,
                       dh_prev.data<T>(),
                       dh_prev.data<T>(),
                       carry.data<T>(),
                       dgx.data<T>(),
                       dgh.data<T>()};
    if constexpr (std::is_same_v<T, float>) {
      if (packed && sv.bf16) backward_steps_packed<Bf16Gemm>(st, kernel, rk, need_x, g);
      else if (packed) backward_steps_packed<F32Gemm>(st, kernel, rk, need_x, g);
      else backward_steps<T>(st, rk);
    } else {
      backward_steps<T>(st, rk);
    }
    std::memcpy(g.h0.data<T>(), st.dh, b * u * sizeof(T));  // after the last swap: d(initial h)
    weight_grads<T>(sv, kernel, dgx.data<T>(), dgh.data<T>(), need_x, packed, g);
  });
}

}  // namespace cpu

}  // namespace kcore
