// Matrix products through BLAS. Operands may be transposed views: no copy is made for them.
#pragma once
#include <utility>
#include <tuple>

#include "core/tensor.h"
#include "ops/kernel_decl.h"

namespace kcore {

// a (..., M, K) @ b (..., K, N) with NumPy broadcasting of the leading (batch) axes.
Tensor matmul(const Tensor& a, const Tensor& b);
std::pair<Tensor, Tensor> matmul_backward(const Tensor& a, const Tensor& b, const Tensor& grad, bool need_a,
                                          bool need_b);

// x (..., K) @ w (K, N) + bias (N,): the Dense layer's affine map in one GEMM.
Tensor linear(const Tensor& x, const Tensor& w, const OptionalTensor& bias);
// Returns (grad_x, grad_w, grad_bias); grad_x is skipped (undefined) when need_x is false.
std::tuple<Tensor, Tensor, Tensor> linear_backward(const Tensor& x, const Tensor& w, const Tensor& grad, bool need_x,
                                                   bool need_bias);

// Column sums of a (rows, cols) matrix: the bias gradient.
Tensor sum_rows(const Tensor& x2d);

// Device kernels (ops/linalg.cpp validates and allocates; never called with an empty output).
// matmul: a (..., M, K) and b (..., K, N) are GEMM operands (row-major or transposed views,
// arguments::layout_of), their batch axes broadcast to `batch`; out is packed (*batch, M, N).
// linear: x packed (m, K), w a GEMM operand (K, N), bias packed (N,) or undefined.
// linear_backward: x and grad packed; writes gw (K, N) and, when defined, gx like x.
// clang-format off
#define KCORE_LINALG_KERNELS(X)                                                                            \
  X(void, matmul, (const Tensor& a, const Tensor& b, const Shape& batch, Tensor& out))                     \
  X(void, linear, (const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& out))                     \
  X(void, linear_backward, (const Tensor& x, const Tensor& w, const Tensor& grad, Tensor& gw, Tensor& gx))  \
  X(void, sum_rows, (const Tensor& x, int64_t rows, int64_t cols, Tensor& out))
// clang-format on
KCORE_DECLARE_KERNELS(KCORE_LINALG_KERNELS)

}  // namespace kcore
