// bfloat16 matrix products (see linalg_bf16.h).
#include "cpu/linalg_bf16.h"

#include <vector>

#include "core/bfloat16.h"
#include "cpu/gemm_bf16.h"
#include "ops/arguments.h"

namespace kcore::cpu::bf16_linalg {

namespace {

using arguments::layout_of;
using arguments::MatrixLayout;

const uint16_t* bits(const Tensor& t) {
  return reinterpret_cast<const uint16_t*>(static_cast<const bf16*>(t.storage()->data) + t.offset());
}

// C (m x n, bf16, row-major at c) = round(op(A) @ op(B) [+ bias]) through a float32 product.
void product(int64_t m, int64_t n, int64_t k, const bfgemm::Operand& a, const bfgemm::Operand& b, const bf16* bias,
             bf16* c, std::vector<float>& scratch) {
  scratch.resize(size_t(m * n));
  float* acc = scratch.data();
  if (bias) {
    std::vector<float> bf(n);
    bf16_to_float(bias, bf.data(), n);
    for (int64_t i = 0; i < m; ++i) std::copy(bf.begin(), bf.end(), acc + i * n);
  }
  bfgemm::gemm(m, n, k, a, b, acc, n, bias != nullptr);
  float_to_bf16(acc, c, m * n);
}

}  // namespace

void matmul(const Tensor& a, const Tensor& b, const Shape& batch, Tensor& out) {
  const MatrixLayout la = layout_of(a), lb = layout_of(b);
  const int64_t m = a.dim(-2), k = a.dim(-1), n = b.dim(-1), nb = shape_numel(batch);
  std::vector<float> scratch;
  for (int64_t i = 0; i < nb; ++i)
    product(m, n, k, bfgemm::bf16_operand(bits(a) + arguments::batch_offset(a, batch, i), la.ld, la.trans),
            bfgemm::bf16_operand(bits(b) + arguments::batch_offset(b, batch, i), lb.ld, lb.trans), nullptr,
            out.data<bf16>() + i * m * n, scratch);
}

void linear(const Tensor& x, const Tensor& w, const Tensor& bias, Tensor& out) {
  const int64_t m = x.dim(0), k = w.dim(0), n = w.dim(1);
  const MatrixLayout lw = layout_of(w);
  std::vector<float> scratch;
  product(m, n, k, bfgemm::bf16_operand(bits(x), k), bfgemm::bf16_operand(bits(w), lw.ld, lw.trans),
          bias.defined() ? bias.data<bf16>() : nullptr, out.data<bf16>(), scratch);
}

void linear_backward(const Tensor& x, const Tensor& w, const Tensor& g, Tensor& gw, Tensor& gx) {
  const int64_t m = x.dim(0), k = w.dim(0), n = w.dim(1);
  const MatrixLayout lw = layout_of(w);
  std::vector<float> scratch;
  if (gw.numel() > 0)  // grad_w = x^T @ g, summed over every row in float32
    product(k, n, m, bfgemm::bf16_operand(bits(x), k, true), bfgemm::bf16_operand(bits(g), n), nullptr, gw.data<bf16>(),
            scratch);
  if (gx.defined() && gx.numel() > 0)  // grad_x = g @ w^T
    product(m, k, n, bfgemm::bf16_operand(bits(g), n), bfgemm::bf16_operand(bits(w), lw.ld, !lw.trans), nullptr,
            gx.data<bf16>(), scratch);
}

}  // namespace kcore::cpu::bf16_linalg
