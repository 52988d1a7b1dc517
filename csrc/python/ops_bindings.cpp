// Bindings of the core op families: elementwise, reductions, shape, linalg, losses, random, optimizers.
#include "ops/elementwise.h"
#include "ops/linalg.h"
#include "ops/loss.h"
#include "ops/optim.h"
#include "ops/random.h"
#include "ops/reduce.h"
#include "ops/shape.h"
#include "python/bindings.h"
#include "python/route.h"

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
  KCORE_DEF_ROUTED(m, binary, Kernel());
  KCORE_DEF_ROUTED(m, binary_backward, Kernel());
  KCORE_DEF_ROUTED(m, unary, Kernel());
  KCORE_DEF_ROUTED(m, unary_backward, Kernel());
  KCORE_DEF_ROUTED(m, clip, Kernel());
  KCORE_DEF_ROUTED(m, clip_backward, Kernel());
  KCORE_DEF_ROUTED(m, sum_to_shape, Kernel());
  KCORE_DEF_ROUTED(m, broadcast_to, Kernel());
  KCORE_DEF_ROUTED(m, scale, Kernel());
  KCORE_DEF_ROUTED(m, has_nonfinite, Kernel());
  py::enum_<CompareOp>(m, "CompareOp")
      .value("equal", CompareOp::equal).value("not_equal", CompareOp::not_equal).value("less", CompareOp::less)
      .value("less_equal", CompareOp::less_equal).value("greater", CompareOp::greater)
      .value("greater_equal", CompareOp::greater_equal).value("logical_and", CompareOp::logical_and)
      .value("logical_or", CompareOp::logical_or).value("logical_xor", CompareOp::logical_xor);
  KCORE_DEF_ROUTED(m, compare, Kernel());
  KCORE_DEF_ROUTED(m, where, Kernel());
  m.def("broadcast_shapes", [](const Shape& a, const Shape& b) {
    OpScope scope("broadcast_shapes");
    return broadcast_shapes(a, b, "broadcast");
  });
}

KCORE_BINDINGS(reduce) {
  py::enum_<ReduceOp>(m, "ReduceOp")
      .value("sum", ReduceOp::sum).value("mean", ReduceOp::mean).value("max", ReduceOp::max)
      .value("min", ReduceOp::min);
  KCORE_DEF_ROUTED(m, reduce, Kernel());
  KCORE_DEF_ROUTED(m, reduce_backward, Kernel());
  KCORE_DEF_ROUTED(m, argmax, Kernel());
  KCORE_DEF_ROUTED(m, softmax, Kernel());
  KCORE_DEF_ROUTED(m, softmax_backward, Kernel());
}

KCORE_BINDINGS(shape) {
  m.def("transpose", named("transpose", &transpose));
  m.def("reshape", named("reshape", &reshape), Kernel());
  KCORE_DEF_ROUTED(m, concatenate, Kernel());
  m.def("slice", named("slice", &slice));
  KCORE_DEF_ROUTED(m, slice_backward, Kernel());
  KCORE_DEF_ROUTED(m, take_rows, Kernel());
  KCORE_DEF_ROUTED(m, take_rows_backward, Kernel());
}

KCORE_BINDINGS(linalg) {
  KCORE_DEF_ROUTED(m, matmul, HeavyKernel());
  KCORE_DEF_ROUTED(m, matmul_backward, HeavyKernel());
  m.def("linear", [](const Tensor& x, const Tensor& w, std::optional<Tensor> b) {
    Tensor bias = b.value_or(Tensor());
    return pick("linear", on_cuda("linear", x, w, bias), &linear, &DeviceOps::linear)(x, w, bias);
  }, HeavyKernel());
  KCORE_DEF_ROUTED(m, linear_backward, HeavyKernel());
  KCORE_DEF_ROUTED(m, sum_rows, Kernel());
}

KCORE_BINDINGS(loss) {
  KCORE_DEF_ROUTED(m, softmax_cross_entropy, Kernel());
  KCORE_DEF_ROUTED(m, softmax_cross_entropy_backward, Kernel());
  KCORE_DEF_ROUTED(m, sparse_softmax_cross_entropy, Kernel());
  KCORE_DEF_ROUTED(m, sparse_softmax_cross_entropy_backward, Kernel());
  KCORE_DEF_ROUTED(m, sigmoid_cross_entropy, Kernel());
  KCORE_DEF_ROUTED(m, sigmoid_cross_entropy_backward, Kernel());
  py::enum_<ErrorKind>(m, "ErrorKind").value("squared", ErrorKind::squared).value("absolute", ErrorKind::absolute);
  KCORE_DEF_ROUTED(m, mean_error, Kernel());
  KCORE_DEF_ROUTED(m, mean_error_backward, Kernel());
}

KCORE_BINDINGS(random) {
  m.def("dropout_mask", [](const Shape& s, double rate, uint64_t seed, const Tensor& like) {
    return pick("dropout_mask", on_cuda("dropout_mask", like), &dropout_mask, &DeviceOps::dropout_mask)(
        s, rate, seed, like.dtype());
  }, Kernel());
  m.def("random_uniform", [](const Shape& s, double lo, double hi, uint64_t seed, const Tensor& like) {
    return pick("random_uniform", on_cuda("random_uniform", like), &random_uniform, &DeviceOps::random_uniform)(
        s, lo, hi, seed, like.dtype());
  }, Kernel());
}

KCORE_BINDINGS(optim) {
  m.def("sgd_update", [](Tensor& w, const Tensor& g, std::optional<Tensor> m, double lr, double momentum,
                         bool nesterov) {
    Tensor slot = m.value_or(Tensor());
    pick("sgd_update", on_cuda("sgd_update", w, g, slot), &sgd_update, &DeviceOps::sgd_update)(
        w, g, slot, lr, momentum, nesterov);
  }, Kernel());
  m.def("adam_update", [](Tensor& w, const Tensor& g, Tensor& m, Tensor& v, std::optional<Tensor> vhat, double lr,
                          double b1, double b2, double eps, int64_t step) {
    Tensor hat = vhat.value_or(Tensor());
    pick("adam_update", on_cuda("adam_update", w, g, m, v, hat), &adam_update, &DeviceOps::adam_update)(
        w, g, m, v, hat, lr, b1, b2, eps, step);
  }, Kernel());
  m.def("rmsprop_update", [](Tensor& w, const Tensor& g, Tensor& v, std::optional<Tensor> avg,
                             std::optional<Tensor> mom, double lr, double rho, double momentum, double eps) {
    Tensor a = avg.value_or(Tensor()), mo = mom.value_or(Tensor());
    pick("rmsprop_update", on_cuda("rmsprop_update", w, g, v, a, mo), &rmsprop_update,
         &DeviceOps::rmsprop_update)(w, g, v, a, mo, lr, rho, momentum, eps);
  }, Kernel());
  KCORE_DEF_ROUTED(m, adagrad_update, Kernel());
  KCORE_DEF_ROUTED(m, adadelta_update, Kernel());
  KCORE_DEF_ROUTED(m, nadam_update, Kernel());
  KCORE_DEF_ROUTED(m, adamax_update, Kernel());
}
