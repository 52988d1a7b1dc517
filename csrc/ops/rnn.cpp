// The recurrent ops' device-independent entry points: argument checks, output shapes, and the
// outputs (and what the forward pass keeps) allocated on the inputs' device; the device kernels
// (cpu/rnn_forward.cpp, cpu/rnn_backward.cpp) only compute.
#include "ops/rnn.h"

#include <memory>

#include "ops/arguments.h"
#include "ops/op_call.h"

namespace kcore {

namespace {

void check_state(const Tensor& s, const Tensor& x, int64_t b, int64_t u, const char* op, const char* name) {
  if (!s.defined()) return;
  check_float(s, op, name);
  check_same_dtype(x, s, op);
  KCORE_CHECK(s.shape() == Shape({b, u}), op << ": " << name << " must have shape " << shape_str({b, u})
                                             << " (batch, units), got " << shape_str(s.shape()));
}

void check_inputs(const RnnConfig& cfg, const Tensor& x, const Tensor& w, const Tensor& rw, const Tensor& bias,
                  const Tensor& h0, const Tensor& c0, const Tensor& mask) {
  const char* op = rnn_op_name(cfg);
  check_float(x, op, "inputs");
  check_float(w, op, "kernel");
  check_float(rw, op, "recurrent_kernel");
  KCORE_CHECK(x.ndim() == 3, op << ": inputs must be 3-D (batch, timesteps, features), got shape "
                                << shape_str(x.shape())
                                << (x.ndim() == 2 ? "; the time axis is missing (reshape to (batch, 1, features) "
                                                    "for one step)"
                                                  : ""));
  check_same_dtype(x, w, op);
  check_same_dtype(x, rw, op);
  const int64_t b = x.dim(0), d = x.dim(2), g = rnn_gate_count(cfg);
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
    KCORE_CHECK(bias.shape() == want,
                op << ": bias must have shape " << shape_str(want) << ", got " << shape_str(bias.shape()));
  }
  check_state(h0, x, b, u, op, "initial h state");
  if (cfg.cell == RnnCell::lstm) check_state(c0, x, b, u, op, "initial c state");
  if (mask.defined())
    KCORE_CHECK(mask.shape() == Shape({b, x.dim(1)}), op << ": mask must have shape " << shape_str({b, x.dim(1)})
                                                         << " (batch, timesteps), got " << shape_str(mask.shape()));
}

void check_grad(const Tensor& g, const Shape& want, DType dt, const char* op, const char* name) {
  if (!g.defined()) return;
  KCORE_CHECK(g.dtype() == dt,
              op << " backward: " << name << " has dtype " << dtype_name(g.dtype()) << ", expected " << dtype_name(dt));
  KCORE_CHECK(g.shape() == want,
              op << " backward: " << name << " has shape " << shape_str(g.shape()) << ", expected " << shape_str(want));
}

Tensor contiguous_or_none(const Tensor& t) { return t.defined() ? t.contiguous() : Tensor(); }

// bfloat16 layers: their operands in float32 (exact), their results rounded back.
Tensor widen(const Tensor& t) { return t.defined() && t.dtype() == DType::bf16 ? t.astype(DType::f32) : t; }
Tensor narrow(const Tensor& t) { return t.defined() && t.dtype() == DType::f32 ? t.astype(DType::bf16) : t; }

// The forward entry point; bf16: the layer's operands were bfloat16 (the arguments are their float32
// copies): the kernels keep float32 state and run their GEMMs on bfloat16 operands.
RnnForwardResult forward(const RnnConfig& cfg, bool bf16, const Tensor& x_in, const Tensor& kernel_in,
                         const Tensor& rk_in, const Tensor& bias, const Tensor& h0, const Tensor& c0,
                         const Tensor& mask, const Tensor& rec_mask) {
  OpCall call("rnn_forward", x_in, kernel_in, rk_in, bias, h0, c0, mask, rec_mask);
  auto kernel = KCORE_KERNEL(call, rnn_forward);
  check_inputs(cfg, x_in, kernel_in, rk_in, bias, h0, c0, mask);
  check_state(rec_mask, x_in, x_in.dim(0), rk_in.dim(0), rnn_op_name(cfg), "recurrent dropout mask");
  auto sv = std::make_shared<RnnSaved>();
  sv->config = cfg;
  sv->batch = x_in.dim(0);
  sv->steps = x_in.dim(1);
  sv->input_dim = x_in.dim(2);
  sv->units = rk_in.dim(0);
  sv->has_bias = bias.defined();
  sv->bf16 = bf16;
  const int64_t b = sv->batch, t = sv->steps, d = sv->input_dim, u = sv->units, gu = rnn_gate_count(cfg) * u;
  const DType dt = x_in.dtype();
  sv->x = call.empty({t, b, d}, dt);
  sv->states = call.empty({t + 1, b, u}, dt);
  sv->gates = call.empty({t, b, gu}, dt);
  if (cfg.cell != RnnCell::simple) sv->extra = call.empty({t, b, u}, dt);
  if (cfg.cell == RnnCell::lstm) sv->cells = call.empty({t + 1, b, u}, dt);
  if (rec_mask.defined()) {
    sv->rec_mask = rec_mask.contiguous();
    sv->rec_in = call.empty({t, b, u}, dt);
  }
  Tensor outputs = call.empty({b, t, u}, dt);
  kernel(*sv, x_in.contiguous(), kernel_in.contiguous(), rk_in.contiguous(), contiguous_or_none(bias),
         contiguous_or_none(h0), contiguous_or_none(c0), contiguous_or_none(mask), outputs);
  const int64_t off = t * b * u;
  Tensor h = sv->states.as_strided({b, u}, {u, 1}, sv->states.offset() + off).clone();
  OptionalTensor c;
  if (sv->cells.defined()) c = sv->cells.as_strided({b, u}, {u, 1}, sv->cells.offset() + off).clone();
  return {outputs, h, c, sv};
}

}  // namespace

