// Elementwise ops: broadcasting binary arithmetic and unary math, each with its backward.
#pragma once
#include <utility>

#include "core/tensor.h"
#include "ops/kernel_decl.h"

namespace kcore {

enum class BinaryOp : int { add, subtract, multiply, divide, power, maximum, minimum };

// Every unary op, once: the enum, the CPU kernel's dispatch and the Python enum come from this list;
// each op's value and derivative live in ops/activation_math.h. (hard_sigmoid is Keras 3's
// relu6(x + 3) / 6, hard_sigmoid_k2 Keras 2's clip(0.2 x + 0.5, 0, 1).)
// clang-format off
#define KCORE_UNARY_OPS(X)                                                                                  \
  X(negative) X(exp) X(log) X(sqrt) X(square) X(abs) X(tanh) X(sigmoid) X(relu) X(elu) X(selu) X(softplus) \
  X(softsign) X(hard_sigmoid) X(hard_sigmoid_k2) X(gelu) X(gelu_tanh) X(silu) X(leaky_relu) X(relu6)         \
  X(log_sigmoid) X(reciprocal) X(sin) X(cos) X(sign) X(mish)
// clang-format on

enum class UnaryOp : int {
#define KCORE_UNARY_ENUM(name) name,
  KCORE_UNARY_OPS(KCORE_UNARY_ENUM)
#undef KCORE_UNARY_ENUM
};

// Broadcasting comparisons and logical connectives; the result is a bool tensor. Both operands
// share one dtype; the logical ops read any nonzero (or NaN) element as true.
enum class CompareOp : int {
  equal,
  not_equal,
  less,
  less_equal,
  greater,
  greater_equal,
  logical_and,
  logical_or,
  logical_xor,
};

// The Keras names of the ops, for messages.
inline const char* binary_name(BinaryOp op) {
  static const char* names[] = {"add", "subtract", "multiply", "divide", "power", "maximum", "minimum"};
  return names[(int)op];
}
inline const char* compare_name(CompareOp op) {
  static const char* names[] = {"equal",         "not_equal",   "less",       "less_equal", "greater",
                                "greater_equal", "logical_and", "logical_or", "logical_xor"};
  return names[(int)op];
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b);
// Gradients of `op` for each operand, already summed back to that operand's shape.
std::pair<Tensor, Tensor> binary_backward(BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& grad,
                                          bool need_a, bool need_b);

// `alpha` parametrises elu / leaky_relu.
Tensor unary(UnaryOp op, const Tensor& x, double alpha);
Tensor unary_backward(UnaryOp op, const Tensor& x, const Tensor& y, const Tensor& grad, double alpha);

Tensor compare(CompareOp op, const Tensor& a, const Tensor& b);
// cond ? a : b elementwise, all three broadcast together; cond is bool, a and b share a dtype.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);

Tensor clip(const Tensor& x, double lo, double hi);
Tensor clip_backward(const Tensor& x, const Tensor& grad, double lo, double hi);

// Sum of `grad` over the axes that were broadcast to reach its shape from `shape`.
Tensor sum_to_shape(const Tensor& grad, const Shape& shape);
Tensor broadcast_to(const Tensor& x, const Shape& shape);
// Fills in place: x *= s (scalar), used by optimizers and loss scaling.
Tensor scale(const Tensor& x, double s);
// True where any element is NaN or infinite.
bool has_nonfinite(const Tensor& x);

// Device kernels (ops/elementwise.cpp validates, broadcasts shapes and allocates `out`; never
// called with an empty output). Operands may be strided and broadcast against `out`'s shape,
// except unary / clip / scale / their backwards and has_nonfinite, which get contiguous operands.
// binary_backward writes each wanted gradient at the broadcast shape (ga / gb undefined: not wanted).
// clang-format off
#define KCORE_ELEMENTWISE_KERNELS(X)                                                                       \
  X(void, binary, (BinaryOp op, const Tensor& a, const Tensor& b, Tensor& out))                            \
  X(void, binary_backward,                                                                                 \
    (BinaryOp op, const Tensor& a, const Tensor& b, const Tensor& grad, Tensor& ga, Tensor& gb))           \
  X(void, unary, (UnaryOp op, const Tensor& x, double alpha, Tensor& out))                                 \
  X(void, unary_backward, (UnaryOp op, const Tensor& x, const Tensor& y, const Tensor& grad, double alpha, Tensor& out)) \
  X(void, compare, (CompareOp op, const Tensor& a, const Tensor& b, Tensor& out))                          \
  X(void, where, (const Tensor& cond, const Tensor& a, const Tensor& b, Tensor& out))                      \
  X(void, clip, (const Tensor& x, double lo, double hi, Tensor& out))                                      \
  X(void, clip_backward, (const Tensor& x, const Tensor& grad, double lo, double hi, Tensor& out))         \
  X(void, broadcast_to, (const Tensor& x, Tensor& out))                                                    \
  X(void, scale, (const Tensor& x, double s, Tensor& out))                                                 \
  X(bool, has_nonfinite, (const Tensor& x))
// clang-format on
KCORE_DECLARE_KERNELS(KCORE_ELEMENTWISE_KERNELS)

}  // namespace kcore
