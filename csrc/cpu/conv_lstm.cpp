// ConvLSTM kernels on the CPU (compute only: ops/conv_lstm.cpp has checked the arguments and
// allocated the outputs and saved buffers). Forward: one conv_forward projects the inputs of
// all steps (T*B frames, bias included); each step adds one recurrent conv_forward of h_{t-1} and
// runs the gates over the B * pixels rows of the step. Backward runs the steps in reverse: a gate
// gradient kernel per step, then one conv_backward (input gradient only) for d h_{t-1}; the
// kernel, bias and input gradients are single conv_backward calls over all steps at the end.
// The convs are the engine's entry points (::kcore::conv_forward / conv_backward). Pre-activations
// are kept and the activations recomputed in backward, so any UnaryOp works.
#include "ops/conv_lstm.h"

#include <cstring>
#include <utility>
#include <vector>

#include "core/parallel.h"
#include "cpu/sequence_layout.h"
#include "ops/activation_math.h"

namespace kcore::cpu {

namespace {

constexpr const char* kOp = "conv_lstm";

// The gate activations over arrays: the switch sits outside the loops, so each case's loop runs a
// constant op (its switch folds) and vectorises. y = act(x); x and y may be the same array.
// clang-format off
#define KCORE_CONV_LSTM_CASES(X) \
  X(tanh) X(sigmoid) X(relu) X(hard_sigmoid) X(elu) X(selu) X(softplus) X(softsign) X(silu) X(relu6) X(exp)
// clang-format on

template <typename T>
void activate(const ConvLstmActivation& a, const T* x, T* y, int64_t n) {
  if (a.identity) {
    if (x != y) std::memcpy(y, x, n * sizeof(T));
    return;
  }
  switch (a.op) {
#define KCORE_CASE(name) \
  case UnaryOp::name: \
    for (int64_t j = 0; j < n; ++j) y[j] = activation::value(UnaryOp::name, x[j], T(1)); \
    return;
    KCORE_CONV_LSTM_CASES(KCORE_CASE)
#undef KCORE_CASE
    default:
      for (int64_t j = 0; j < n; ++j) y[j] = activation::value(a.op, x[j], T(1));
  }
}

// g *= act'(x) where y = act(x).
template <typename T>
void scale_by_slope(const ConvLstmActivation& a, const T* x, const T* y, T* g, int64_t n) {
  if (a.identity) return;
  switch (a.op) {
#define KCORE_CASE(name) \
  case UnaryOp::name: \
    for (int64_t j = 0; j < n; ++j) g[j] *= activation::derivative(UnaryOp::name, x[j], y[j], T(1)); \
    return;
    KCORE_CONV_LSTM_CASES(KCORE_CASE)
#undef KCORE_CASE
    default:
      for (int64_t j = 0; j < n; ++j) g[j] *= activation::derivative(a.op, x[j], y[j], T(1));
  }
}

// The activated gates i, f, c, o of a row's pre-activations z (4F) into y (4F).
template <typename T>
void activate_gates(const ConvLstmConfig& cfg, const T* z, T* y, int64_t f) {
  activate(cfg.recurrent_activation, z, y, 2 * f);
  activate(cfg.activation, z + 2 * f, y + 2 * f, f);
  activate(cfg.recurrent_activation, z + 3 * f, y + 3 * f, f);
}

// n frames of a contiguous frame-major tensor from frame `first` on (a view).
Tensor frames_view(const Tensor& t, int64_t first, int64_t n) {
  Shape shape = t.shape();
  const int64_t per = shape[0] ? t.numel() / shape[0] : 0;
  shape[0] = n;
  return Tensor(t.storage(), shape, t.dtype(), t.offset() + first * per);
}

// One step of the forward pass over its B * P rows; z of the step already holds both convs.
template <typename T>
struct ForwardStep {
  const ConvLstmSaved& sv;
  T* out;  // (B, T, P, F)
  int64_t s = 0;

