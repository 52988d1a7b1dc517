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

// Device kernels, routed whole (ops/linalg.cpp routes).
#define KCORE_LINALG_KERNELS(X)                                                                            \
  X(Tensor, matmul, (const Tensor& a, const Tensor& b))                                                    \
  X(TensorPair, matmul_backward, (const Tensor& a, const Tensor& b, const Tensor& grad, bool need_a, bool need_b)) \
  X(Tensor, linear, (const Tensor& x, const Tensor& w, const Tensor& bias))                                \
  X(TensorTriple, linear_backward,                                                                         \
    (const Tensor& x, const Tensor& w, const Tensor& grad, bool need_x, bool need_bias))                   \
  X(Tensor, sum_rows, (const Tensor& x2d))
KCORE_DECLARE_KERNELS(KCORE_LINALG_KERNELS)

}  // namespace kcore
