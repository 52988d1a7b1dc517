// Bindings of the recurrent kernels: whole-sequence forward and backward for SimpleRNN/LSTM/GRU.
#include "cpu/gemm_packed.h"
#include "ops/rnn.h"
#include "python/bindings.h"

using namespace kcore;
using namespace kcore::python;

namespace {

// Testing entry point of the packed GEMMs the recurrent kernels use: op(a) @ op(b) written into
// (or, with `onto`, added to) a copy of `onto` / zeros. Columns [c0, c1) only through the
// per-panel kernel the time steps use (gemm_columns); the whole product through the blocked,
// threaded packed::gemm when c0 = 0 and c1 = -1.
Tensor packed_matmul(const Tensor& a_in, const Tensor& b_in, bool trans_a, bool trans_b, const OptionalTensor& onto,
                     int64_t c0, int64_t c1) {
  const char* op = "packed_matmul";
  KCORE_CHECK(a_in.dtype() == DType::f32 && b_in.dtype() == DType::f32 && a_in.ndim() == 2 && b_in.ndim() == 2 &&
                  a_in.device() == Device::cpu && b_in.device() == Device::cpu,
              op << ": a and b must be 2-D float32 CPU tensors, got " << shape_str(a_in.shape()) << " and "
                 << shape_str(b_in.shape()));
  const int64_t m = a_in.dim(trans_a ? 1 : 0), k = a_in.dim(trans_a ? 0 : 1), n = b_in.dim(trans_b ? 0 : 1);
  KCORE_CHECK(b_in.dim(trans_b ? 1 : 0) == k, op << ": inner dimensions differ: a " << shape_str(a_in.shape())
                                                 << (trans_a ? " (transposed)" : "") << ", b "
                                                 << shape_str(b_in.shape()) << (trans_b ? " (transposed)" : ""));
  const bool whole = c0 == 0 && c1 < 0;
  if (c1 < 0) c1 = n;
  KCORE_CHECK(0 <= c0 && c0 <= c1 && c1 <= n,
              op << ": column range [" << c0 << ", " << c1 << ") is outside [0, " << n << ")");
  KCORE_CHECK(whole || !trans_a, op << ": a column range needs trans_a = False");
  Tensor c = onto.defined() ? onto.contiguous().clone() : Tensor::zeros({m, n}, DType::f32);
  KCORE_CHECK(c.shape() == Shape({m, n}) && c.dtype() == DType::f32,
              op << ": onto must be float32 of shape " << shape_str({m, n}) << ", got " << shape_str(c.shape()));
  Tensor a = a_in.contiguous(), b = b_in.contiguous();
  if (whole) {
    packed::gemm(trans_a, trans_b, m, n, k, a.data<float>(), a.dim(1), b.data<float>(), b.dim(1), c.data<float>(), n,
                 onto.defined());
    return c;
  }
  packed::PackedMatrix pb(k, n);
  pb.pack_all(b.data<float>(), b.dim(1), trans_b);
  packed::gemm_columns(pb, c0, c1, m, a.data<float>(), k, c.data<float>(), n, onto.defined());
  return c;
}

}  // namespace

KCORE_BINDINGS(rnn) {
  py::enum_<RnnCell>(m, "RnnCell")
      .value("simple", RnnCell::simple)
      .value("lstm", RnnCell::lstm)
      .value("gru", RnnCell::gru);
  KCORE_BIND_ENUM(m, RnnActivation, "RnnActivation", KCORE_RNN_ACTIVATIONS);
  m.def("packed_matmul", &packed_matmul, py::arg("a"), py::arg("b"), py::arg("trans_a") = false,
        py::arg("trans_b") = false, py::arg("onto") = py::none(), py::arg("c0") = 0, py::arg("c1") = -1,
        "Testing entry point of the recurrent kernels' packed float32 GEMM (columns [c0, c1) of a @ op(b)).");
  // Opaque: what the forward pass keeps for the backward pass.
  py::class_<RnnSaved, std::shared_ptr<RnnSaved>>(m, "RnnSaved")
      .def_property_readonly("steps", [](const RnnSaved& s) { return s.steps; })
      .def_property_readonly("units", [](const RnnSaved& s) { return s.units; });

  KCORE_DEF_BF16(m, rnn_forward, Kernel(), py::arg("cell"), py::arg("reset_after"), py::arg("activation"),
                 py::arg("recurrent_activation"), py::arg("go_backwards"), py::arg("x"), py::arg("kernel"),
                 py::arg("recurrent_kernel"), py::arg("bias"), py::arg("h0"), py::arg("c0"), py::arg("mask"),
                 py::arg("recurrent_dropout_mask") = py::none(),
                 "Whole-sequence forward: returns (outputs (B,T,U), final h, final c or None, saved).");
  KCORE_DEF_BF16(m, rnn_backward, Kernel(), py::arg("saved"), py::arg("kernel"), py::arg("recurrent_kernel"),
                 py::arg("grad_outputs"), py::arg("grad_h"), py::arg("grad_c"), py::arg("need_x") = true,
                 "Backward through time: returns (dx or None, dh0, dc0 or None, dkernel, drecurrent_kernel, dbias or "
                 "None).");
}