  // scratch: 5F elements of the calling thread
  void row(int64_t r, T* scratch) const {
    const ConvLstmConfig& cfg = sv.config;
    const int64_t bp = sv.batch * sv.pixels, f = sv.filters, b = r / sv.pixels, p = r % sv.pixels;
    const int64_t at = (s * bp + r) * f;
    const T* hp = sv.states.data<T>() + at;
    const T* cp = sv.cells.data<T>() + at;
    T* hn = const_cast<T*>(hp) + bp * f;
    T* cn = const_cast<T*>(cp) + bp * f;
    const bool valid = sv.mask.empty() || sv.mask[s * sv.batch + b];
    if (valid) {
      T *y = scratch, *tc = scratch + 4 * f;
      activate_gates(cfg, sv.z.data<T>() + (s * bp + r) * 4 * f, y, f);
      for (int64_t j = 0; j < f; ++j) cn[j] = y[f + j] * cp[j] + y[j] * y[2 * f + j];
      activate(cfg.activation, cn, tc, f);
      for (int64_t j = 0; j < f; ++j) hn[j] = y[3 * f + j] * tc[j];
    } else {
      std::memcpy(hn, hp, f * sizeof(T));
      std::memcpy(cn, cp, f * sizeof(T));
    }
    T* o = out + ((b * sv.steps + s) * sv.pixels + p) * f;  // masked: the previous output (zeros first)
    if (valid) std::memcpy(o, hn, f * sizeof(T));
    else if (s == 0) std::memset(o, 0, f * sizeof(T));
    else std::memcpy(o, o - sv.pixels * f, f * sizeof(T));
  }
};

// h_{t-1} as the recurrent conv reads it: the state, or state * rec_mask with recurrent dropout.
template <typename T>
Tensor recurrent_input(const ConvLstmSaved& sv, int64_t s) {
  const int64_t b = sv.batch;
  Tensor h = frames_view(sv.states, s * b, b);
  if (!sv.rec_in.defined()) return h;
  Tensor in = frames_view(sv.rec_in, s * b, b);
  const T *hp = h.data<T>(), *m = sv.rec_mask.data<T>();
  T* dst = in.data<T>();
  for (int64_t k = 0; k < h.numel(); ++k) dst[k] = hp[k] * m[k];
  return in;
}

template <typename T>
void forward_steps(const ConvLstmSaved& sv, const Tensor& rk, T* out) {
  const int64_t b = sv.batch, rows = b * sv.pixels, g = 4 * sv.filters;
  ForwardStep<T> st{sv, out};
  for (int64_t s = 0; s < sv.steps; ++s) {
    st.s = s;
    Tensor rec = ::kcore::conv_forward(recurrent_input<T>(sv, s), rk, Tensor(), sv.config.recurrent_args);
    T* z = sv.z.data<T>() + s * rows * g;
    const T* add = rec.data<T>();
    parallel_for(rows, 64, [&](int64_t lo, int64_t hi) {
      std::vector<T> scratch(5 * sv.filters);
      for (int64_t k = lo * g; k < hi * g; ++k) z[k] += add[k];
      for (int64_t r = lo; r < hi; ++r) st.row(r, scratch.data());
    });
  }
}

}  // namespace

void conv_lstm_forward(ConvLstmSaved& sv, const Tensor& x, const Tensor& kernel, const Tensor& rk, const Tensor& bias,
                       const Tensor& h0, const Tensor& c0, const Tensor& mask, Tensor& outputs) {
  const int64_t b = sv.batch, t = sv.steps, n = b * sv.pixels * sv.filters;
  sv.mask = sequence::processed_mask(mask, b, t, sv.config.go_backwards);
  dispatch_float(x.dtype(), kOp, [&](auto tag) {
    using T = decltype(tag);
    const int64_t per_frame = b * t != 0 ? x.numel() / (b * t) : 0;
    sequence::permute_time(x.data<T>(), sv.frames.data<T>(), b, t, per_frame, sv.config.go_backwards, true);
    sv.z = ::kcore::conv_forward(sv.frames, kernel, bias, sv.config.input_args);
    sequence::copy_or_zero(sv.states.data<T>(), h0, n);
    sequence::copy_or_zero(sv.cells.data<T>(), c0, n);
    forward_steps<T>(sv, rk, outputs.data<T>());
  });
}

namespace {

// One step of backward through time over its B * P rows.
template <typename T>
struct BackwardStep {
  const ConvLstmSaved& sv;
  const T* grad_out;  // (B, T, P, F) or null
  T* dh;              // gradient w.r.t. h after the step (B*P, F)
  T* dc;              // gradient w.r.t. c after the step; becomes the one before it
  T* dh_prev;         // direct part of the gradient w.r.t. h_{t-1} (the conv's part is added after)
  T* carry;           // output gradients of masked steps, waiting for the last valid step
  T* dz;              // (T*B*P, 4F) gradients of the pre-activations
  int64_t s = 0;

