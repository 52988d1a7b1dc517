// Column sums through cuBLAS (a ones row times the matrix): the bias gradients of conv.cu and
// rnn.cu, one GEMM instead of one thread per column.
#include "cuda/common.cuh"
#include "cuda/gemm.h"
#include "cuda/table.h"

namespace kcore::cuda {

Tensor column_sums(const Tensor& m, int64_t rows, int64_t cols) {
  Tensor out = empty({cols}, m.dtype());
  if (cols == 0) return out;
  if (rows == 0) {
    fill(out, 0.0);
    return out;
  }
  Tensor ones = empty({rows}, m.dtype());
  fill(ones, 1.0);
  dispatch_float(m.dtype(), "column sums", [&](auto tag) {
    using T = decltype(tag);
    gemm_rows<T>(false, false, 1, cols, rows, ptr<T>(ones), rows, ptr<T>(m), cols, T(0), ptr<T>(out), cols);
  });
  return out;
}

}  // namespace kcore::cuda
