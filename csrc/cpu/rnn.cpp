// Recurrent layers on the CPU. Forward: one GEMM projects the inputs of all steps; each step
// then runs one recurrent GEMM (two for GRU with reset_after=False) and one fused gate kernel
// over the batch rows. Backward runs the steps in reverse with a fused gate-gradient kernel
// and one GEMM per step for dh_{t-1}; weight gradients are single GEMMs over all steps.
#include "ops/rnn.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>

#include "core/blas.h"
#include "core/fastmath.h"
#include "core/parallel.h"
#include "ops/linalg.h"

namespace kcore {

namespace {

// ---- activations ------------------------------------------------------------------------
// float uses a branch-free exp the compiler vectorises; double (gradient checks) uses libm.

template <typename T> inline T sigmoid(T x) { return fast_sigmoid(x); }
template <typename T> inline T tanh_of(T x) { return fast_tanh(x); }

// v[j] = act(v[j]) for j < n. The switch sits outside the loops so each loop vectorises.
template <typename T>
void activate(RnnActivation a, T* v, int64_t n) {
  switch (a) {
    case RnnActivation::tanh:
      for (int64_t j = 0; j < n; ++j) v[j] = tanh_of(v[j]);
      break;
    case RnnActivation::relu:
      for (int64_t j = 0; j < n; ++j) v[j] = std::max(v[j], T(0));
      break;
    case RnnActivation::sigmoid:
      for (int64_t j = 0; j < n; ++j) v[j] = sigmoid(v[j]);
      break;
    case RnnActivation::linear:
      break;
    case RnnActivation::hard_sigmoid:  // Keras 3: relu6(x + 3) / 6
      for (int64_t j = 0; j < n; ++j) v[j] = std::min(std::max((v[j] + T(3)) / T(6), T(0)), T(1));
      break;
    case RnnActivation::hard_sigmoid_k2:  // Keras 2: clip(0.2 x + 0.5, 0, 1)
      for (int64_t j = 0; j < n; ++j) v[j] = std::min(std::max(T(0.2) * v[j] + T(0.5), T(0)), T(1));
      break;
  }
}

// g[j] *= act'(x) where y[j] = act(x): every supported activation's slope is a function of its output.
template <typename T>
void scale_by_slope(RnnActivation a, const T* y, T* g, int64_t n) {
  switch (a) {
    case RnnActivation::tanh:
      for (int64_t j = 0; j < n; ++j) g[j] *= T(1) - y[j] * y[j];
      break;
    case RnnActivation::relu:
      for (int64_t j = 0; j < n; ++j) g[j] = y[j] > T(0) ? g[j] : T(0);
      break;
    case RnnActivation::sigmoid:
      for (int64_t j = 0; j < n; ++j) g[j] *= y[j] * (T(1) - y[j]);
      break;
    case RnnActivation::linear:
      break;
    case RnnActivation::hard_sigmoid:
    case RnnActivation::hard_sigmoid_k2: {
      const T slope = a == RnnActivation::hard_sigmoid ? T(1) / T(6) : T(0.2);
      for (int64_t j = 0; j < n; ++j) g[j] = (y[j] > T(0) && y[j] < T(1)) ? g[j] * slope : T(0);
      break;
    }
  }
}

int64_t gate_count(const RnnConfig& c) { return c.cell == RnnCell::lstm ? 4 : c.cell == RnnCell::gru ? 3 : 1; }

const char* op_name(const RnnConfig& c) {
  return c.cell == RnnCell::lstm ? "lstm" : c.cell == RnnCell::gru ? "gru" : "simple_rnn";
}

// The per-step gate kernels split the batch rows over kcore's OpenMP team: the same team
// that runs the GEMMs (the BLAS library has no thread pool of its own), so nothing competes.
template <typename Fn>
void for_rows(int64_t rows, Fn&& fn) {
  parallel_for(rows, 8, [&](int64_t lo, int64_t hi) {
    for (int64_t b = lo; b < hi; ++b) fn(b);
  });
}

// ---- argument checks --------------------------------------------------------------------

void check_state(const Tensor& s, const Tensor& x, int64_t b, int64_t u, const char* op, const char* name) {
  if (!s.defined()) return;
  check_float(s, op, name);
  check_same_dtype(x, s, op);
  KCORE_CHECK(s.shape() == Shape({b, u}), op << ": " << name << " must have shape " << shape_str({b, u})
                                             << " (batch, units), got " << shape_str(s.shape()));
}

void check_inputs(const RnnConfig& cfg, const Tensor& x, const Tensor& w, const Tensor& rw, const Tensor& bias,
                  const Tensor& h0, const Tensor& c0, const Tensor& mask) {
  const char* op = op_name(cfg);
  check_float(x, op, "inputs");
  check_float(w, op, "kernel");
  check_float(rw, op, "recurrent_kernel");
  KCORE_CHECK(x.ndim() == 3, op << ": inputs must be 3-D (batch, timesteps, features), got shape "
                                << shape_str(x.shape())
                                << (x.ndim() == 2 ? "; the time axis is missing (reshape to (batch, 1, features) "
                                                    "for one step)" : ""));
  check_same_dtype(x, w, op);
  check_same_dtype(x, rw, op);
  const int64_t b = x.dim(0), d = x.dim(2), g = gate_count(cfg);
  KCORE_CHECK(rw.ndim() == 2 && rw.dim(1) == g * rw.dim(0),
              op << ": recurrent_kernel must have shape (units, " << g << " * units), got " << shape_str(rw.shape()));
  const int64_t u = rw.dim(0);
  KCORE_CHECK(w.shape() == Shape({d, g * u}), op << ": kernel must have shape " << shape_str({d, g * u})
                                                 << " for inputs with " << d << " features, got "
                                                 << shape_str(w.shape()));
  if (bias.defined()) {
    check_float(bias, op, "bias");
    check_same_dtype(x, bias, op);
    Shape want = cfg.cell == RnnCell::gru && cfg.reset_after ? Shape({2, g * u}) : Shape({g * u});
    KCORE_CHECK(bias.shape() == want, op << ": bias must have shape " << shape_str(want) << ", got "
                                         << shape_str(bias.shape()));
  }
  check_state(h0, x, b, u, op, "initial h state");
  if (cfg.cell == RnnCell::lstm) check_state(c0, x, b, u, op, "initial c state");
  if (mask.defined())
    KCORE_CHECK(mask.shape() == Shape({b, x.dim(1)}),
                op << ": mask must have shape " << shape_str({b, x.dim(1)}) << " (batch, timesteps), got "
                   << shape_str(mask.shape()));
}

// mask (B, T) of any dtype -> (T, B) bytes in processed order; empty when every step is valid.
std::vector<uint8_t> processed_mask(const Tensor& mask_in, int64_t b, int64_t t, bool reverse) {
  if (!mask_in.defined()) return {};
  Tensor m = mask_in.contiguous();
  std::vector<uint8_t> out(t * b);
  bool all = true;
  dispatch_all(m.dtype(), [&](auto tag) {
    using M = decltype(tag);
    const M* p = m.data<M>();
    for (int64_t i = 0; i < b; ++i)
      for (int64_t s = 0; s < t; ++s) {
        const int64_t src = reverse ? t - 1 - s : s;
        out[s * b + i] = p[i * t + src] != M(0);
        all = all && out[s * b + i];
      }
  });
  if (all) out.clear();
  return out;
}

// (B, T, F) <-> (T, B, F) with optional time reversal; to_time_major reads (B, T, F), else writes it.
template <typename T>
void permute_time(const T* src, T* dst, int64_t b, int64_t t, int64_t f, bool reverse, bool to_time_major) {
  for (int64_t s = 0; s < t; ++s) {  // memory-bound and next to BLAS calls: stays on this thread
    const int64_t tt = reverse ? t - 1 - s : s;
    for (int64_t i = 0; i < b; ++i) {
      const T* from = to_time_major ? src + (i * t + tt) * f : src + (s * b + i) * f;
      T* to = to_time_major ? dst + (s * b + i) * f : dst + (i * t + tt) * f;
      std::memcpy(to, from, f * sizeof(T));
    }
  }
}

template <typename T>
void copy_or_zero(T* dst, const Tensor& src, int64_t n) {
  if (src.defined()) std::memcpy(dst, src.contiguous().data<T>(), n * sizeof(T));
  else std::memset(dst, 0, n * sizeof(T));
}

// ---- BLAS threads ------------------------------------------------------------------------------
// Threaded BLAS wins on an idle machine (about 1.8x on 2 cores), but a pass makes hundreds of
// small GEMM calls, and when other processes compete for the cores OpenBLAS's spin-synchronised
// workers get descheduled: a call can then stall for a scheduler slice or more (measured 5-30x
// slower than one thread on a busy 2-core machine). So kcore measures: every kReprobe-th pass
// times a few calls with all threads and with one, and the choice holds until the next probe.

class ThreadChoice {
 public:
  // Whether this pass probes; the caller then reports both timings with decide().
  bool probing() {
    const int all = num_threads();
    if (all <= 1) return false;
    return calls_.fetch_add(1) % kReprobe == 0 || choice_.load() == 0;
  }
  void decide(double threaded_s, double single_s) { choice_.store(threaded_s <= single_s ? kAll : kOne); }
  int threads() const { return choice_.load() == kOne ? 1 : num_threads(); }

