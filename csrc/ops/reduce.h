// Reductions over axes, softmax / log_softmax over one axis, and their backward passes.
#pragma once
#include <vector>

#include "core/tensor.h"
#include "ops/kernel_decl.h"

namespace kcore {

enum class ReduceOp : int { sum, mean, max, min };
inline const char* reduce_name(ReduceOp op) {
  static const char* names[] = {"sum", "mean", "max", "min"};
  return names[(int)op];
}

// Empty `axes` reduces over every axis.
Tensor reduce(ReduceOp op, const Tensor& x, Shape axes, bool keepdims);
Tensor reduce_backward(ReduceOp op, const Tensor& x, const Tensor& y, const Tensor& grad, Shape axes, bool keepdims);
Tensor argmax(const Tensor& x, int64_t axis, bool keepdims);

Tensor softmax(const Tensor& x, int64_t axis, bool log);
Tensor softmax_backward(const Tensor& y, const Tensor& grad, int64_t axis, bool log);

// Device kernels (ops/reduce.cpp validates, lays the input out and allocates; never called with
// an empty output). reduce / argmax get x packed as (outer, red) rows, red >= 1; softmax and its
// backward get contiguous tensors viewed as (outer, n, inner) around the axis. extremum_hits marks
// (1 / 0) where x equals its broadcast extremum y, NaN matching NaN (max / min backward).
// clang-format off
#define KCORE_REDUCE_KERNELS(X)                                                                            \
  X(void, reduce, (ReduceOp op, const Tensor& rows, int64_t outer, int64_t red, Tensor& out))              \
  X(void, extremum_hits, (const Tensor& x, const Tensor& y, Tensor& hits))                                 \
  X(void, argmax, (const Tensor& rows, int64_t outer, int64_t red, Tensor& out))                           \
  X(void, softmax, (const Tensor& x, int64_t outer, int64_t n, int64_t inner, bool log, Tensor& out))      \
  X(void, softmax_backward,                                                                                \
    (const Tensor& y, const Tensor& grad, int64_t outer, int64_t n, int64_t inner, bool log, Tensor& out))
// clang-format on
KCORE_DECLARE_KERNELS(KCORE_REDUCE_KERNELS)

}  // namespace kcore
