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

// The ops each family binds, one name per op (each is a kcore:: entry point, ops/<family>.h).
// clang-format off
#define KCORE_ELEMENTWISE_OPS(X)                                                                           \
  X(compare) X(where) X(clip) X(clip_backward) X(sum_to_shape) X(broadcast_to) X(scale) X(has_nonfinite)
// Their CPU kernels compute bf16 operands in float (cpu/elementwise.cpp).
#define KCORE_ELEMENTWISE_BF16_OPS(X) X(binary) X(binary_backward) X(unary) X(unary_backward)
// clang-format on
#define KCORE_REDUCE_OPS(X) X(reduce_backward)
// Their CPU kernels compute bf16 operands in float (cpu/reduce.cpp).
#define KCORE_REDUCE_BF16_OPS(X) X(reduce) X(argmax) X(softmax) X(softmax_backward)
// Pure data movement (any element type, bf16 included, moved as bytes) and the rest.
#define KCORE_SHAPE_DATA_OPS(X) X(reshape) X(concatenate) X(slice_backward) X(take_rows)
#define KCORE_SHAPE_OPS(X) X(take_rows_backward)
#define KCORE_LINALG_OPS(X) X(sum_rows)
// With bfloat16 kernels of their own (cpu/linalg_bf16.cpp).
#define KCORE_LINALG_BF16_OPS(X) X(matmul) X(matmul_backward) X(linear) X(linear_backward)
// clang-format off
#define KCORE_LOSS_OPS(X)                                                                                  \
  X(softmax_cross_entropy) X(softmax_cross_entropy_backward) X(sparse_softmax_cross_entropy)                \
  X(sparse_softmax_cross_entropy_backward) X(sigmoid_cross_entropy) X(sigmoid_cross_entropy_backward)       \
  X(mean_error) X(mean_error_backward)
// clang-format on
#define KCORE_RANDOM_OPS(X) X(dropout_mask) X(random_uniform)
// clang-format off
#define KCORE_OPTIM_OPS(X)                                                                                 \
  X(sgd_update) X(adam_update) X(rmsprop_update) X(adagrad_update) X(adadelta_update) X(nadam_update)       \
  X(adamax_update)
// clang-format on

KCORE_BINDINGS(elementwise) {
  KCORE_BIND_ENUM(m, BinaryOp, "BinaryOp", KCORE_BINARY_OPS);
  KCORE_BIND_ENUM(m, UnaryOp, "UnaryOp", KCORE_UNARY_OPS);
  KCORE_BIND_ENUM(m, CompareOp, "CompareOp", KCORE_COMPARE_OPS);
  KCORE_ELEMENTWISE_OPS(KCORE_DEF_KERNEL)
  KCORE_ELEMENTWISE_BF16_OPS(KCORE_DEF_KERNEL_BF16)
  m.def("broadcast_shapes", [](const Shape& a, const Shape& b) {
    OpScope scope("broadcast_shapes");
    return broadcast_shapes(a, b, "broadcast");
  });
}

KCORE_BINDINGS(reduce) {
  py::enum_<ReduceOp>(m, "ReduceOp")
      .value("sum", ReduceOp::sum)
      .value("mean", ReduceOp::mean)
      .value("max", ReduceOp::max)
      .value("min", ReduceOp::min);
  KCORE_REDUCE_OPS(KCORE_DEF_KERNEL)
  KCORE_REDUCE_BF16_OPS(KCORE_DEF_KERNEL_BF16)
}

KCORE_BINDINGS(shape) {
  KCORE_DEF(m, transpose);  // views: nothing to release the GIL for
  KCORE_DEF(m, slice);
  KCORE_SHAPE_DATA_OPS(KCORE_DEF_KERNEL_ANY_DTYPE)
  KCORE_SHAPE_OPS(KCORE_DEF_KERNEL)
}

KCORE_BINDINGS(linalg){KCORE_LINALG_OPS(KCORE_DEF_KERNEL) KCORE_LINALG_BF16_OPS(KCORE_DEF_KERNEL_BF16)}

KCORE_BINDINGS(loss) {
  py::enum_<ErrorKind>(m, "ErrorKind").value("squared", ErrorKind::squared).value("absolute", ErrorKind::absolute);
  KCORE_LOSS_OPS(KCORE_DEF_KERNEL)
}

KCORE_BINDINGS(random){KCORE_RANDOM_OPS(KCORE_DEF_KERNEL)}

KCORE_BINDINGS(optim) {
  KCORE_OPTIM_OPS(KCORE_DEF_KERNEL)
}
