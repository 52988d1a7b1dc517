// Whole-sequence ConvLSTM (Keras ConvLSTM1D/2D/3D): forward over all time steps and backward
// through time, channels_last, built on the engine's convolution (ops/conv.h) and the gate math
// of ops/activation_math.h.
//
// Layouts (F = filters, gate order i, f, c, o as Keras 3):
//   x (B, T, *spatial, C); kernel (*k, C, 4F); recurrent_kernel (*k, F, 4F); bias (4F,);
//   states h, c (B, *out, F) where *out is the input conv's output size.
// The input conv of every step runs as one conv over the T*B frames with `input_args`; each step
// adds the recurrent conv of h_{t-1} with `recurrent_args` (Keras: stride 1, 'same' padding),
// which must map *out onto itself. Options as the dense recurrent kernels (ops/rnn.h): initial
// states, a (B, T) mask (masked steps carry h, c and the output over), go_backwards (outputs in
// processed order), recurrent dropout (a (B, *out, F) mask on h_{t-1} where it enters the conv).
#pragma once
#include <cstdint>
#include <memory>
#include <tuple>
#include <vector>

#include "core/tensor.h"
#include "ops/conv.h"
#include "ops/elementwise.h"
#include "ops/kernel_decl.h"

namespace kcore {

// A gate activation: identity (Keras 'linear') or a UnaryOp without parameters (elu: alpha = 1).
struct ConvLstmActivation {
  bool identity = false;
  UnaryOp op = UnaryOp::tanh;
};

struct ConvLstmConfig {
  ConvLstmActivation activation{false, UnaryOp::tanh};
  ConvLstmActivation recurrent_activation{false, UnaryOp::sigmoid};
  bool go_backwards = false;
  ConvArgs input_args, recurrent_args;
};

// What forward keeps for backward; everything time-major in processed order, stored as frames
// (step s, batch row b) = frame s * B + b.
struct ConvLstmSaved {
  ConvLstmConfig config;
  int64_t batch = 0, steps = 0, pixels = 0, filters = 0;  // pixels: elements of *out
  bool has_bias = false;
  Shape x_shape;              // (B, T, *spatial, C) as given
  Tensor frames;              // (T*B, *spatial, C) the inputs
  Tensor z;                   // (T*B, *out, 4F) gate pre-activations
  Tensor states;              // ((T+1)*B, *out, F) h before step 0, after step 0, ...
  Tensor cells;               // ((T+1)*B, *out, F)
  Tensor rec_mask;            // (B, *out, F) or undefined
  Tensor rec_in;              // (T*B, *out, F) h_{t-1} * rec_mask; undefined without rec_mask
  std::vector<uint8_t> mask;  // (T, B), empty when every step is valid
};

struct ConvLstmGrads {
  Tensor x, h0, c0, kernel, recurrent_kernel, bias;  // x undefined unless asked; bias unless the layer has one
};

// Entry points (ops/conv_lstm.cpp): checks, shapes and outputs, then the device's kernel.
// bias, h0, c0, mask, rec_mask may be None (no bias / zero states / no mask / no dropout).
// Returns (outputs (B, T, *out, F) in processed order, final h, final c, what backward needs).
using ConvLstmResult = std::tuple<Tensor, Tensor, Tensor, std::shared_ptr<ConvLstmSaved>>;
ConvLstmResult conv_lstm_forward(const ConvLstmConfig& cfg, const Tensor& x, const Tensor& kernel,
                                 const Tensor& recurrent_kernel, const OptionalTensor& bias, const OptionalTensor& h0,
                                 const OptionalTensor& c0, const OptionalTensor& mask, const OptionalTensor& rec_mask);

// Gradients from d(outputs), d(final h), d(final c), each possibly None (= zero); returns
// (dx or None unless need_x, dh0, dc0, dkernel, drecurrent_kernel, dbias or None).
using ConvLstmGradTuple =
    std::tuple<OptionalTensor, OptionalTensor, OptionalTensor, OptionalTensor, OptionalTensor, OptionalTensor>;
ConvLstmGradTuple conv_lstm_backward(const std::shared_ptr<ConvLstmSaved>& saved, const Tensor& kernel,
                                     const Tensor& recurrent_kernel, const OptionalTensor& grad_outputs,
                                     const OptionalTensor& grad_h, const OptionalTensor& grad_c, bool need_x);

// Device kernels (CPU only so far: the CUDA slots are null, NotImplementedError on cuda). Forward
// fills saved's mask, frames, z, states, cells (and rec_in) and outputs, all allocated; backward
// fills grads.x (allocated when asked), grads.h0 / c0 (allocated) and sets the weight gradients.
// clang-format off
#define KCORE_CONV_LSTM_KERNELS(X)                                                                           \
  X(void, conv_lstm_forward,                                                                                 \
    (ConvLstmSaved & saved, const Tensor& x, const Tensor& kernel, const Tensor& recurrent_kernel,           \
     const Tensor& bias, const Tensor& h0, const Tensor& c0, const Tensor& mask, Tensor& outputs))           \
  X(void, conv_lstm_backward,                                                                                \
    (const ConvLstmSaved& saved, const Tensor& kernel, const Tensor& recurrent_kernel,                       \
     const Tensor& grad_outputs, const Tensor& grad_h, const Tensor& grad_c, ConvLstmGrads& grads))
// clang-format on
KCORE_DECLARE_KERNELS(KCORE_CONV_LSTM_KERNELS)

}  // namespace kcore