 private:
  static constexpr int kReprobe = 16, kAll = 1, kOne = 2;
  std::atomic<int> calls_{0}, choice_{0};
};

// Sets the BLAS thread count for a scope and restores every thread afterwards.
class BlasThreads {
 public:
  BlasThreads() = default;
  ~BlasThreads() { set(num_threads()); }
  void set(int n) {
    if (n != current_) blas_set_num_threads(n);
    current_ = n;
  }

 private:
  int current_ = num_threads();
};

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// The per-step recurrent GEMMs of one pass: probing passes alternate settings on their first
// 2 * kProbe steps, then use the faster one.
class StepThreads {
 public:
  StepThreads(ThreadChoice& choice, int64_t steps)
      : choice_(choice), probe_(steps >= 4 * kProbe && choice.probing()) {
    if (!probe_) blas_.set(choice_.threads());
  }

  void begin(int64_t i) {
    if (probe_ && i < 2 * kProbe) blas_.set(i % 2 == 0 ? num_threads() : 1);
    if (probe_ && i == 2 * kProbe) {
      choice_.decide(spent_[0], spent_[1]);
      blas_.set(choice_.threads());
    }
    start_ = Clock::now();
  }

  void end(int64_t i) {
    if (probe_ && i < 2 * kProbe) spent_[i % 2] += seconds_since(start_);
  }

