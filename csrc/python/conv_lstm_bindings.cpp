// Bindings of the whole-sequence ConvLSTM ops (ops/conv_lstm.h).
#include <optional>

#include "ops/conv_lstm.h"
#include "python/bindings.h"

using namespace kcore;
using namespace kcore::python;

namespace {

using Ints = Shape;  // strides, dilations, paddings: short int lists, held inline like shapes

#define KCORE_CONV_LSTM_OPS(X) X(conv_lstm_forward) X(conv_lstm_backward)

ConvLstmActivation gate_activation(const std::optional<UnaryOp>& op) {
  return op ? ConvLstmActivation{false, *op} : ConvLstmActivation{true, UnaryOp::tanh};
}

ConvLstmConfig make_config(const std::optional<UnaryOp>& activation, const std::optional<UnaryOp>& recurrent_activation,
                           bool go_backwards, const Ints& strides, const Ints& dilation, const Ints& pad_before,
                           const Ints& pad_after, const Ints& rec_pad_before, const Ints& rec_pad_after) {
  const Ints ones(strides.size(), 1);
  return ConvLstmConfig{gate_activation(activation), gate_activation(recurrent_activation), go_backwards,
                        ConvArgs{strides, dilation, pad_before, pad_after, 1},
                        ConvArgs{ones, ones, rec_pad_before, rec_pad_after, 1}};
}

}  // namespace

KCORE_BINDINGS(conv_lstm) {
  py::class_<ConvLstmConfig>(m, "ConvLstmConfig",
                             "Gate activations (None = linear), go_backwards, and the padding of the input conv "
                             "(strides, dilation, pad_before, pad_after) and of the recurrent 'same' conv.")
      .def(py::init(&make_config), py::arg("activation").none(true), py::arg("recurrent_activation").none(true),
           py::arg("go_backwards"), py::arg("strides"), py::arg("dilation"), py::arg("pad_before"),
           py::arg("pad_after"), py::arg("recurrent_pad_before"), py::arg("recurrent_pad_after"));
  // Opaque: what the forward pass keeps for the backward pass.
  py::class_<ConvLstmSaved, std::shared_ptr<ConvLstmSaved>>(m, "ConvLstmSaved")
      .def_property_readonly("steps", [](const ConvLstmSaved& s) { return s.steps; });
  KCORE_CONV_LSTM_OPS(KCORE_DEF_KERNEL)
}
