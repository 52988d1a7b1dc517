// Bindings of the core op families: elementwise, reductions, shape, linalg, losses, random, optimizers.
#include "core/checked.h"
#include "ops/elementwise.h"
#include "ops/linalg.h"
#include "ops/loss.h"
#include "ops/optim.h"
#include "ops/random.h"
#include "ops/reduce.h"
#include "ops/shape.h"
#include "python/bindings.h"

using namespace kcore;
using namespace kcore::python;

KCORE_BINDINGS(elementwise) {
  py::enum_<BinaryOp>(m, "BinaryOp")
      .value("add", BinaryOp::add).value("subtract", BinaryOp::subtract).value("multiply", BinaryOp::multiply)
      .value("divide", BinaryOp::divide).value("power", BinaryOp::power).value("maximum", BinaryOp::maximum)
      .value("minimum", BinaryOp::minimum);
  py::enum_<UnaryOp> u(m, "UnaryOp");
#define KC_VAL(name) u.value(#name, UnaryOp::name);
  KCORE_UNARY_OPS(KC_VAL)
#undef KC_VAL
  KCORE_DEF(m, binary, Kernel());
  KCORE_DEF(m, binary_backward, Kernel());
  KCORE_DEF(m, unary, Kernel());
  KCORE_DEF(m, unary_backward, Kernel());
  KCORE_DEF(m, clip, Kernel());
  KCORE_DEF(m, clip_backward, Kernel());
  KCORE_DEF(m, sum_to_shape, Kernel());
  KCORE_DEF(m, broadcast_to, Kernel());
  KCORE_DEF(m, scale, Kernel());
  KCORE_DEF(m, has_nonfinite, Kernel());
  py::enum_<CompareOp>(m, "CompareOp")
      .value("equal", CompareOp::equal).value("not_equal", CompareOp::not_equal).value("less", CompareOp::less)
      .value("less_equal", CompareOp::less_equal).value("greater", CompareOp::greater)
      .value("greater_equal", CompareOp::greater_equal).value("logical_and", CompareOp::logical_and)
      .value("logical_or", CompareOp::logical_or).value("logical_xor", CompareOp::logical_xor);
  KCORE_DEF(m, compare, Kernel());
  KCORE_DEF(m, where, Kernel());
  m.def("broadcast_shapes", [](const Shape& a, const Shape& b) {
    OpScope scope("broadcast_shapes");
    return broadcast_shapes(a, b, "broadcast");
  });
}

KCORE_BINDINGS(reduce) {
  py::enum_<ReduceOp>(m, "ReduceOp")
      .value("sum", ReduceOp::sum).value("mean", ReduceOp::mean).value("max", ReduceOp::max)
      .value("min", ReduceOp::min);
  KCORE_DEF(m, reduce, Kernel());
  KCORE_DEF(m, reduce_backward, Kernel());
  KCORE_DEF(m, argmax, Kernel());
  KCORE_DEF(m, softmax, Kernel());
  KCORE_DEF(m, softmax_backward, Kernel());
}

KCORE_BINDINGS(shape) {
  KCORE_DEF(m, transpose);
  KCORE_DEF(m, reshape, Kernel());
  KCORE_DEF(m, concatenate, Kernel());
  KCORE_DEF(m, slice);
  KCORE_DEF(m, slice_backward, Kernel());
  KCORE_DEF(m, take_rows, Kernel());
  KCORE_DEF(m, take_rows_backward, Kernel());
}

KCORE_BINDINGS(linalg) {
  KCORE_DEF(m, matmul, HeavyKernel());
  KCORE_DEF(m, matmul_backward, HeavyKernel());
  KCORE_DEF(m, linear, HeavyKernel());
  KCORE_DEF(m, linear_backward, HeavyKernel());
  KCORE_DEF(m, sum_rows, Kernel());
}

KCORE_BINDINGS(loss) {
  KCORE_DEF(m, softmax_cross_entropy, Kernel());
  KCORE_DEF(m, softmax_cross_entropy_backward, Kernel());
  KCORE_DEF(m, sparse_softmax_cross_entropy, Kernel());
  KCORE_DEF(m, sparse_softmax_cross_entropy_backward, Kernel());
  KCORE_DEF(m, sigmoid_cross_entropy, Kernel());
  KCORE_DEF(m, sigmoid_cross_entropy_backward, Kernel());
  py::enum_<ErrorKind>(m, "ErrorKind").value("squared", ErrorKind::squared).value("absolute", ErrorKind::absolute);
  KCORE_DEF(m, mean_error, Kernel());
  KCORE_DEF(m, mean_error_backward, Kernel());
}

KCORE_BINDINGS(random) {
  KCORE_DEF(m, dropout_mask, Kernel());
  KCORE_DEF(m, random_uniform, Kernel());
}

KCORE_BINDINGS(optim) {
  KCORE_DEF(m, sgd_update, Kernel());
  KCORE_DEF(m, adam_update, Kernel());
  KCORE_DEF(m, rmsprop_update, Kernel());
  KCORE_DEF(m, adagrad_update, Kernel());
  KCORE_DEF(m, adadelta_update, Kernel());
  KCORE_DEF(m, nadam_update, Kernel());
  KCORE_DEF(m, adamax_update, Kernel());
}