 private:
  static constexpr int64_t kProbe = 4;
  ThreadChoice& choice_;
  BlasThreads blas_;
  bool probe_;
  double spent_[2] = {0, 0};
  Clock::time_point start_;
};

ThreadChoice& forward_step_choice() {
  static ThreadChoice c;
  return c;
}
ThreadChoice& backward_step_choice() {
  static ThreadChoice c;
  return c;
}

// ---- forward ------------------------------------------------------------------------------

template <typename T>
struct ForwardStep {
  const RnnSaved& sv;
  const T* b_rec;   // GRU reset_after: recurrent bias (3U) or null
  T* rec;           // GRU reset_after: (B, 3U) scratch for h_{t-1} U
  T* out;           // (B, T, U)
  int64_t s;        // processed step

  int64_t B() const { return sv.batch; }
  int64_t U() const { return sv.units; }
  T* gates() const { return sv.gates.data<T>() + s * B() * gate_count(sv.config) * U(); }
  T* h_prev() const { return sv.states.data<T>() + s * B() * U(); }
  T* h_next() const { return h_prev() + B() * U(); }
  // What enters the recurrent GEMM: h_{t-1}, or h_{t-1} * rec_mask with recurrent dropout.
  T* rec_input() const { return sv.rec_in.defined() ? sv.rec_in.data<T>() + s * B() * U() : h_prev(); }
  T* extra() const { return sv.extra.defined() ? sv.extra.data<T>() + s * B() * U() : nullptr; }
  bool valid(int64_t b) const { return sv.mask.empty() || sv.mask[s * B() + b]; }

  // Masked rows carry h (and c) over; every row writes its output.
  void finish_row(int64_t b) const {
    const int64_t u = U();
    T* hn = h_next() + b * u;
    if (!valid(b)) {
      std::memcpy(hn, h_prev() + b * u, u * sizeof(T));
      if (sv.cells.defined()) {
        T* c = sv.cells.data<T>() + s * B() * u + b * u;
        std::memcpy(c + B() * u, c, u * sizeof(T));
      }
    }
    const int64_t t = sv.steps;
    T* o = out + (b * t + s) * u;
    if (valid(b)) std::memcpy(o, hn, u * sizeof(T));
    else if (s == 0) std::memset(o, 0, u * sizeof(T));
    else std::memcpy(o, o - u, u * sizeof(T));
  }

  void simple_row(int64_t b) const {
    const int64_t u = U();
    T* z = gates() + b * u;
    activate(sv.config.activation, z, u);
    std::memcpy(h_next() + b * u, z, u * sizeof(T));
    finish_row(b);
  }

