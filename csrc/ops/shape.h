// Shape ops: views where strides allow (transpose, slice), copies otherwise.
#pragma once
#include <vector>

#include "core/tensor.h"
#include "ops/kernel_decl.h"

namespace kcore {

Tensor transpose(const Tensor& x, const Shape& perm);  // a strided view
Tensor reshape(const Tensor& x, Shape shape);          // one -1 allowed
Tensor concatenate(const std::vector<Tensor>& xs, int64_t axis);
// Basic slicing x[start:stop:step] on every axis (steps > 0); a strided view.
Tensor slice(const Tensor& x, const Shape& start, const Shape& stop, const Shape& step);
Tensor slice_backward(const Tensor& grad, const Shape& in_shape, const Shape& start, const Shape& step);
// Rows of x (first axis) picked by integer indices, and the scatter-add that undoes it.
Tensor take_rows(const Tensor& x, const Tensor& indices);
Tensor take_rows_backward(const Tensor& grad, const Tensor& indices, int64_t num_rows);

// Device kernels (ops/shape.cpp validates and allocates; never called with an empty output;
// slice_backward needs none: it is a strided copy into zeros). concatenate gets the inputs as
// given (any strides) and out packed; take_rows / take_rows_backward get packed operands, check
// that every index is in range (data-dependent) and raise ValueError otherwise; the backward
// adds into `out`, zero-filled.
// clang-format off
#define KCORE_SHAPE_KERNELS(X)                                                                             \
  X(void, concatenate, (const std::vector<Tensor>& xs, int64_t axis, Tensor& out))                         \
  X(void, take_rows, (const Tensor& x, const Tensor& indices, Tensor& out))                                \
  X(void, take_rows_backward, (const Tensor& grad, const Tensor& indices, Tensor& out))
// clang-format on
KCORE_DECLARE_KERNELS(KCORE_SHAPE_KERNELS)

}  // namespace kcore
