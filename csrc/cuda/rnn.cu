// SimpleRNN / LSTM / GRU whole sequences on CUDA, mirroring cpu/rnn_{forward,backward}.cpp (same saved
// tensors, time-major in processed order, same gate layouts and mask semantics):
//   forward:  one cuBLAS GEMM projects the inputs of every step (x W + b); each step then runs one
//             recurrent GEMM (two for GRU with reset_after=False) and one fused gate kernel (one
//             thread per batch row and unit);
//   backward: the steps in reverse, one fused gate-gradient kernel and one GEMM for dh_{t-1} per
//             step; the weight gradients are single GEMMs over all steps, bias gradients reductions.
// The activations come from ops/rnn_math.h (shared with the host). The mask is turned into
// (T, B) bytes in processed order on the device; RnnSaved keeps a host copy (its contract), and
// backward uploads it again. Arguments are checked and outputs allocated by the entry points
// (ops/rnn.cpp); these kernels only compute.
#include <vector>

#include "cuda/common.cuh"
#include "cuda/gemm.h"
#include "cuda/rnn_kernels.cuh"
#include "cuda/table.h"

namespace kcore::cuda {
namespace {
using namespace rnn_kernels;

int64_t gate_count(const RnnConfig& c) { return rnn_gate_count(c); }
const char* op_name(const RnnConfig& c) { return rnn_op_name(c); }

template <typename T>
const T* data_or_null(const Tensor& t) {
  return t.defined() ? ptr<T>(t) : nullptr;
}

void launch_check(const char* what) { KC_LAUNCHED(what); }

template <typename T>
void copy_or_zero(T* dst, const Tensor& src, int64_t n) {
  if (n == 0) return;
  if (src.defined()) {
    Tensor s = src.contiguous();
    KC_CUDA(cudaMemcpyAsync(dst, ptr<T>(s), n * sizeof(T), cudaMemcpyDeviceToDevice, kStream));
  } else {
    KC_CUDA(cudaMemsetAsync(dst, 0, n * sizeof(T), kStream));
  }
}

template <typename T>
void permute_time(const T* src, T* dst, int64_t b, int64_t t, int64_t f, bool reverse, bool to_time_major) {
  const int64_t n = b * t * f;
  if (n == 0) return;
  KC_LAUNCH(grid_for(n), permute_time_kernel<T>)(src, dst, b, t, f, reverse, to_time_major);
  launch_check("rnn permute");
}

// The (T, B) processed-order mask on the device and its host copy (empty when every step is valid).
std::vector<uint8_t> processed_mask(const Tensor& mask_in, int64_t b, int64_t t, bool reverse, Tensor* dev) {
  if (!mask_in.defined() || b * t == 0) return {};
  Tensor m = mask_in.contiguous();
  *dev = empty({t, b}, DType::b8);
  dispatch_all(m.dtype(), [&](auto tag) {
    using M = decltype(tag);
    KC_LAUNCH(grid_for(b * t), mask_kernel<M>)(ptr<M>(m), ptr<uint8_t>(*dev), b, t, reverse);
  });
  launch_check("rnn mask");
  std::vector<uint8_t> host(t * b);
  KC_CUDA(cudaMemcpy(host.data(), dev->raw(), host.size(), cudaMemcpyDeviceToHost));
  for (uint8_t v : host)
    if (!v) return host;
  *dev = Tensor();
  return {};
}

Tensor upload_mask(const std::vector<uint8_t>& mask, int64_t b, int64_t t) {
  if (mask.empty()) return Tensor();
  Tensor dev = empty({t, b}, DType::b8);
  KC_CUDA(cudaMemcpy(dev.raw(), mask.data(), mask.size(), cudaMemcpyHostToDevice));
  return dev;
}

template <typename T>
void forward_steps(const RnnSaved& sv, const T* w, const T* bias, const uint8_t* mask, T* out) {
  const RnnConfig& c = sv.config;
  const int64_t b = sv.batch, u = sv.units, gu = gate_count(c) * u, n = b * u;
  const bool after = c.cell == RnnCell::gru && c.reset_after;
  Tensor rec = after ? empty({b, gu}, sv.x.dtype()) : Tensor();
  StepArgs<T> a;
  a.batch = b;
  a.units = u;
  a.steps = sv.steps;
  a.gcount = gate_count(c);
  a.act = c.activation;
  a.ract = c.recurrent_activation;
  a.mask = mask;
  a.out = out;
  a.b_rec = after && bias ? bias + gu : nullptr;
  a.rec = after ? ptr<T>(rec) : nullptr;
  const unsigned grid = grid_for(n);
  for (int64_t s = 0; s < sv.steps; ++s) {
    a.s = s;
    a.gates = ptr<T>(sv.gates) + s * b * gu;
    a.h_prev = ptr<T>(sv.states) + s * n;
    a.h_next = ptr<T>(sv.states) + (s + 1) * n;
    a.c_prev = sv.cells.defined() ? ptr<T>(sv.cells) + s * n : nullptr;
    a.extra = sv.extra.defined() ? ptr<T>(sv.extra) + s * n : nullptr;
    a.rec_input = sv.rec_in.defined() ? ptr<T>(sv.rec_in) + s * n : a.h_prev;
    if (n == 0) continue;
    if (sv.rec_in.defined()) {
      KC_LAUNCH(grid, multiply_kernel<T>)(a.h_prev, ptr<T>(sv.rec_mask), const_cast<T*>(a.rec_input), n);
      launch_check("rnn recurrent dropout");
    }
    switch (c.cell) {
      case RnnCell::simple:
        gemm_rows<T>(false, false, b, gu, u, a.rec_input, u, w, gu, T(1), a.gates, gu);
        KC_LAUNCH(grid, forward_kernel<T, Forward::simple>)(a);
        break;
      case RnnCell::lstm:
        gemm_rows<T>(false, false, b, gu, u, a.rec_input, u, w, gu, T(1), a.gates, gu);
        KC_LAUNCH(grid, forward_kernel<T, Forward::lstm>)(a);
        break;
      case RnnCell::gru:
        if (after) {
          gemm_rows<T>(false, false, b, gu, u, a.rec_input, u, w, gu, T(0), a.rec, gu);
          KC_LAUNCH(grid, forward_kernel<T, Forward::gru_after>)(a);
        } else {
          gemm_rows<T>(false, false, b, 2 * u, u, a.rec_input, u, w, gu, T(1), a.gates, gu);
          KC_LAUNCH(grid, forward_kernel<T, Forward::gru_before_gates>)(a);
          gemm_rows<T>(false, false, b, u, u, a.extra, u, w + 2 * u, gu, T(1), a.gates + 2 * u, gu);
          KC_LAUNCH(grid, forward_kernel<T, Forward::gru_before_out>)(a);
        }
        break;
    }
    launch_check(op_name(c));
  }
}

}  // namespace

// The entry point (ops/rnn.cpp) has checked the arguments and allocated the outputs and every
// tensor of `sv` on the device; this fills them.
void rnn_forward(RnnSaved& sv, const Tensor& x, const Tensor& kernel, const Tensor& rk, const Tensor& bias,
                 const Tensor& h0, const Tensor& c0, const Tensor& mask, Tensor& outputs) {
  const RnnConfig& cfg = sv.config;
  const int64_t b = sv.batch, t = sv.steps, d = sv.input_dim, u = sv.units, gu = gate_count(cfg) * u;
  Tensor mask_dev;
  sv.mask = processed_mask(mask, b, t, cfg.go_backwards, &mask_dev);
  dispatch_float(x.dtype(), op_name(cfg), [&](auto tag) {
    using T = decltype(tag);
    permute_time(ptr<T>(x), ptr<T>(sv.x), b, t, d, cfg.go_backwards, true);
    copy_or_zero(ptr<T>(sv.states), h0, b * u);
    if (sv.cells.defined()) copy_or_zero(ptr<T>(sv.cells), c0, b * u);
    // gates = x W + b (GRU reset_after: row 0 of the bias is the input bias)
    const int64_t rows = t * b;
    if (bias.defined()) bias_rows<T>(ptr<T>(sv.gates), ptr<T>(bias), rows, gu, false);
    if (d > 0 && rows * gu > 0)
      gemm_rows<T>(false, false, rows, gu, d, ptr<T>(sv.x), d, ptr<T>(kernel), gu, bias.defined() ? T(1) : T(0),
                   ptr<T>(sv.gates), gu);
    else if (!bias.defined() && rows * gu > 0)
      KC_CUDA(cudaMemsetAsync(ptr<T>(sv.gates), 0, rows * gu * sizeof(T), kStream));
    forward_steps<T>(sv, ptr<T>(rk), data_or_null<T>(bias), data_or_null<uint8_t>(mask_dev), ptr<T>(outputs));
  });
}

namespace {

template <typename T>
void backward_steps(const RnnSaved& sv, BackStepArgs<T> a, const T* w, T** dh_final) {
  const RnnConfig& c = sv.config;
  const int64_t b = sv.batch, u = sv.units, gu = gate_count(c) * u, n = b * u;
  const bool before = c.cell == RnnCell::gru && !c.reset_after;
  const bool dropped = sv.rec_mask.defined();
  Tensor drh = before ? empty({b, u}, sv.x.dtype()) : Tensor();
  Tensor scratch = dropped ? empty({b, u}, sv.x.dtype()) : Tensor();
  const unsigned grid = grid_for(n);
  T* dgx0 = a.dgx;
  T* dgh0 = a.dgh;
  for (int64_t s = sv.steps - 1; s >= 0 && n > 0; --s) {
    a.s = s;
    a.gates = ptr<T>(sv.gates) + s * b * gu;
    a.h_prev = ptr<T>(sv.states) + s * n;
    a.c_prev = sv.cells.defined() ? ptr<T>(sv.cells) + s * n : nullptr;
    a.extra = sv.extra.defined() ? ptr<T>(sv.extra) + s * n : nullptr;
    a.rec_input = sv.rec_in.defined() ? ptr<T>(sv.rec_in) + s * n : a.h_prev;
    a.dgx = dgx0 + s * b * gu;
    a.dgh = dgh0 + s * b * gu;
    a.dacc = dropped ? ptr<T>(scratch) : a.dh_prev;
    if (dropped) KC_CUDA(cudaMemsetAsync(a.dacc, 0, n * sizeof(T), kStream));
    switch (c.cell) {
      case RnnCell::simple: KC_LAUNCH(grid, backward_kernel<T, Backward::simple>)(a, nullptr); break;
      case RnnCell::lstm: KC_LAUNCH(grid, backward_kernel<T, Backward::lstm>)(a, nullptr); break;
      case RnnCell::gru:
        if (c.reset_after) {
          KC_LAUNCH(grid, backward_kernel<T, Backward::gru_after>)(a, nullptr);
        } else {
          KC_LAUNCH(grid, backward_kernel<T, Backward::gru_before_first>)(a, nullptr);
          gemm_rows<T>(false, true, b, u, u, a.dgx + 2 * u, gu, w + 2 * u, gu, T(0), ptr<T>(drh), u);
          KC_LAUNCH(grid, backward_kernel<T, Backward::gru_before_second>)(a, ptr<T>(drh));
        }
        break;
    }
    launch_check(op_name(c));
    if (before) gemm_rows<T>(false, true, b, u, 2 * u, a.dgx, gu, w, gu, T(1), a.dacc, u);
    else gemm_rows<T>(false, true, b, u, gu, a.dgh, gu, w, gu, T(1), a.dacc, u);
    if (dropped) {  // d h_{t-1} += d(h_{t-1} * mask) * mask
      KC_LAUNCH(grid, multiply_add_kernel<T>)(a.dacc, ptr<T>(sv.rec_mask), a.dh_prev, n);
      launch_check("rnn recurrent dropout");
    }
    std::swap(a.dh, a.dh_prev);
  }
  *dh_final = a.dh;
}

// Fills the weight, bias (zero-filled on arrival) and x gradients of g from the pre-activation
// gradients of every step.
template <typename T>
void weight_grads(const RnnSaved& sv, const T* kernel, const Tensor& dgx, const Tensor& dgh, bool need_x, RnnGrads& g) {
  const RnnConfig& c = sv.config;
  const int64_t b = sv.batch, t = sv.steps, d = sv.input_dim, u = sv.units, gu = gate_count(c) * u;
  const int64_t rows = t * b;
  if (need_x && g.x.numel() > 0 && (d == 0 || gu == 0)) fill(g.x, 0.0);
  if (rows == 0 || gu == 0) return;                                           // the weight and bias gradients stay zero
  const T* hs = sv.rec_in.defined() ? ptr<T>(sv.rec_in) : ptr<T>(sv.states);  // h_{t-1} of every step
  const T* gx = ptr<T>(dgx);
  T* du = ptr<T>(g.recurrent_kernel);
  if (d > 0) gemm_rows<T>(true, false, d, gu, rows, ptr<T>(sv.x), d, gx, gu, T(0), ptr<T>(g.kernel), gu);
  if (c.cell == RnnCell::gru && !c.reset_after) {
    gemm_rows<T>(true, false, u, 2 * u, rows, hs, u, gx, gu, T(0), du, gu);
    gemm_rows<T>(true, false, u, u, rows, ptr<T>(sv.extra), u, gx + 2 * u, gu, T(0), du + 2 * u, gu);
  } else {
    gemm_rows<T>(true, false, u, gu, rows, hs, u, ptr<T>(dgh), gu, T(0), du, gu);
  }
  if (need_x && d > 0) {
    Tensor dxs = empty({t, b, d}, sv.x.dtype());
    gemm_rows<T>(false, true, rows, d, gu, gx, gu, kernel, gu, T(0), ptr<T>(dxs), d);
    permute_time(ptr<T>(dxs), ptr<T>(g.x), b, t, d, c.go_backwards, false);
  }
  if (sv.has_bias) {  // (G*U,), or (2, 3U) for GRU reset_after: input-side sums, then recurrent-side
    const bool two = c.cell == RnnCell::gru && c.reset_after;
    Tensor in = column_sums(dgx, rows, gu);
    KC_CUDA(cudaMemcpyAsync(ptr<T>(g.bias), ptr<T>(in), gu * sizeof(T), cudaMemcpyDeviceToDevice, kStream));
    if (two) {
      Tensor rec = column_sums(dgh, rows, gu);
      KC_CUDA(cudaMemcpyAsync(ptr<T>(g.bias) + gu, ptr<T>(rec), gu * sizeof(T), cudaMemcpyDeviceToDevice, kStream));
    }
  }
}

}  // namespace

// The entry point (ops/rnn.cpp) has checked the arguments and allocated `g` on the device: weight
// and bias gradients zero-filled, x (need_x), h0 and c0 (LSTM) uninitialised.
void rnn_backward(const RnnSaved& sv, const Tensor& kernel, const Tensor& rk, const Tensor& grad_out,
                  const Tensor& grad_h, const Tensor& grad_c, bool need_x, RnnGrads& g) {
  const RnnConfig& c = sv.config;
  const int64_t b = sv.batch, t = sv.steps, u = sv.units, gu = gate_count(c) * u;
  const DType dt = sv.x.dtype();
  const bool split = c.cell == RnnCell::gru && c.reset_after;
  Tensor dgx = empty({t, b, gu}, dt), dgh = split ? empty({t, b, gu}, dt) : dgx;
  Tensor dh = empty({b, u}, dt), dh_prev = empty({b, u}, dt), carry = zeros({b, u}, dt);
  Tensor mask = upload_mask(sv.mask, b, t);
  dispatch_float(dt, op_name(c), [&](auto tag) {
    using T = decltype(tag);
    copy_or_zero(ptr<T>(dh), grad_h, b * u);
    if (g.c0.defined()) copy_or_zero(ptr<T>(g.c0), grad_c, b * u);  // dc, updated in place to dc0
    BackStepArgs<T> a;
    a.batch = b;
    a.units = u;
    a.steps = t;
    a.gcount = gate_count(c);
    a.act = c.activation;
    a.ract = c.recurrent_activation;
    a.mask = data_or_null<uint8_t>(mask);
    a.grad_out = data_or_null<T>(grad_out);
    a.dh = ptr<T>(dh);
    a.dh_prev = ptr<T>(dh_prev);
    a.dc = g.c0.defined() ? ptr<T>(g.c0) : nullptr;
    a.carry = ptr<T>(carry);
    a.dgx = ptr<T>(dgx);
    a.dgh = ptr<T>(dgh);
    T* dh0 = nullptr;
    backward_steps<T>(sv, a, ptr<T>(rk), &dh0);  // after the last swap dh0 holds d(initial h)
    if (b * u > 0) KC_CUDA(cudaMemcpyAsync(ptr<T>(g.h0), dh0, b * u * sizeof(T), cudaMemcpyDeviceToDevice, kStream));
    weight_grads<T>(sv, ptr<T>(kernel), dgx, dgh, need_x, g);
  });
}

}  // namespace kcore::cuda
