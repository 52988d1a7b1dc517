// Row-major GEMM through cuBLAS for the other CUDA kernels (conv.cu, rnn.cu), on kStream:
//   C[m, n] = op(A)[m, k] @ op(B)[k, n] + beta * C,   op = transpose when ta / tb.
// Leading dimensions are row strides; full FP32 unless kcore.cuda.set_allow_tf32(True).
#pragma once
#include <cstdint>

#include "core/tensor.h"

namespace kcore::cuda {

template <typename T>
void gemm_rows(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, const T* b, int64_t ldb,
               T beta, T* c, int64_t ldc);

// Sums over the rows of a contiguous (rows, cols) device matrix m: a new (cols,) tensor (gemm.cu).
Tensor column_sums(const Tensor& m, int64_t rows, int64_t cols);

}  // namespace kcore::cuda