  void lstm_row(int64_t b) const {
    const int64_t u = U();
    const RnnConfig& c = sv.config;
    T* g = gates() + b * 4 * u;
    activate(c.recurrent_activation, g, 2 * u);
    activate(c.activation, g + 2 * u, u);
    activate(c.recurrent_activation, g + 3 * u, u);
    const T* cp = sv.cells.data<T>() + s * B() * u + b * u;
    T* cn = const_cast<T*>(cp) + B() * u;
    T* tc = extra() + b * u;
    const T *gi = g, *gf = g + u, *gc = g + 2 * u, *go = g + 3 * u;
    for (int64_t j = 0; j < u; ++j) tc[j] = cn[j] = gf[j] * cp[j] + gi[j] * gc[j];
    activate(c.activation, tc, u);
    T* hn = h_next() + b * u;
    for (int64_t j = 0; j < u; ++j) hn[j] = go[j] * tc[j];
    finish_row(b);
  }

  // GRU reset_after: gates hold x W + b_in; rec holds h_{t-1} U.
  void gru_after_row(int64_t b) const {
    const int64_t u = U();
    const RnnConfig& c = sv.config;
    T* g = gates() + b * 3 * u;
    const T* r_in = rec + b * 3 * u;
    T* hh = extra() + b * u;
    for (int64_t j = 0; j < 2 * u; ++j) g[j] += r_in[j] + (b_rec ? b_rec[j] : T(0));
    activate(c.recurrent_activation, g, 2 * u);
    const T* r = g + u;
    T* n = g + 2 * u;
    for (int64_t j = 0; j < u; ++j) {
      hh[j] = r_in[2 * u + j] + (b_rec ? b_rec[2 * u + j] : T(0));
      n[j] += r[j] * hh[j];
    }
    activate(c.activation, n, u);
    gru_combine(b);
  }

  // GRU reset_after=False, first half: z and r (their recurrent part is already added), and r * h_{t-1}.
  void gru_before_gates_row(int64_t b) const {
    const int64_t u = U();
    T* g = gates() + b * 3 * u;
    activate(sv.config.recurrent_activation, g, 2 * u);
    const T* r = g + u;
    const T* hp = rec_input() + b * u;
    T* rh = extra() + b * u;
    for (int64_t j = 0; j < u; ++j) rh[j] = r[j] * hp[j];
  }

  // GRU reset_after=False, second half: the candidate's pre-activation is complete.
  void gru_before_out_row(int64_t b) const {
    activate(sv.config.activation, gates() + b * 3 * U() + 2 * U(), U());
    gru_combine(b);
  }

