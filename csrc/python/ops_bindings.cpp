// Bindings of the core op families: elementwise, reductions, shape, linalg, losses, random, optimizers.
#include "ops/elementwise.h"
#include "ops/linalg.h"
#include "ops/loss.h"
#include "ops/optim.h"
#include "ops/random.h"
#include "ops/reduce.h"
#include "ops/shape.h"
#include "python/bindings.h"

#include <optional>

using namespace kcore;
using namespace kcore::python;

KCORE_BINDINGS(elementwise) {
  py::enum_<BinaryOp>(m, "BinaryOp")
      .value("add", BinaryOp::add).value("subtract", BinaryOp::subtract).value("multiply", BinaryOp::multiply)
      .value("divide", BinaryOp::divide).value("power", BinaryOp::power).value("maximum", BinaryOp::maximum)
      .value("minimum", BinaryOp::minimum);
  py::enum_<UnaryOp> u(m, "UnaryOp");
#define KC_VAL(name) u.value(#name, UnaryOp::name);
  KC_VAL(negative) KC_VAL(exp) KC_VAL(log) KC_VAL(sqrt) KC_VAL(square) KC_VAL(abs) KC_VAL(tanh) KC_VAL(sigmoid)
  KC_VAL(relu) KC_VAL(elu) KC_VAL(selu) KC_VAL(softplus) KC_VAL(softsign) KC_VAL(hard_sigmoid)
  KC_VAL(hard_sigmoid_k2) KC_VAL(gelu) KC_VAL(gelu_tanh) KC_VAL(silu) KC_VAL(leaky_relu) KC_VAL(relu6)
  KC_VAL(log_sigmoid) KC_VAL(reciprocal) KC_VAL(sin) KC_VAL(cos) KC_VAL(sign) KC_VAL(mish)
#undef KC_VAL
  m.def("binary", &binary, Kernel());
  m.def("binary_backward", &binary_backward, Kernel());
  m.def("unary", &unary, Kernel());
  m.def("unary_backward", &unary_backward, Kernel());
  m.def("clip", &clip, Kernel());
  m.def("clip_backward", &clip_backward, Kernel());
  m.def("sum_to_shape", &sum_to_shape, Kernel());
  m.def("broadcast_to", &broadcast_to, Kernel());
  m.def("scale", &scale, Kernel());
  m.def("has_nonfinite", &has_nonfinite, Kernel());
  m.def("broadcast_shapes", [](const Shape& a, const Shape& b) { return broadcast_shapes(a, b, "broadcast"); });
}

KCORE_BINDINGS(reduce) {
  py::enum_<ReduceOp>(m, "ReduceOp")
      .value("sum", ReduceOp::sum).value("mean", ReduceOp::mean).value("max", ReduceOp::max)
      .value("min", ReduceOp::min);
  m.def("reduce", &reduce, Kernel());
  m.def("reduce_backward", &reduce_backward, Kernel());
  m.def("argmax", &argmax, Kernel());
  m.def("softmax", &softmax, Kernel());
  m.def("softmax_backward", &softmax_backward, Kernel());
}

KCORE_BINDINGS(shape) {
  m.def("transpose", &transpose);
  m.def("reshape", &reshape, Kernel());
  m.def("concatenate", &concatenate, Kernel());
  m.def("slice", &slice);
  m.def("slice_backward", &slice_backward, Kernel());
  m.def("take_rows", &take_rows, Kernel());
  m.def("take_rows_backward", &take_rows_backward, Kernel());
}

KCORE_BINDINGS(linalg) {
  m.def("matmul", &matmul, HeavyKernel());
  m.def("matmul_backward", &matmul_backward, HeavyKernel());
  m.def("linear", [](const Tensor& x, const Tensor& w, std::optional<Tensor> b) {
    return linear(x, w, b.value_or(Tensor()));
  }, HeavyKernel());
  m.def("linear_backward", &linear_backward, HeavyKernel());
  m.def("sum_rows", &sum_rows, Kernel());
}

KCORE_BINDINGS(loss) {
  m.def("softmax_cross_entropy", &softmax_cross_entropy, Kernel());
  m.def("softmax_cross_entropy_backward", &softmax_cross_entropy_backward, Kernel());
  m.def("sparse_softmax_cross_entropy", &sparse_softmax_cross_entropy, Kernel());
  m.def("sparse_softmax_cross_entropy_backward", &sparse_softmax_cross_entropy_backward, Kernel());
  m.def("sigmoid_cross_entropy", &sigmoid_cross_entropy, Kernel());
  m.def("sigmoid_cross_entropy_backward", &sigmoid_cross_entropy_backward, Kernel());
  py::enum_<ErrorKind>(m, "ErrorKind").value("squared", ErrorKind::squared).value("absolute", ErrorKind::absolute);
  m.def("mean_error", &mean_error, Kernel());
  m.def("mean_error_backward", &mean_error_backward, Kernel());
}

KCORE_BINDINGS(random) {
  m.def("dropout_mask", [](const Shape& s, double rate, uint64_t seed, const Tensor& like) {
    return dropout_mask(s, rate, seed, like.dtype());
  }, Kernel());
  m.def("random_uniform", [](const Shape& s, double lo, double hi, uint64_t seed, const Tensor& like) {
    return random_uniform(s, lo, hi, seed, like.dtype());
  }, Kernel());
}

KCORE_BINDINGS(optim) {
  m.def("sgd_update", [](Tensor& w, const Tensor& g, std::optional<Tensor> m, double lr, double momentum,
                         bool nesterov) {
    Tensor slot = m.value_or(Tensor());
    sgd_update(w, g, slot, lr, momentum, nesterov);
  }, Kernel());
  m.def("adam_update", [](Tensor& w, const Tensor& g, Tensor& m, Tensor& v, std::optional<Tensor> vhat, double lr,
                          double b1, double b2, double eps, int64_t step) {
    Tensor hat = vhat.value_or(Tensor());
    adam_update(w, g, m, v, hat, lr, b1, b2, eps, step);
  }, Kernel());
  m.def("rmsprop_update", [](Tensor& w, const Tensor& g, Tensor& v, std::optional<Tensor> avg,
                             std::optional<Tensor> mom, double lr, double rho, double momentum, double eps) {
    Tensor a = avg.value_or(Tensor()), mo = mom.value_or(Tensor());
    rmsprop_update(w, g, v, a, mo, lr, rho, momentum, eps);
  }, Kernel());
  m.def("adagrad_update", &adagrad_update, Kernel());
  m.def("adadelta_update", &adadelta_update, Kernel());
  m.def("nadam_update", &nadam_update, Kernel());
  m.def("adamax_update", &adamax_update, Kernel());
}
