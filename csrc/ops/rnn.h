// Whole-sequence recurrent layers (SimpleRNN, LSTM, GRU): forward over all time steps and
// backward through time, with Keras 3 weight layouts and gate orders.
//
// Layouts (U = units, D = input features, G = gates: 1 SimpleRNN, 4 LSTM (i,f,c,o), 3 GRU (z,r,h)):
//   x (B, T, D); kernel (D, G*U); recurrent_kernel (U, G*U);
//   bias (G*U,), or (2, 3U) for GRU with reset_after (row 0 input bias, row 1 recurrent bias).
// Options: initial states, a (B, T) mask (masked steps carry state and output over, as Keras),
// go_backwards (time processed in reverse; outputs stay in processed order, as Keras).
#pragma once
#include <cstdint>
#include <memory>
#include <tuple>
#include <vector>

#include "core/tensor.h"
#include "ops/kernel_decl.h"

namespace kcore {

enum class RnnCell : int { simple = 0, lstm = 1, gru = 2 };

// The activations the recurrent kernels apply (their math: ops/activation_math.h). This list is
// the one place they are spelled: the enum below, its Python binding (kcore._C.RnnActivation)
// and the names kcore.ops.rnn / the recurrent layers accept are all generated from it.
// Every entry's slope must be a function of its output (the kernels keep activated values only).
#define KCORE_RNN_ACTIVATIONS(X) X(tanh) X(relu) X(sigmoid) X(linear) X(hard_sigmoid) X(hard_sigmoid_k2)

#define KCORE_RNN_ENUM_ENTRY(name) name,
enum class RnnActivation : int { KCORE_RNN_ACTIVATIONS(KCORE_RNN_ENUM_ENTRY) };
#undef KCORE_RNN_ENUM_ENTRY

struct RnnConfig {
  RnnCell cell = RnnCell::lstm;
  bool reset_after = true;  // GRU only
  RnnActivation activation = RnnActivation::tanh;
  RnnActivation recurrent_activation = RnnActivation::sigmoid;  // gates of LSTM / GRU
  bool go_backwards = false;
};

// Gates per unit: 4 LSTM, 3 GRU, 1 SimpleRNN; and the op's name in messages.
inline int64_t rnn_gate_count(const RnnConfig& c) {
  return c.cell == RnnCell::lstm ? 4 : c.cell == RnnCell::gru ? 3 : 1;
}
inline const char* rnn_op_name(const RnnConfig& c) {
  return c.cell == RnnCell::lstm ? "lstm" : c.cell == RnnCell::gru ? "gru" : "simple_rnn";
}

// What forward keeps for backward. Everything is time-major in processed order.
struct RnnSaved {
  RnnConfig config;
  int64_t batch = 0, steps = 0, input_dim = 0, units = 0;
  bool has_bias = false;
  Tensor x;                   // (T, B, D)
  Tensor states;              // (T+1, B, U): h before step 0, after step 0, ...
  Tensor cells;               // LSTM only: (T+1, B, U)
  Tensor gates;               // (T, B, G*U) activated gates (SimpleRNN: the new h)
  Tensor extra;               // (T, B, U) LSTM: act(c_t); GRU reset_after: h_{t-1}U_h + b_rec_h; GRU else: r * h_{t-1}
  std::vector<uint8_t> mask;  // (T, B), empty when every step is valid
  Tensor rec_mask;            // (B, U) recurrent dropout (scaled 0/1) on h_{t-1} where it enters the recurrent GEMMs
  Tensor rec_in;              // (T, B, U) h_{t-1} * rec_mask of every step; undefined without rec_mask (states used)
  bool bf16 = false;          // the layer's inputs were bfloat16: float32 buffers, GEMMs on bfloat16 operands
};

struct RnnGrads {
  Tensor x, h0, c0, kernel, recurrent_kernel, bias;  // bias undefined when the layer has none
};

// The device kernels: they only compute. The entry points below have validated the arguments,
// made the inputs contiguous and allocated, on the inputs' device, the outputs and every tensor
// of `saved` (x, states, gates, extra, cells, rec_in; rec_mask set); the forward kernel fills
// them and saved.mask (from `mask`, any dtype, (B, T)). The backward kernel fills `grads`,
// whose tensors arrive allocated: weight and bias gradients zero-filled, x (when need_x), h0 and
// c0 (LSTM) uninitialised.
// clang-format off
#define KCORE_RNN_KERNELS(X)                                                                                \
  X(void, rnn_forward,                                                                                      \
    (RnnSaved & saved, const Tensor& x, const Tensor& kernel, const Tensor& recurrent_kernel, const Tensor& bias, \
     const Tensor& h0, const Tensor& c0, const Tensor& mask, Tensor& outputs))                              \
  X(void, rnn_backward,                                                                                     \
    (const RnnSaved& saved, const Tensor& kernel, const Tensor& recurrent_kernel, const Tensor& grad_outputs, \
     const Tensor& grad_h, const Tensor& grad_c, bool need_x, RnnGrads& grads))
// clang-format on
KCORE_DECLARE_KERNELS(KCORE_RNN_KERNELS)

// (outputs (B, T, U) of every processed step, final h, final c (LSTM) or None, what backward needs)
using RnnForwardResult = std::tuple<Tensor, Tensor, OptionalTensor, std::shared_ptr<RnnSaved>>;
// (dx or None when not need_x, dh0, dc0 (LSTM) or None, dkernel, drecurrent_kernel, dbias or None)
using RnnBackwardResult = std::tuple<OptionalTensor, Tensor, OptionalTensor, Tensor, Tensor, OptionalTensor>;

// Whole-sequence forward. bias, h0, c0, mask, recurrent_dropout_mask may be None (no bias / zero
// states / no mask / no recurrent dropout). recurrent_dropout_mask (B, U) multiplies h_{t-1} where
// it enters the recurrent product of every gate (one mask per sequence, as Keras); the carried
// state is not masked.
RnnForwardResult rnn_forward(RnnCell cell, bool reset_after, RnnActivation activation,
                             RnnActivation recurrent_activation, bool go_backwards, const Tensor& x,
                             const Tensor& kernel, const Tensor& recurrent_kernel, const OptionalTensor& bias,
                             const OptionalTensor& h0, const OptionalTensor& c0, const OptionalTensor& mask,
                             const OptionalTensor& recurrent_dropout_mask = OptionalTensor());

// Backward through time from d(outputs), d(final h), d(final c); each may be None (= zero).
// need_x = false skips the input gradient (one GEMM) when the inputs are data.
RnnBackwardResult rnn_backward(const std::shared_ptr<RnnSaved>& saved, const Tensor& kernel,
                               const Tensor& recurrent_kernel, const OptionalTensor& grad_outputs,
                               const OptionalTensor& grad_h, const OptionalTensor& grad_c, bool need_x = true);

}  // namespace kcore