  void gru_combine(int64_t b) const {
    const int64_t u = U();
    const T* g = gates() + b * 3 * u;
    const T *z = g, *n = g + 2 * u;
    const T* hp = h_prev() + b * u;
    T* hn = h_next() + b * u;
    for (int64_t j = 0; j < u; ++j) hn[j] = z[j] * hp[j] + (T(1) - z[j]) * n[j];
    finish_row(b);
  }
};

template <typename T>
void project_inputs(const RnnSaved& sv, const Tensor& kernel, const Tensor& bias) {
  const int64_t rows = sv.steps * sv.batch, gu = gate_count(sv.config) * sv.units, d = sv.input_dim;
  T* g = sv.gates.data<T>();
  if (bias.defined()) {
    const T* bp = bias.data<T>();  // GRU reset_after: row 0 is the input bias
    for_rows(rows, [&](int64_t r) { std::memcpy(g + r * gu, bp, gu * sizeof(T)); });
  }
  if (d == 0) {
    if (!bias.defined()) std::memset(g, 0, rows * gu * sizeof(T));
    return;
  }
  gemm<T>(false, false, rows, gu, d, T(1), sv.x.data<T>(), d, kernel.data<T>(), gu, bias.defined() ? T(1) : T(0), g,
          gu);
}

template <typename T>
void forward_steps(const RnnSaved& sv, const Tensor& rk, const Tensor& bias, T* out) {
  const RnnConfig& c = sv.config;
  const int64_t b = sv.batch, u = sv.units, g = gate_count(c), gu = g * u;
  const bool after = c.cell == RnnCell::gru && c.reset_after;
  const bool before = c.cell == RnnCell::gru && !c.reset_after;
  Tensor rec = after ? Tensor::empty({b, gu}, sv.x.dtype()) : Tensor();
  ForwardStep<T> st{sv, after && bias.defined() ? bias.data<T>() + gu : nullptr,
                    after ? rec.data<T>() : nullptr, out, 0};
  const T* w = rk.data<T>();
  StepThreads threads(forward_step_choice(), sv.steps);
  for (int64_t s = 0; s < sv.steps; ++s) {
    threads.begin(s);
    st.s = s;
    T* gs = st.gates();
    if (sv.rec_in.defined()) {
      const T* m = sv.rec_mask.data<T>();
      const T* hp = st.h_prev();
      T* hm = st.rec_input();
      for (int64_t i = 0; i < b * u; ++i) hm[i] = hp[i] * m[i];
    }
    if (c.cell == RnnCell::simple || c.cell == RnnCell::lstm) {
      gemm<T>(false, false, b, gu, u, T(1), st.rec_input(), u, w, gu, T(1), gs, gu);
      if (c.cell == RnnCell::lstm) for_rows(b, [&](int64_t r) { st.lstm_row(r); });
      else for_rows(b, [&](int64_t r) { st.simple_row(r); });
    } else if (after) {
      gemm<T>(false, false, b, gu, u, T(1), st.rec_input(), u, w, gu, T(0), st.rec, gu);
      for_rows(b, [&](int64_t r) { st.gru_after_row(r); });
    } else if (before) {
      gemm<T>(false, false, b, 2 * u, u, T(1), st.rec_input(), u, w, gu, T(1), gs, gu);
      for_rows(b, [&](int64_t r) { st.gru_before_gates_row(r); });
      gemm<T>(false, false, b, u, u, T(1), st.extra(), u, w + 2 * u, gu, T(1), gs + 2 * u, gu);
      for_rows(b, [&](int64_t r) { st.gru_before_out_row(r); });
    }
    threads.end(s);
  }
}

}  // namespace

RnnForward rnn_forward(const RnnConfig& cfg, const Tensor& x_in, const Tensor& kernel_in, const Tensor& rk_in,
                       const Tensor& bias_in, const Tensor& h0, const Tensor& c0, const Tensor& mask,
                       const Tensor& rec_mask) {
  check_inputs(cfg, x_in, kernel_in, rk_in, bias_in, h0, c0, mask);
  check_state(rec_mask, x_in, x_in.dim(0), rk_in.dim(0), op_name(cfg), "recurrent dropout mask");
  auto sv = std::make_shared<RnnSaved>();
  sv->config = cfg;
  sv->batch = x_in.dim(0);
  sv->steps = x_in.dim(1);
  sv->input_dim = x_in.dim(2);
  sv->units = rk_in.dim(0);
  sv->has_bias = bias_in.defined();
  const int64_t b = sv->batch, t = sv->steps, d = sv->input_dim, u = sv->units, gu = gate_count(cfg) * u;
  const DType dt = x_in.dtype();
  Tensor x = x_in.contiguous(), kernel = kernel_in.contiguous(), rk = rk_in.contiguous();
  Tensor bias = bias_in.defined() ? bias_in.contiguous() : Tensor();
  sv->mask = processed_mask(mask, b, t, cfg.go_backwards);
  sv->x = Tensor::empty({t, b, d}, dt);
  sv->states = Tensor::empty({t + 1, b, u}, dt);
  sv->gates = Tensor::empty({t, b, gu}, dt);
  if (cfg.cell != RnnCell::simple) sv->extra = Tensor::empty({t, b, u}, dt);
  if (cfg.cell == RnnCell::lstm) sv->cells = Tensor::empty({t + 1, b, u}, dt);
  if (rec_mask.defined()) {
    sv->rec_mask = rec_mask.contiguous();
    sv->rec_in = Tensor::empty({t, b, u}, dt);
  }
  RnnForward res;
  res.outputs = Tensor::empty({b, t, u}, dt);
  dispatch_float(dt, op_name(cfg), [&](auto tag) {
    using T = decltype(tag);
    permute_time(x.data<T>(), sv->x.data<T>(), b, t, d, cfg.go_backwards, true);
    copy_or_zero(sv->states.data<T>(), h0, b * u);
    if (sv->cells.defined()) copy_or_zero(sv->cells.data<T>(), c0, b * u);
    project_inputs<T>(*sv, kernel, bias);
    forward_steps<T>(*sv, rk, bias, res.outputs.data<T>());
  });
  const int64_t off = t * b * u;
  res.h = sv->states.as_strided({b, u}, {u, 1}, sv->states.offset() + off).clone();
  if (sv->cells.defined()) res.c = sv->cells.as_strided({b, u}, {u, 1}, sv->cells.offset() + off).clone();
  res.saved = sv;
  return res;
}

namespace {

// ---- backward -----------------------------------------------------------------------------

template <typename T>
struct BackwardStep {
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

