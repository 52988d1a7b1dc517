// Reductions over axes, softmax / log_softmax over one axis, and their backward passes.
#pragma once
#include <vector>

#include "core/tensor.h"
#include "ops/kernel_decl.h"

namespace kcore {

enum class ReduceOp : int { sum, mean, max, min };

// Empty `axes` reduces over every axis.
Tensor reduce(ReduceOp op, const Tensor& x, std::vector<int64_t> axes, bool keepdims);
Tensor reduce_backward(ReduceOp op, const Tensor& x, const Tensor& y, const Tensor& grad,
                       std::vector<int64_t> axes, bool keepdims);
Tensor argmax(const Tensor& x, int64_t axis, bool keepdims);

Tensor softmax(const Tensor& x, int64_t axis, bool log);
Tensor softmax_backward(const Tensor& y, const Tensor& grad, int64_t axis, bool log);

// Device kernels, routed whole (ops/reduce.cpp routes).
#define KCORE_REDUCE_KERNELS(X)                                                                            \
  X(Tensor, reduce, (ReduceOp op, const Tensor& x, std::vector<int64_t> axes, bool keepdims))              \
  X(Tensor, reduce_backward,                                                                               \
    (ReduceOp op, const Tensor& x, const Tensor& y, const Tensor& grad, std::vector<int64_t> axes, bool keepdims)) \
  X(Tensor, argmax, (const Tensor& x, int64_t axis, bool keepdims))                                        \
  X(Tensor, softmax, (const Tensor& x, int64_t axis, bool log))                                            \
  X(Tensor, softmax_backward, (const Tensor& y, const Tensor& grad, int64_t axis, bool log))
KCORE_DECLARE_KERNELS(KCORE_REDUCE_KERNELS)

}  // namespace kcore
