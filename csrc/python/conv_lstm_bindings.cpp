// Bindings of the whole-sequence ConvLSTM kernels (ops/conv_lstm.h). CPU only: tensors on cuda
// raise NotImplementedError naming the op.
#include <optional>
#include <string>

#include "ops/conv_lstm.h"
#include "python/bindings.h"
#include "python/route.h"

using namespace kcore;
using namespace kcore::python;

namespace {

using Ints = std::vector<int64_t>;

Tensor or_undefined(const std::optional<Tensor>& t) { return t ? *t : Tensor(); }

py::object or_none(const Tensor& t) { return t.defined() ? py::cast(t) : py::none(); }

ConvLstmActivation gate_activation(const std::optional<UnaryOp>& op) {
  return op ? ConvLstmActivation{false, *op} : ConvLstmActivation{true, UnaryOp::tanh};
}

template <typename... A>
void require_cpu(const char* op, const A&... tensors) {
  if (on_cuda(op, tensors...)) throw NotImplementedError(std::string(op) + " is not implemented on cuda yet");
}

}  // namespace

KCORE_BINDINGS(conv_lstm) {
  py::class_<ConvLstmSaved, std::shared_ptr<ConvLstmSaved>>(m, "ConvLstmSaved")
      .def_property_readonly("steps", [](const ConvLstmSaved& s) { return s.steps; });

  m.def("conv_lstm_forward",
        [](const Tensor& x, const Tensor& kernel, const Tensor& recurrent_kernel, const std::optional<Tensor>& bias,
           const std::optional<Tensor>& h0, const std::optional<Tensor>& c0, const std::optional<Tensor>& mask,
           const std::optional<Tensor>& rec_mask, const std::optional<UnaryOp>& activation,
           const std::optional<UnaryOp>& recurrent_activation, bool go_backwards, const Ints& strides,
           const Ints& dilation, const Ints& pad_before, const Ints& pad_after, const Ints& rec_pad_before,
           const Ints& rec_pad_after) {
          const Ints ones(strides.size(), 1);
          ConvLstmConfig cfg{gate_activation(activation), gate_activation(recurrent_activation), go_backwards,
                             ConvArgs{strides, dilation, pad_before, pad_after, 1},
                             ConvArgs{ones, ones, rec_pad_before, rec_pad_after, 1}};
          Tensor b = or_undefined(bias), h = or_undefined(h0), c = or_undefined(c0), mk = or_undefined(mask);
          Tensor rm = or_undefined(rec_mask);
          require_cpu("conv_lstm_forward", x, kernel, recurrent_kernel, b, h, c, mk, rm);
          ConvLstmForward r;
          {
            DenormalGuard guard;
            py::gil_scoped_release nogil;
            r = run_as("conv_lstm_forward", &conv_lstm_forward, cfg, x, kernel, recurrent_kernel, b, h, c, mk, rm);
          }
          return py::make_tuple(r.outputs, r.h, r.c, r.saved);
        },
        py::arg("x"), py::arg("kernel"), py::arg("recurrent_kernel"), py::arg("bias").none(true),
        py::arg("h0").none(true), py::arg("c0").none(true), py::arg("mask").none(true),
        py::arg("recurrent_dropout_mask").none(true), py::arg("activation").none(true),
        py::arg("recurrent_activation").none(true), py::arg("go_backwards"), py::arg("strides"),
        py::arg("dilation"), py::arg("pad_before"), py::arg("pad_after"), py::arg("recurrent_pad_before"),
        py::arg("recurrent_pad_after"),
        "Whole-sequence ConvLSTM forward (channels_last; activation None = linear): returns (outputs (B, T, "
        "*out, F), final h, final c, saved).");

  m.def("conv_lstm_backward",
        [](const std::shared_ptr<ConvLstmSaved>& saved, const Tensor& kernel, const Tensor& recurrent_kernel,
           const std::optional<Tensor>& grad_outputs, const std::optional<Tensor>& grad_h,
           const std::optional<Tensor>& grad_c, bool need_x) {
          Tensor go = or_undefined(grad_outputs), gh = or_undefined(grad_h), gc = or_undefined(grad_c);
          require_cpu("conv_lstm_backward", kernel, recurrent_kernel, go, gh, gc);
          ConvLstmGrads g;
          {
            DenormalGuard guard;
            py::gil_scoped_release nogil;
            g = run_as("conv_lstm_backward", &conv_lstm_backward, *saved, kernel, recurrent_kernel, go, gh, gc,
                       need_x);
          }
          return py::make_tuple(or_none(g.x), g.h0, g.c0, g.kernel, g.recurrent_kernel, or_none(g.bias));
        },
        py::arg("saved"), py::arg("kernel"), py::arg("recurrent_kernel"), py::arg("grad_outputs").none(true),
        py::arg("grad_h").none(true), py::arg("grad_c").none(true), py::arg("need_x") = true,
        "Backward through time: returns (dx or None, dh0, dc0, dkernel, drecurrent_kernel, dbias or None).");
}