  // Total gradient w.r.t. the new h of row b, in place in dh; false for a masked (carried) step.
  bool gather(int64_t b) const {
    const int64_t u = U();
    T* acc = carry + b * u;
    const T* go = grad_out ? grad_out + (b * sv.steps + s) * u : nullptr;
    if (!valid(b)) {
      if (go) for (int64_t j = 0; j < u; ++j) acc[j] += go[j];
      std::memcpy(dh_prev + b * u, dh + b * u, u * sizeof(T));  // state passes through; c stays in dc
      std::memset(dgx_row(b), 0, GU() * sizeof(T));
      if (dgh != dgx) std::memset(dgh_row(b), 0, GU() * sizeof(T));
      return false;
    }
    T* d = dh + b * u;
    for (int64_t j = 0; j < u; ++j) {
      d[j] += acc[j] + (go ? go[j] : T(0));
      acc[j] = T(0);
    }
    return true;
  }

  void simple_row(int64_t b) const {
    if (!gather(b)) return;
    const int64_t u = U();
    T* g = dgx_row(b);
    std::memcpy(g, dh + b * u, u * sizeof(T));
    scale_by_slope(sv.config.activation, gates(b), g, u);
    std::memset(dh_prev + b * u, 0, u * sizeof(T));
  }

  void lstm_row(int64_t b) const {
    if (!gather(b)) return;
    const int64_t u = U();
    const RnnConfig& c = sv.config;
    const T* g = gates(b);
    const T *gi = g, *gf = g + u, *gc = g + 2 * u, *go = g + 3 * u;
    const T* tc = extra(b);
    const T* cp = sv.cells.data<T>() + (s * B() + b) * u;
    const T* d = dh + b * u;
    T* dcb = dc + b * u;
    T* out = dgx_row(b);
    T *di = out, *df = out + u, *dcand = out + 2 * u, *dout = out + 3 * u;
    for (int64_t j = 0; j < u; ++j) {
      dout[j] = d[j] * tc[j];
      df[j] = d[j] * go[j];  // temporarily d(act(c)) for the slope below
    }
    scale_by_slope(c.activation, tc, df, u);
    for (int64_t j = 0; j < u; ++j) {
      const T dct = dcb[j] + df[j];
      di[j] = dct * gc[j];
      dcand[j] = dct * gi[j];
      df[j] = dct * cp[j];
      dcb[j] = dct * gf[j];
    }
    scale_by_slope(c.recurrent_activation, gi, di, 2 * u);
    scale_by_slope(c.activation, gc, dcand, u);
    scale_by_slope(c.recurrent_activation, go, dout, u);
    std::memset(dh_prev + b * u, 0, u * sizeof(T));
  }

  // Gradients through h = z h_{t-1} + (1 - z) n: dz and dn (scaled by slopes), dh_{t-1} direct term.
  void gru_common(int64_t b, T* out) const {
    const int64_t u = U();
    const T* g = gates(b);
    const T *z = g, *n = g + 2 * u;
    const T* hp = h_prev(b);
    const T* d = dh + b * u;
    T* dp = dh_prev + b * u;
    T *dz = out, *dn = out + 2 * u;
    for (int64_t j = 0; j < u; ++j) {
      dz[j] = d[j] * (hp[j] - n[j]);
      dn[j] = d[j] * (T(1) - z[j]);
      dp[j] = d[j] * z[j];
    }
    scale_by_slope(sv.config.recurrent_activation, z, dz, u);
    scale_by_slope(sv.config.activation, n, dn, u);
  }

  void gru_after_row(int64_t b) const {
    if (!gather(b)) return;
    const int64_t u = U();
    T* gx = dgx_row(b);
    T* gh = dgh_row(b);
    gru_common(b, gx);
    const T* r = gates(b) + u;
    const T* hh = extra(b);
    T* dr = gx + u;
    const T* dn = gx + 2 * u;
    for (int64_t j = 0; j < u; ++j) {
      dr[j] = dn[j] * hh[j];
      gh[2 * u + j] = dn[j] * r[j];
    }
    scale_by_slope(sv.config.recurrent_activation, r, dr, u);
    std::memcpy(gh, gx, 2 * u * sizeof(T));
  }