  // scratch: 7F elements of the calling thread
  void row(int64_t r, T* scratch) const {
    const ConvLstmConfig& cfg = sv.config;
    const int64_t bp = sv.batch * sv.pixels, f = sv.filters, b = r / sv.pixels, p = r % sv.pixels;
    const T* go = grad_out ? grad_out + ((b * sv.steps + s) * sv.pixels + p) * f : nullptr;
    T *acc = carry + r * f, *d = dh + r * f, *dcr = dc + r * f, *dp = dh_prev + r * f;
    T* dzr = dz + (s * bp + r) * 4 * f;
    if (!(sv.mask.empty() || sv.mask[s * sv.batch + b])) {  // state passes through; c's gradient stays
      if (go)
        for (int64_t j = 0; j < f; ++j) acc[j] += go[j];
      std::memcpy(dp, d, f * sizeof(T));
      std::memset(dzr, 0, 4 * f * sizeof(T));
      return;
    }
    const T* z = sv.z.data<T>() + (s * bp + r) * 4 * f;
    const T* cp = sv.cells.data<T>() + (s * bp + r) * f;
    const T* cn = cp + bp * f;
    T *y = scratch, *tc = scratch + 4 * f, *dt = scratch + 5 * f, *dct = scratch + 6 * f;
    activate_gates(cfg, z, y, f);
    activate(cfg.activation, cn, tc, f);
    const T *i = y, *fg = y + f, *g = y + 2 * f, *o = y + 3 * f;
    for (int64_t j = 0; j < f; ++j) {
      dt[j] = d[j] + acc[j] + (go ? go[j] : T(0));
      acc[j] = T(0);
      dct[j] = dt[j] * o[j];
    }
    scale_by_slope(cfg.activation, cn, tc, dct, f);
    for (int64_t j = 0; j < f; ++j) {
      dct[j] += dcr[j];
      dzr[j] = dct[j] * g[j];
      dzr[f + j] = dct[j] * cp[j];
      dzr[2 * f + j] = dct[j] * i[j];
      dzr[3 * f + j] = dt[j] * tc[j];
      dcr[j] = dct[j] * fg[j];
      dp[j] = T(0);
    }
    scale_by_slope(cfg.recurrent_activation, z, y, dzr, 2 * f);
    scale_by_slope(cfg.activation, z + 2 * f, g, dzr + 2 * f, f);
    scale_by_slope(cfg.recurrent_activation, z + 3 * f, o, dzr + 3 * f, f);
  }
};

template <typename T>
void backward_steps(BackwardStep<T>& st, const Tensor& dz, const Tensor& rk) {
  const ConvLstmSaved& sv = st.sv;
  const int64_t b = sv.batch, rows = b * sv.pixels, n = rows * sv.filters;
  for (int64_t s = sv.steps - 1; s >= 0; --s) {
    st.s = s;
    parallel_for(rows, 64, [&](int64_t lo, int64_t hi) {
      std::vector<T> scratch(7 * sv.filters);
      for (int64_t r = lo; r < hi; ++r) st.row(r, scratch.data());
    });
    Tensor h_in = sv.rec_in.defined() ? frames_view(sv.rec_in, s * b, b) : frames_view(sv.states, s * b, b);
    Tensor g = std::get<0>(
        ::kcore::conv_backward(h_in, rk, frames_view(dz, s * b, b), sv.config.recurrent_args, true, false, false));
    const T* gp = g.data<T>();
    if (sv.rec_mask.defined()) {
      const T* m = sv.rec_mask.data<T>();
      for (int64_t k = 0; k < n; ++k) st.dh_prev[k] += gp[k] * m[k];
    } else {
      for (int64_t k = 0; k < n; ++k) st.dh_prev[k] += gp[k];
    }
    std::swap(st.dh, st.dh_prev);
  }
}

}  // namespace

void conv_lstm_backward(const ConvLstmSaved& sv, const Tensor& kernel, const Tensor& rk, const Tensor& go,
                        const Tensor& grad_h, const Tensor& grad_c, ConvLstmGrads& grads) {
  const int64_t b = sv.batch, t = sv.steps, n = grads.h0.numel();
  const DType dt = sv.frames.dtype();
  const Shape& state = grads.h0.shape();
  Tensor dz = Tensor::empty(sv.z.shape(), dt);
  Tensor dh = grads.h0, dc = grads.c0, dh_prev = Tensor::empty(state, dt);
  Tensor carry = Tensor::zeros(state, dt);
  dispatch_float(dt, kOp, [&](auto tag) {
    using T = decltype(tag);
    sequence::copy_or_zero(dh.data<T>(), grad_h, n);
    sequence::copy_or_zero(dc.data<T>(), grad_c, n);
    BackwardStep<T> st{sv,
                       go.defined() ? go.data<T>() : nullptr,
                       dh.data<T>(),
                       dc.data<T>(),
                       dh_prev.data<T>(),
                       carry.data<T>(),
                       dz.data<T>()};
    backward_steps<T>(st, dz, rk);
    if (st.dh != dh.data<T>()) std::memcpy(dh.data<T>(), st.dh, n * sizeof(T));  // an odd number of steps
  });
  Tensor h_in = sv.rec_in.defined() ? sv.rec_in : frames_view(sv.states, 0, t * b);
  grads.recurrent_kernel =
      std::get<1>(::kcore::conv_backward(h_in, rk, dz, sv.config.recurrent_args, false, true, false));
  auto [dframes, dk, db] =
      ::kcore::conv_backward(sv.frames, kernel, dz, sv.config.input_args, grads.x.defined(), true, sv.has_bias);
  grads.kernel = dk;
  grads.bias = db;
  if (grads.x.defined()) {
    dispatch_float(dt, kOp, [&](auto tag) {
      using T = decltype(tag);
      const int64_t per_frame = b * t != 0 ? dframes.numel() / (b * t) : 0;
      sequence::permute_time(dframes.data<T>(), grads.x.data<T>(), b, t, per_frame, sv.config.go_backwards, false);
    });
  }
}

}  // namespace kcore::cpu
