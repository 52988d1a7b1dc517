// Internal to the CPU linalg kernels: matmul / linear / linear_backward on bfloat16 operands through
// the bfloat16 GEMM (cpu/gemm_bf16.h): float32 accumulation, each result rounded to bfloat16 once.
// The arguments are those of the matching kernels in ops/linalg.h.
#pragma once
#include "core/tensor.h"

namespace kcore::cpu::bf16_linalg {

void matmul(const Tensor& a, const Tensor& b, const Shape& batch, Tensor& out);
void linear(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& out);
void linear_backward(const Tensor& x, const Tensor& w, const Tensor& g, Tensor& gw, Tensor& gx);

}  // namespace kcore::cpu::bf16_linalg