  // reset_after=False, first half: dz, dn and dh_{t-1} direct term; dr needs d(r h) from a GEMM.
  void gru_before_first_row(int64_t b) const {
    if (!gather(b)) return;
    gru_common(b, dgx_row(b));
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

template <typename T>
void backward_steps(BackwardStep<T>& st, const Tensor& rk) {
  const RnnSaved& sv = st.sv;
  const RnnConfig& c = sv.config;
  const int64_t b = sv.batch, u = sv.units, gu = gate_count(c) * u;
  const T* w = rk.data<T>();
  const bool dropped = sv.rec_mask.defined();
  Tensor drh = c.cell == RnnCell::gru && !c.reset_after ? Tensor::empty({b, u}, sv.x.dtype()) : Tensor();
  Tensor scratch = dropped ? Tensor::empty({b, u}, sv.x.dtype()) : Tensor();
  StepThreads threads(backward_step_choice(), sv.steps);
  for (int64_t s = sv.steps - 1; s >= 0; --s) {
    const int64_t i = sv.steps - 1 - s;
    threads.begin(i);
    st.s = s;
    st.dacc = dropped ? scratch.data<T>() : st.dh_prev;
    if (dropped) std::memset(st.dacc, 0, b * u * sizeof(T));
    T* gx = st.dgx + s * b * gu;
    T* gh = st.dgh + s * b * gu;
    switch (c.cell) {
      case RnnCell::simple: for_rows(b, [&](int64_t r) { st.simple_row(r); }); break;
      case RnnCell::lstm: for_rows(b, [&](int64_t r) { st.lstm_row(r); }); break;
      case RnnCell::gru:
        if (c.reset_after) {
          for_rows(b, [&](int64_t r) { st.gru_after_row(r); });
        } else {
          for_rows(b, [&](int64_t r) { st.gru_before_first_row(r); });
          T* d = drh.data<T>();
          gemm<T>(false, true, b, u, u, T(1), gx + 2 * u, gu, w + 2 * u, gu, T(0), d, u);
          for_rows(b, [&](int64_t r) { st.gru_before_second_row(r, d); });
        }
        break;
    }
    if (c.cell == RnnCell::gru && !c.reset_after)
      gemm<T>(false, true, b, u, 2 * u, T(1), gx, gu, w, gu, T(1), st.dacc, u);
    else
      gemm<T>(false, true, b, u, gu, T(1), gh, gu, w, gu, T(1), st.dacc, u);
    if (dropped) {  // d h_{t-1} += d(h_{t-1} * mask) * mask
      const T* m = sv.rec_mask.data<T>();
      for (int64_t k = 0; k < b * u; ++k) st.dh_prev[k] += st.dacc[k] * m[k];
    }
    std::swap(st.dh, st.dh_prev);
    threads.end(i);
  }
}

// Column sums of a (rows, cols) block with row stride ld into out. Serial on purpose: an OpenMP
// team started right after BLAS calls competes with BLAS's still-spinning workers.
template <typename T>
void column_sums(const T* a, int64_t rows, int64_t cols, int64_t ld, T* out) {
  for (int64_t j = 0; j < cols; ++j) out[j] = T(0);
  for (int64_t r = 0; r < rows; ++r) {
    const T* row = a + r * ld;
    for (int64_t j = 0; j < cols; ++j) out[j] += row[j];
  }
}

// C (m, n) = A^T B with A (k, m), B (k, n) and k = the rows of all steps: the weight gradients.
// With k large and m, n small, threaded OpenBLAS synchronises its workers once per k-block, so
// it stalls the same way (see ThreadChoice). A probing call runs one eighth of k with every
// thread and one eighth with one thread, and the rest with the faster setting.
template <typename T>
void gemm_tn(int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, const T* b, int64_t ldb, T* c,
             int64_t ldc) {
  static ThreadChoice choice;
  BlasThreads blas;
  int64_t done = 0;
  if (k >= 4096 && choice.probing()) {
    const int64_t part = k / 8;
    auto start = Clock::now();
    gemm<T>(true, false, m, n, part, T(1), a, lda, b, ldb, T(0), c, ldc);
    const double threaded = seconds_since(start);
    blas.set(1);
    start = Clock::now();
    gemm<T>(true, false, m, n, part, T(1), a + part * lda, lda, b + part * ldb, ldb, T(1), c, ldc);
    choice.decide(threaded, seconds_since(start));
    done = 2 * part;
  }
  blas.set(choice.threads());
  gemm<T>(true, false, m, n, k - done, T(1), a + done * lda, lda, b + done * ldb, ldb, done ? T(1) : T(0), c, ldc);
}

template <typename T>
void weight_grads(const RnnSaved& sv, const Tensor& kernel, const T* dgx, const T* dgh, bool need_x, RnnGrads& g) {
  const RnnConfig& c = sv.config;
  const int64_t b = sv.batch, t = sv.steps, d = sv.input_dim, u = sv.units, gu = gate_count(c) * u;
  const int64_t rows = t * b;
  const DType dt = sv.x.dtype();
  g.kernel = Tensor::zeros({d, gu}, dt);  // stays zero for empty inputs
  g.recurrent_kernel = Tensor::zeros({u, gu}, dt);
  if (rows == 0) {
    if (sv.has_bias) g.bias = Tensor::zeros(c.cell == RnnCell::gru && c.reset_after ? Shape{2, gu} : Shape{gu}, dt);
    if (need_x) g.x = Tensor::zeros({b, t, d}, dt);
    return;
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
  if (need_x) {
    Tensor dxs = Tensor::empty({t, b, d}, dt);
    if (d > 0) gemm<T>(false, true, rows, d, gu, T(1), dgx, gu, kernel.data<T>(), gu, T(0), dxs.data<T>(), d);
    g.x = Tensor::empty({b, t, d}, dt);
    permute_time(dxs.data<T>(), g.x.data<T>(), b, t, d, c.go_backwards, false);
  }
  if (sv.has_bias) {
    const bool two = c.cell == RnnCell::gru && c.reset_after;
    g.bias = Tensor::empty(two ? Shape{2, gu} : Shape{gu}, dt);
    column_sums(dgx, rows, gu, gu, g.bias.data<T>());
    if (two) column_sums(dgh, rows, gu, gu, g.bias.data<T>() + gu);
  }
}

void check_grad(const Tensor& g, const Shape& want, DType dt, const char* op, const char* name) {
  if (!g.defined()) return;
  KCORE_CHECK(g.dtype() == dt, op << " backward: " << name << " has dtype " << dtype_name(g.dtype())
                                  << ", expected " << dtype_name(dt));
  KCORE_CHECK(g.shape() == want, op << " backward: " << name << " has shape " << shape_str(g.shape())
                                    << ", expected " << shape_str(want));
}

}  // namespace

RnnGrads rnn_backward(const RnnSaved& sv, const Tensor& kernel_in, const Tensor& rk_in, const Tensor& grad_out_in,
                      const Tensor& grad_h_in, const Tensor& grad_c_in, bool need_x) {
  const RnnConfig& c = sv.config;
  const char* op = op_name(c);
  const int64_t b = sv.batch, t = sv.steps, u = sv.units, gu = gate_count(c) * u;
  const DType dt = sv.x.dtype();
  KCORE_CHECK(kernel_in.shape() == Shape({sv.input_dim, gu}) && rk_in.shape() == Shape({u, gu}) &&
                  kernel_in.dtype() == dt && rk_in.dtype() == dt,
              op << " backward: kernels do not match the forward pass");
  check_grad(grad_out_in, {b, t, u}, dt, op, "output gradient");
  check_grad(grad_h_in, {b, u}, dt, op, "final h gradient");
  check_grad(grad_c_in, {b, u}, dt, op, "final c gradient");
  Tensor kernel = kernel_in.contiguous(), rk = rk_in.contiguous();
  Tensor grad_out = grad_out_in.defined() ? grad_out_in.contiguous() : Tensor();
  const bool split = c.cell == RnnCell::gru && c.reset_after;
  Tensor dgx = Tensor::empty({t, b, gu}, dt), dgh = split ? Tensor::empty({t, b, gu}, dt) : dgx;
  Tensor dh = Tensor::empty({b, u}, dt), dh_prev = Tensor::empty({b, u}, dt), carry = Tensor::zeros({b, u}, dt);
  Tensor dc = c.cell == RnnCell::lstm ? Tensor::empty({b, u}, dt) : Tensor();
  RnnGrads g;
  dispatch_float(dt, op, [&](auto tag) {
    using T = decltype(tag);
    copy_or_zero(dh.data<T>(), grad_h_in, b * u);
    if (dc.defined()) copy_or_zero(dc.data<T>(), grad_c_in, b * u);
    BackwardStep<T> st{sv,           grad_out.defined() ? grad_out.data<T>() : nullptr,
                       dh.data<T>(), dc.defined() ? dc.data<T>() : nullptr,
                       dh_prev.data<T>(), dh_prev.data<T>(), carry.data<T>(), dgx.data<T>(), dgh.data<T>()};
    backward_steps<T>(st, rk);
    // After the last swap st.dh holds the gradient w.r.t. the initial state.
    g.h0 = st.dh == dh.data<T>() ? dh : dh_prev;
    g.c0 = dc;
    weight_grads<T>(sv, kernel, dgx.data<T>(), dgh.data<T>(), need_x, g);
  });
  return g;
}

}  // namespace kcore
