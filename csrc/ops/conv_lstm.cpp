// ConvLSTM: the device-independent entry points (checks, shapes, outputs and saved buffers).
#include "ops/conv_lstm.h"

#include "ops/op_call.h"

namespace kcore {

namespace {

// (batch, *spatial, channels) with the batch axis replaced.
Shape with_batch(const Shape& frame, int64_t n) {
  Shape s = frame;
  s[0] = n;
  return s;
}

void check_state(const Tensor& s, const Tensor& x, const Shape& want, const char* op, const char* name) {
  if (!s.defined()) return;
  check_float(s, op, name);
  check_same_dtype(x, s, op);
  KCORE_CHECK(s.shape() == want, op << ": " << name << " must have shape " << shape_str(want)
                                    << " (batch, *output spatial, filters), got " << shape_str(s.shape()));
}

// Validates the forward's arguments; returns the state shape (B, *out, F).
Shape check_arguments(const ConvLstmConfig& cfg, const Tensor& x, const Tensor& w, const Tensor& rw, const Tensor& bias,
                      const Tensor& h0, const Tensor& c0, const Tensor& mask, const Tensor& rec_mask) {
  const char* op = "conv_lstm";
  check_float(x, op, "inputs");
  check_float(w, op, "kernel");
  check_float(rw, op, "recurrent_kernel");
  check_same_dtype(x, w, op);
  check_same_dtype(x, rw, op);
  const int64_t rank = x.ndim() - 3;
  KCORE_CHECK(rank >= 1 && rank <= 3, op << ": inputs must be (batch, timesteps, 1 to 3 spatial axes, channels), "
                                            "got shape "
                                         << shape_str(x.shape()));
  KCORE_CHECK(w.ndim() == rank + 2 && w.dim(-1) % 4 == 0 && w.dim(-1) > 0 && w.dim(-2) == x.dim(-1),
              op << ": kernel must have shape (*kernel_size, " << x.dim(-1) << ", 4 * filters) for inputs of shape "
                 << shape_str(x.shape()) << ", got " << shape_str(w.shape()));
  const int64_t f = w.dim(-1) / 4, b = x.dim(0), t = x.dim(1);
  KCORE_CHECK(rw.ndim() == rank + 2 && rw.dim(-2) == f && rw.dim(-1) == 4 * f,
              op << ": recurrent_kernel must have shape (*kernel_size, " << f << ", " << 4 * f << ") for " << f
                 << " filters, got " << shape_str(rw.shape()));
  KCORE_CHECK(t > 0, op << ": the sequence has no time steps (inputs of shape " << shape_str(x.shape()) << ")");
  if (bias.defined()) {
    check_float(bias, op, "bias");
    check_same_dtype(x, bias, op);
    KCORE_CHECK(bias.shape() == Shape({4 * f}),
                op << ": bias must have shape (" << 4 * f << ",), got " << shape_str(bias.shape()));
  }
  Shape frame(x.shape().begin() + 1, x.shape().end());  // (T, *spatial, C): T stands for the frame count
  Shape state = with_batch(conv_output_shape(frame, w.shape(), cfg.input_args), b);
  state.back() = f;
  Shape rec_out = conv_output_shape(state, rw.shape(), cfg.recurrent_args);
  rec_out.back() = f;
  KCORE_CHECK(rec_out == state, op << ": the recurrent convolution maps states of shape " << shape_str(state) << " to "
                                   << shape_str(rec_out) << "; it must keep their shape ('same')");
  check_state(h0, x, state, op, "initial h state");
  check_state(c0, x, state, op, "initial c state");
  check_state(rec_mask, x, state, op, "recurrent dropout mask");
  if (mask.defined())
    KCORE_CHECK(mask.shape() == Shape({b, t}), op << ": mask must have shape " << shape_str({b, t})
                                                  << " (batch, timesteps), got " << shape_str(mask.shape()));
  return state;
}

// Frames [first, first + n) of a contiguous frame-major tensor, packed.
Tensor frames_copy(const Tensor& t, int64_t first, int64_t n) {
  Shape shape = with_batch(t.shape(), n);
  const int64_t per = t.dim(0) ? t.numel() / t.dim(0) : 0;
  return t.as_strided(shape, contiguous_strides(shape), t.offset() + first * per).clone();
}

}  // namespace

ConvLstmResult conv_lstm_forward(const ConvLstmConfig& cfg, const Tensor& x_in, const Tensor& kernel,
                                 const Tensor& recurrent_kernel, const OptionalTensor& bias, const OptionalTensor& h0,
                                 const OptionalTensor& c0, const OptionalTensor& mask, const OptionalTensor& rec_mask) {
  OpCall call("conv_lstm_forward", x_in, kernel, recurrent_kernel, bias, h0, c0, mask, rec_mask);
  auto run = KCORE_KERNEL(call, conv_lstm_forward);
  const Shape state = check_arguments(cfg, x_in, kernel, recurrent_kernel, bias, h0, c0, mask, rec_mask);
  auto sv = std::make_shared<ConvLstmSaved>();
  sv->config = cfg;
  sv->batch = x_in.dim(0);
  sv->steps = x_in.dim(1);
  sv->filters = state.back();
  sv->pixels = sv->batch ? shape_numel(state) / (sv->batch * sv->filters) : 0;
  sv->has_bias = bias.defined();
  sv->x_shape = x_in.shape();
  const int64_t b = sv->batch, t = sv->steps;
  const DType dt = x_in.dtype();
  sv->frames = call.empty(with_batch(Shape(x_in.shape().begin() + 1, x_in.shape().end()), t * b), dt);
  sv->states = call.empty(with_batch(state, (t + 1) * b), dt);
  sv->cells = call.empty(with_batch(state, (t + 1) * b), dt);
  if (rec_mask.defined()) {
    sv->rec_mask = rec_mask.contiguous();
    sv->rec_in = call.empty(with_batch(state, t * b), dt);
  }
  Shape out_shape{b, t};
  out_shape.insert(out_shape.end(), state.begin() + 1, state.end());
  Tensor outputs = call.empty(out_shape, dt);
  run(*sv, x_in.contiguous(), kernel.contiguous(), recurrent_kernel.contiguous(),
      bias.defined() ? bias.contiguous() : Tensor(), h0.defined() ? h0.contiguous() : Tensor(),
      c0.defined() ? c0.contiguous() : Tensor(), mask, outputs);
  return {outputs, frames_copy(sv->states, t * b, b), frames_copy(sv->cells, t * b, b), sv};
}

ConvLstmGradTuple conv_lstm_backward(const std::shared_ptr<ConvLstmSaved>& saved, const Tensor& kernel,
                                     const Tensor& recurrent_kernel, const OptionalTensor& grad_outputs,
                                     const OptionalTensor& grad_h, const OptionalTensor& grad_c, bool need_x) {
  const char* op = "conv_lstm_backward";
  KCORE_CHECK(saved != nullptr, op << ": no saved forward state");
  const ConvLstmSaved& sv = *saved;
  OpCall call(op, sv.frames, kernel, recurrent_kernel, grad_outputs, grad_h, grad_c);
  auto run = KCORE_KERNEL(call, conv_lstm_backward);
  const int64_t b = sv.batch, t = sv.steps;
  const Shape state = with_batch(sv.states.shape(), b);
  const DType dt = sv.frames.dtype();
  Shape out_shape{b, t};
  out_shape.insert(out_shape.end(), state.begin() + 1, state.end());
  KCORE_CHECK(!grad_outputs.defined() || grad_outputs.shape() == out_shape,
              op << ": the outputs' gradient must have shape " << shape_str(out_shape) << ", got "
                 << shape_str(grad_outputs.shape()));
  check_state(grad_h, sv.frames, state, op, "gradient of the final h");
  check_state(grad_c, sv.frames, state, op, "gradient of the final c");
  ConvLstmGrads g;
  if (need_x) g.x = call.empty(sv.x_shape, dt);
  g.h0 = call.empty(state, dt);
  g.c0 = call.empty(state, dt);
  run(sv, kernel.contiguous(), recurrent_kernel.contiguous(),
      grad_outputs.defined() ? grad_outputs.contiguous() : Tensor(), grad_h.defined() ? grad_h.contiguous() : Tensor(),
      grad_c.defined() ? grad_c.contiguous() : Tensor(), g);
  return {g.x, g.h0, g.c0, g.kernel, g.recurrent_kernel, g.bias};
}

}  // namespace kcore