RnnForwardResult rnn_forward(RnnCell cell, bool reset_after, RnnActivation activation,
                             RnnActivation recurrent_activation, bool go_backwards, const Tensor& x,
                             const Tensor& kernel, const Tensor& rk, const OptionalTensor& bias,
                             const OptionalTensor& h0, const OptionalTensor& c0, const OptionalTensor& mask,
                             const OptionalTensor& rec_mask) {
  const RnnConfig cfg{cell, reset_after, activation, recurrent_activation, go_backwards};
  if (x.dtype() != DType::bf16) return forward(cfg, false, x, kernel, rk, bias, h0, c0, mask, rec_mask);
  auto [out, h, c, sv] = forward(cfg, true, widen(x), widen(kernel), widen(rk), widen(bias), widen(h0), widen(c0),
                                 widen(mask), widen(rec_mask));
  return {narrow(out), narrow(h), narrow(c), sv};
}

RnnBackwardResult rnn_backward(const std::shared_ptr<RnnSaved>& saved, const Tensor& kernel_in, const Tensor& rk_in,
                               const OptionalTensor& grad_out, const OptionalTensor& grad_h,
                               const OptionalTensor& grad_c, bool need_x) {
  KCORE_CHECK(saved != nullptr, "rnn_backward: saved must be what rnn_forward returned, got None");
  const RnnSaved& sv = *saved;
  if (sv.bf16 && kernel_in.dtype() == DType::bf16) {  // float32 inside, bfloat16 gradients out
    auto [gx, gh0, gc0, gk, grk, gb] =
        rnn_backward(saved, widen(kernel_in), widen(rk_in), widen(grad_out), widen(grad_h), widen(grad_c), need_x);
    return {narrow(gx), narrow(gh0), narrow(gc0), narrow(gk), narrow(grk), narrow(gb)};
  }
  OpCall call("rnn_backward", sv.x, kernel_in, rk_in, grad_out, grad_h, grad_c);
  auto kernel = KCORE_KERNEL(call, rnn_backward);
  const RnnConfig& c = sv.config;
  const char* op = rnn_op_name(c);
  const int64_t b = sv.batch, t = sv.steps, d = sv.input_dim, u = sv.units, gu = rnn_gate_count(c) * u;
  const DType dt = sv.x.dtype();
  KCORE_CHECK(kernel_in.shape() == Shape({d, gu}) && rk_in.shape() == Shape({u, gu}) && kernel_in.dtype() == dt &&
                  rk_in.dtype() == dt,
              op << " backward: kernels do not match the forward pass");
  check_grad(grad_out, {b, t, u}, dt, op, "output gradient");
  check_grad(grad_h, {b, u}, dt, op, "final h gradient");
  check_grad(grad_c, {b, u}, dt, op, "final c gradient");
  RnnGrads g;
  g.kernel = call.zeros({d, gu}, dt);
  g.recurrent_kernel = call.zeros({u, gu}, dt);
  if (sv.has_bias) g.bias = call.zeros(c.cell == RnnCell::gru && c.reset_after ? Shape{2, gu} : Shape{gu}, dt);
  if (need_x) g.x = call.empty({b, t, d}, dt);
  g.h0 = call.empty({b, u}, dt);
  if (c.cell == RnnCell::lstm) g.c0 = call.empty({b, u}, dt);
  kernel(sv, kernel_in.contiguous(), rk_in.contiguous(), contiguous_or_none(grad_out), contiguous_or_none(grad_h),
         contiguous_or_none(grad_c), need_x, g);
  return {g.x, g.h0, g.c0, g.kernel, g.recurrent_kernel, g.bias};
}

}  // namespace kcore
