// Recurrent layers on the CPU, forward. float32 with one recurrent GEMM per step (SimpleRNN,
// LSTM, GRU reset_after) runs the packed path (forward_steps_packed): weights packed once per
// pass, each thread computing x_t W + h_{t-1} U and the gates for its own units. Otherwise
// (float64, GRU reset_after=False) one GEMM projects the inputs of all steps and each step runs
// BLAS recurrent GEMMs and a fused gate kernel over the batch rows. What the backward pass needs
// is kept in RnnSaved.
#include <algorithm>
#include <cstring>
#include <type_traits>
#include <vector>

#include "core/blas.h"
#include "cpu/rnn_common.h"
#include "ops/linalg.h"
#include "ops/rnn.h"

namespace kcore {

using namespace rnn_cpu;

namespace {

// ---- forward ------------------------------------------------------------------------------

template <typename T> struct ForwardStep {
  const RnnSaved& sv;
  // Never null (zeros without a bias): a null pointer in a vectorised loop becomes masked loads from
  // address 0, which some CPUs fault-suppress very slowly.
  const T* b_in;   // input bias (G*U); added by the row functions, while the gates are hot
  const T* b_rec;  // GRU reset_after: recurrent bias (3U)
  T* rec;          // GRU reset_after: (B, 3U) scratch for h_{t-1} U
  T* out;          // (B, T, U)
  int64_t s;       // processed step

  int64_t B() const { return sv.batch; }
  int64_t U() const { return sv.units; }
  T* gates() const { return sv.gates.data<T>() + s * B() * gate_count(sv.config) * U(); }
  T* h_prev() const { return sv.states.data<T>() + s * B() * U(); }
  T* h_next() const { return h_prev() + B() * U(); }
  // What enters the recurrent GEMM: h_{t-1}, or h_{t-1} * rec_mask with recurrent dropout.
  T* rec_input() const { return sv.rec_in.defined() ? sv.rec_in.data<T>() + s * B() * U() : h_prev(); }
  T* extra() const { return sv.extra.defined() ? sv.extra.data<T>() + s * B() * U() : nullptr; }
  bool valid(int64_t b) const { return sv.mask.empty() || sv.mask[s * B() + b]; }

  // The row functions below handle row b, units [j0, j1) of every gate (the packed path gives
  // each thread a range of units; the BLAS path passes all units).

  // Adds the input bias to gates [k0, k1) of row b, units [j0, j1).
  void add_bias(int64_t b, int64_t k0, int64_t k1, int64_t j0, int64_t j1) const {
    const int64_t u = U();
    T* g = gates() + b * gate_count(sv.config) * u;
    for (int64_t k = k0 * u; k < k1 * u; k += u)
      for (int64_t j = k + j0; j < k + j1; ++j) g[j] += b_in[j];
  }

  // h_{t-1} * rec_mask where it enters the recurrent GEMM (recurrent dropout).
  void drop_row(int64_t b, int64_t j0, int64_t j1) const {
    const int64_t u = U();
    const T* m = sv.rec_mask.data<T>() + b * u;
    const T* hp = h_prev() + b * u;
    T* hm = rec_input() + b * u;
    for (int64_t j = j0; j < j1; ++j) hm[j] = hp[j] * m[j];
  }

  // Masked rows carry h (and c) over; every row writes its output.
  void finish_row(int64_t b, int64_t j0, int64_t j1) const {
    const int64_t u = U(), w = (j1 - j0) * sizeof(T);
    T* hn = h_next() + b * u + j0;
    if (!valid(b)) {
      std::memcpy(hn, h_prev() + b * u + j0, w);
      if (sv.cells.defined()) {
        T* c = sv.cells.data<T>() + s * B() * u + b * u + j0;
        std::memcpy(c + B() * u, c, w);
      }
    }
    T* o = out + (b * sv.steps + s) * u + j0;
    if (valid(b)) std::memcpy(o, hn, w);
    else if (s == 0) std::memset(o, 0, w);
    else std::memcpy(o, o - u, w);
  }

  // The row functions below take row b's pre-activations: gate k, unit j at pre[k ps + j - j0]
  // (x W without the bias; plus h_{t-1} U, except for GRU reset_after, which has it in rec).
  // They add the biases, run the gate math in one pass and write the activated gates, the states
  // and the output.

  void simple_row(int64_t b, int64_t j0, int64_t j1, const T* pre) const {
    const int64_t u = U();
    T* g = gates() + b * u;
    T* hn = h_next() + b * u;
    with_act(sv.config.activation, [&](auto act) {
      using A = decltype(act);
#pragma GCC ivdep
      for (int64_t j = j0; j < j1; ++j) hn[j] = g[j] = A::value(pre[j - j0] + b_in[j]);
    });
    finish_row(b, j0, j1);
  }

  void lstm_row(int64_t b, int64_t j0, int64_t j1, const T* pre, int64_t ps) const {
    const int64_t u = U();
    T* g = gates() + b * 4 * u;
    const T* cp = sv.cells.data<T>() + s * B() * u + b * u;
    T* cn = const_cast<T*>(cp) + B() * u;
    T* tc = extra() + b * u;
    T* hn = h_next() + b * u;
    constexpr int64_t kBlock = 32;
    T tile[5][kBlock];  // the gates and act(c) of a block of units: saved for the backward pass only
    with_acts(sv.config, [&](auto ract, auto act) {
      using R = decltype(ract);
      using A = decltype(act);
      for (int64_t jb = j0; jb < j1; jb += kBlock) {
        const int64_t n = std::min(kBlock, j1 - jb);
        const T* z = pre + (jb - j0);
        const T* bi = b_in + jb;
#pragma GCC ivdep
        for (int64_t j = 0; j < n; ++j) {
          const T i = R::value(z[j] + bi[j]);
          const T f = R::value(z[ps + j] + bi[u + j]);
          const T cc = A::value(z[2 * ps + j] + bi[2 * u + j]);
          const T o = R::value(z[3 * ps + j] + bi[3 * u + j]);
          const T c = f * cp[jb + j] + i * cc;
          const T t = A::value(c);
          tile[0][j] = i;
          tile[1][j] = f;
          tile[2][j] = cc;
          tile[3][j] = o;
          tile[4][j] = t;
          cn[jb + j] = c;
          hn[jb + j] = o * t;
        }
        for (int64_t k = 0; k < 4; ++k) stream_out(g + k * u + jb, tile[k], n);
        stream_out(tc + jb, tile[4], n);
      }
    });
    finish_row(b, j0, j1);
  }

  // GRU reset_after: pre holds x W, rec holds h_{t-1} U (same layout).
  void gru_after_row(int64_t b, int64_t j0, int64_t j1, const T* pre, const T* rec, int64_t ps) const {
    const int64_t u = U();
    T* g = gates() + b * 3 * u;
    T* hh = extra() + b * u;
    const T* hp = h_prev() + b * u;
    T* hn = h_next() + b * u;
    with_acts(sv.config, [&](auto ract, auto act) {
      using R = decltype(ract);
      using A = decltype(act);
#pragma GCC ivdep
      for (int64_t j = j0; j < j1; ++j) {
        const T *x = pre + (j - j0), *h = rec + (j - j0);
        const T z = R::value(x[0] + h[0] + b_in[j] + b_rec[j]);
        const T r = R::value(x[ps] + h[ps] + b_in[u + j] + b_rec[u + j]);
        const T hr = h[2 * ps] + b_rec[2 * u + j];
        const T n = A::value(x[2 * ps] + b_in[2 * u + j] + r * hr);
        g[j] = z;
        g[u + j] = r;
        g[2 * u + j] = n;
        hh[j] = hr;
        hn[j] = z * hp[j] + (T(1) - z) * n;
      }
    });
    finish_row(b, j0, j1);
  }

  // GRU reset_after=False, first half: z and r (their recurrent part is already added), and r * h_{t-1}.
  void gru_before_gates_row(int64_t b) const {
    const int64_t u = U();
    T* g = gates() + b * 3 * u;
    add_bias(b, 0, 2, 0, u);
    activate(sv.config.recurrent_activation, g, 2 * u);
    const T* r = g + u;
    const T* hp = rec_input() + b * u;
    T* rh = extra() + b * u;
    for (int64_t j = 0; j < u; ++j) rh[j] = r[j] * hp[j];
  }

  // GRU reset_after=False, second half: the candidate's pre-activation is complete.
  void gru_before_out_row(int64_t b) const {
    add_bias(b, 2, 3, 0, U());
    activate(sv.config.activation, gates() + b * 3 * U() + 2 * U(), U());
    gru_combine(b, 0, U());
  }

  void gru_combine(int64_t b, int64_t j0, int64_t j1) const {
    const int64_t u = U();
    const T* g = gates() + b * 3 * u;
    const T *z = g, *n = g + 2 * u;
    const T* hp = h_prev() + b * u;
    T* hn = h_next() + b * u;
    for (int64_t j = j0; j < j1; ++j) hn[j] = z[j] * hp[j] + (T(1) - z[j]) * n[j];
    finish_row(b, j0, j1);
  }

  // The gate kernel of one row after the recurrent GEMM (not GRU reset_after=False: two GEMMs).
  void row(int64_t b, int64_t j0, int64_t j1, const T* pre, const T* rec_pre, int64_t ps) const {
    switch (sv.config.cell) {
      case RnnCell::simple: return simple_row(b, j0, j1, pre);
      case RnnCell::lstm: return lstm_row(b, j0, j1, pre, ps);
      case RnnCell::gru: return gru_after_row(b, j0, j1, pre, rec_pre, ps);
    }
  }
};

template <typename T>
void project_inputs(const RnnSaved& sv, const Tensor& kernel) {  // x W of every step (the bias comes later)
  const int64_t rows = sv.steps * sv.batch, gu = gate_count(sv.config) * sv.units, d = sv.input_dim;
  T* g = sv.gates.data<T>();
  if (d == 0) std::memset(g, 0, rows * gu * sizeof(T));
  else pass_gemm<T>(false, false, rows, gu, d, sv.x.data<T>(), d, kernel.data<T>(), gu, T(0), g, gu);
}

template <typename T> void forward_steps(const RnnSaved& sv, const Tensor& rk, const Tensor& bias, T* out) {
  const RnnConfig& c = sv.config;
  const int64_t b = sv.batch, u = sv.units, g = gate_count(c), gu = g * u;
  const bool after = c.cell == RnnCell::gru && c.reset_after;
  const bool before = c.cell == RnnCell::gru && !c.reset_after;
  Tensor rec = after ? Tensor::empty({b, gu}, sv.x.dtype()) : Tensor();
  const std::vector<T> zeros(bias.defined() && after ? 0 : gu, T(0));  // stands in for a missing bias
  ForwardStep<T> st{sv,
                    bias.defined() ? bias.data<T>() : zeros.data(),
                    after && bias.defined() ? bias.data<T>() + gu : zeros.data(),
                    after ? rec.data<T>() : nullptr,
                    out,
                    0};
  const T* w = rk.data<T>();
  for (int64_t s = 0; s < sv.steps; ++s) {
    st.s = s;
    T* gs = st.gates();
    if (sv.rec_in.defined()) for_rows(b, [&](int64_t r) { st.drop_row(r, 0, u); });
    if (!before) {  // GRU reset_after: h_{t-1} U goes to rec (the reset gate multiplies part of it)
      gemm<T>(false, false, b, gu, u, T(1), st.rec_input(), u, w, gu, after ? T(0) : T(1), after ? st.rec : gs, gu);
      for_rows(b, [&](int64_t r) { st.row(r, 0, u, gs + r * gu, after ? st.rec + r * gu : nullptr, u); });
    } else if (before) {
      gemm<T>(false, false, b, 2 * u, u, T(1), st.rec_input(), u, w, gu, T(1), gs, gu);
      for_rows(b, [&](int64_t r) { st.gru_before_gates_row(r); });
      gemm<T>(false, false, b, u, u, T(1), st.extra(), u, w + 2 * u, gu, T(1), gs + 2 * u, gu);
      for_rows(b, [&](int64_t r) { st.gru_before_out_row(r); });
    }
  }
}

// float32, one recurrent GEMM per step: per-gate input and recurrent weights packed once, each
// thread owns a range of units (see rnn_common.h). Per step it computes x_t W for its columns
// into its own pre-activation buffer (reused every step, so it stays in cache; this needs no
// other thread's results and runs before the step's barrier), then panel by panel (32 units of
// every gate) adds h_{t-1} U and runs the gate math on those units while they are in L1.
// bfloat16 GEMMs read their left operands rounded once, not once per thread: all of x before the
// first step, and h_{t-1} by the threads that own its units, before the step's barrier, into one of
// two buffers by step parity (a thread rounds step s + 1's only after every thread passed step s's
// barrier, so none still reads the buffer of step s - 1 it overwrites).
template <class E>
void forward_steps_packed(const RnnSaved& sv, const Tensor& kernel, const Tensor& rk, const Tensor& bias, float* out) {
  const RnnConfig& c = sv.config;
  const int64_t b = sv.batch, d = sv.input_dim, u = sv.units, g = gate_count(c), gu = g * u;
  const bool after = c.cell == RnnCell::gru;
  std::vector<typename E::Weights> wx(g), wh(g);
  for (int64_t k = 0; k < g; ++k) {
    wx[k].resize(d, u);
    wh[k].resize(u, u);
  }
  const float* kp = kernel.data<float>();
  const float* rkp = rk.data<float>();
  const std::vector<float> zeros(bias.defined() && after ? 0 : gu, 0.0f);  // stands in for a missing bias
  const int nt = unit_team(u, E::kNR);
  constexpr bool kRounded = std::is_same_v<E, Bf16Gemm>;
  std::vector<bf16> xb(kRounded ? sv.steps * b * d : 0), hb(kRounded ? 2 * b * u : 0);
  const auto bits = [](const bf16* p) { return reinterpret_cast<const uint16_t*>(p); };
#pragma omp parallel num_threads(nt)
  {
    const UnitRange r = unit_range(u, omp_get_thread_num(), omp_get_num_threads(), E::kNR);
    if constexpr (kRounded) {
      const int64_t n = int64_t(xb.size()), t = omp_get_thread_num(), T = omp_get_num_threads();
      float_to_bf16_ftz(sv.x.data<float>() + n * t / T, xb.data() + n * t / T, n * (t + 1) / T - n * t / T);
#pragma omp barrier
    }
    for (int64_t k = 0; k < g; ++k) {
      E::pack(wx[k], kp + k * u, gu, false, r.panel_lo, r.panel_hi);
      E::pack(wh[k], rkp + k * u, gu, false, r.panel_lo, r.panel_hi);
    }
    // Row i, gate k, unit j of this thread at pre[i ps + k w + j - lo]; GRU keeps h_{t-1} U in rec.
    const int64_t w = (r.panel_hi - r.panel_lo) * E::kNR, ps = g * w;
    std::vector<float> pre_buf(size_t(b * ps)), rec_buf(after ? size_t(b * ps) : 0);
    float* pre = pre_buf.data();
    float* rec = after ? rec_buf.data() : pre;
    typename E::Rows lhs;  // x_t, then h_{t-1}
    ForwardStep<float> st{sv,
                          bias.defined() ? bias.data<float>() : zeros.data(),
                          after && bias.defined() ? bias.data<float>() + gu : zeros.data(),
                          nullptr,
                          out,
                          0};
    for (int64_t s = 0; s < sv.steps; ++s) {
      st.s = s;
      if (sv.rec_in.defined())
        for (int64_t i = 0; i < b; ++i) st.drop_row(i, r.lo, r.hi);
      if constexpr (kRounded) lhs.set(bits(xb.data() + s * b * d), b, d, d);
      else lhs.set(sv.x.data<float>() + s * b * d, b, d, d);
      for (int64_t k = 0; k < g; ++k)  // the input part needs no other thread's results
        E::panels_into(wx[k], r.panel_lo, r.panel_hi, lhs, pre + k * w, ps, false);
      if constexpr (kRounded) {  // this thread's units of h_{t-1}
        bf16* hs = hb.data() + (s % 2) * b * u;
        for (int64_t i = 0; i < b; ++i)
          float_to_bf16_ftz(st.rec_input() + i * u + r.lo, hs + i * u + r.lo, r.hi - r.lo);
      }
#pragma omp barrier
      if constexpr (kRounded) lhs.set(bits(hb.data() + (s % 2) * b * u), b, u, u);
      else lhs.set(st.rec_input(), b, u, u);
      for (int64_t p = r.panel_lo; p < r.panel_hi; ++p) {
        const int64_t j0 = p * E::kNR, j1 = std::min(u, j0 + E::kNR), off = j0 - r.lo;
        for (int64_t k = 0; k < g; ++k)  // GRU: h_{t-1} U apart (the reset gate scales part of it)
          E::panels_into(wh[k], p, p + 1, lhs, rec + k * w + off, ps, !after);
        for (int64_t i = 0; i < b; ++i) st.row(i, j0, j1, pre + i * ps + off, rec + i * ps + off, w);
      }
    }
    stream_fence();
  }
}

}  // namespace

namespace cpu {

void rnn_forward(RnnSaved& sv, const Tensor& x, const Tensor& kernel, const Tensor& rk, const Tensor& bias,
                 const Tensor& h0, const Tensor& c0, const Tensor& mask, Tensor& outputs) {
  const RnnConfig& cfg = sv.config;
  const int64_t b = sv.batch, t = sv.steps, d = sv.input_dim, u = sv.units;
  const DType dt = x.dtype();
  sv.mask = processed_mask(mask, b, t, cfg.go_backwards);
  dispatch_float(dt, rnn_op_name(cfg), [&](auto tag) {
    using T = decltype(tag);
    permute_time(x.data<T>(), sv.x.data<T>(), b, t, d, cfg.go_backwards, true);
    copy_or_zero(sv.states.data<T>(), h0, b * u);
    if (sv.cells.defined()) copy_or_zero(sv.cells.data<T>(), c0, b * u);
    if constexpr (std::is_same_v<T, float>) {
      if (packed_path(cfg, dt) && sv.bf16)
        return forward_steps_packed<Bf16Gemm>(sv, kernel, rk, bias, outputs.data<float>());
      if (packed_path(cfg, dt)) return forward_steps_packed<F32Gemm>(sv, kernel, rk, bias, outputs.data<float>());
    }
    project_inputs<T>(sv, kernel);
    forward_steps<T>(sv, rk, bias, outputs.data<T>());
  });
}

}  // namespace cpu

}  // namespace kcore
