// bfloat16 convolution: im2col (in bfloat16, half the bytes of float32) and the bfloat16 GEMM with
// float32 accumulation (see conv_bf16.h). 3x3 stride-1 convs that float32 Winograd F(4x4, 3x3) takes run
// it straight on the bfloat16 tensors (conv_fast.h: widened and rounded inside its transforms, no
// float32 copies); the other convs float32 Winograd takes (F(2x2), the Conv1D F(4, 5)) run it on
// float32 copies. Forward + backward, python -m kcore.bench.bf16 --threads 2 (minima of 15 rounds,
// four runs at load 1.1-3.5): Conv2D b32 28x28 32->64 3.53 ms on float32 copies -> 2.39-2.58 ms (with
// conv_winograd4.cpp's padded planes; PyTorch autocast 3.25-3.46); b8 56x56 64->64 7.07 -> 4.17-4.47 ms
// (6.49-7.12). Output rows are processed in chunks that fit the L2 cache, each OpenMP thread running whole
// chunks with the kernel packed once per call:
//   forward      y  = round(col @ W + b)
//   input grad   dx = round(col2im(dy @ W^T))       (threads own whole images: the scatter never races)
//   kernel grad  dW = round(sum over chunks of col^T @ dy)   (float32 partial per thread)
//   bias grad    db = round(column sums of dy)
#include "cpu/conv_bf16.h"

#include <algorithm>
#include <vector>

#include "core/bfloat16.h"
#include "core/parallel.h"
#include "cpu/conv_fast.h"
#include "cpu/conv_geometry.h"
#include "cpu/conv_im2col.h"
#include "cpu/gemm_bf16.h"

namespace kcore::conv_detail {

namespace {

const uint16_t* bits(const Tensor& t) { return reinterpret_cast<const uint16_t*>(t.data<bf16>()); }
const uint16_t* bits(const bf16* p) { return reinterpret_cast<const uint16_t*>(p); }

// Output rows per chunk: an im2col block of about 96 KiB.
int64_t chunk_rows(int64_t k) { return std::clamp<int64_t>((96 << 10) / std::max<int64_t>(1, 2 * k), 16, 512); }

// Threads for `units` pieces of work: one per ~4M multiply-adds at most (waking a thread costs microseconds).
int team(int64_t units, double macs) {
  if (omp_in_parallel()) return 1;
  const int64_t by_work = int64_t(std::max(1.0, std::min(macs / double(1 << 22), 1e6)));
  return int(std::max<int64_t>(1, std::min<int64_t>({int64_t(num_threads()), units, by_work})));
}

// The single-group convs with work to do that float32 Winograd does not take (it beats this path,
// conversions included; forward + backward, one thread: Conv2D b32 28x28 32->64 3x3 7.7 ms against
// 10.5 ms, Conv1D b32 L128 64->64 k5 (F(4, 5)) 1.54 ms against 1.77 ms); the rest compute in float32.
bool takes(const Geometry& g) { return g.groups == 1 && g.rows() > 0 && g.cols() > 0 && g.f > 0 && !winograd_takes(g); }

Tensor widen(const Tensor& t) { return t.defined() ? t.astype(DType::f32) : t; }
Tensor narrow(const Tensor& t) { return t.defined() ? t.astype(DType::bf16) : t; }

// The gradients of a conv that Winograd F(4x4) takes both ways, on the bfloat16 tensors.
std::tuple<Tensor, Tensor, Tensor> winograd4_backward(const Geometry& g, const Tensor& x, const Tensor& w,
                                                      const Tensor& dy, bool need_x, bool need_kernel, bool need_bias) {
  Tensor gx = need_x ? Tensor::empty(x.shape(), DType::bf16) : Tensor();
  Tensor gw = need_kernel ? Tensor::empty(w.shape(), DType::bf16) : Tensor();
  Tensor gb = need_bias ? Tensor::empty({g.f}, DType::bf16) : Tensor();
  std::vector<float> dkernel(need_kernel ? w.numel() : 0);
  winograd4_bf16_backward(g, x.data<bf16>(), w.data<bf16>(), dy.data<bf16>(), need_x ? gx.data<bf16>() : nullptr,
                          need_kernel ? dkernel.data() : nullptr);
  if (need_kernel) float_to_bf16(dkernel.data(), gw.data<bf16>(), w.numel());
  if (need_bias) bias_gradient(dy.data<bf16>(), g.rows(), g.f, gb.data<bf16>());
  return {gx, gw, gb};
}

}  // namespace

Tensor bf16_forward(const Tensor& x, const Tensor& w, const Tensor& bias, const ConvArgs& args) {
  const Geometry g = make_conv_geometry(x.shape(), w.shape(), args);
  if (!takes(g) && winograd4_bf16_takes(g, false)) {
    Tensor y = Tensor::empty(g.out_shape(), DType::bf16);
    winograd4_bf16_forward(g, x.data<bf16>(), w.data<bf16>(), bias.defined() ? bias.data<bf16>() : nullptr,
                           y.data<bf16>());
    return y;
  }
  if (!takes(g)) return narrow(cpu::conv_forward(widen(x), widen(w), widen(bias), args));
  const int64_t M = g.rows(), K = g.cols(), F = g.f, C = g.c;
  Tensor out = Tensor::empty(g.out_shape(), DType::bf16);
  bfgemm::PackedB pw;
  pw.resize(K, F);
  pw.pack_all(bfgemm::bf16_operand(bits(w), F));
  std::vector<float> b(F, 0.0f);
  if (bias.defined()) bf16_to_float(bias.data<bf16>(), b.data(), F);
  const int64_t step = chunk_rows(K), chunks = (M + step - 1) / step;
  const bf16* xp = x.data<bf16>();
  bf16* y = out.data<bf16>();
#pragma omp parallel num_threads(team(chunks, double(M) * K * F))
  {
    const int t = omp_get_thread_num(), nt = omp_get_num_threads();
    std::vector<bf16> col(g.pointwise() ? 0 : step * K);
    std::vector<float> acc(step * F);
    bfgemm::PackedA pa;
    for (int64_t ch = chunks * t / nt; ch < chunks * (t + 1) / nt; ++ch) {
      const int64_t r0 = ch * step, nr = std::min(step, M - r0);
      if (g.pointwise()) {
        pa.pack(bfgemm::bf16_operand(bits(xp + r0 * C), C), nr, K);
      } else {
        im2col(g, xp, r0, nr, 0, col.data());
        pa.pack(bfgemm::bf16_operand(bits(col.data()), K), nr, K);
      }
      bfgemm::gemm_panels(pw, 0, pw.panels(), pa, acc.data(), F, false);
      for (int64_t r = 0; r < nr; ++r)
        for (int64_t f = 0; f < F; ++f) acc[r * F + f] += b[f];
      float_to_bf16(acc.data(), y + r0 * F, nr * F);
    }
  }
  return out;
}

std::tuple<Tensor, Tensor, Tensor> bf16_backward(const Tensor& x, const Tensor& w, const Tensor& dy_t,
                                                 const ConvArgs& args, bool need_x, bool need_kernel, bool need_bias) {
  const Geometry g = make_conv_geometry(x.shape(), w.shape(), args);
  if (!takes(g) && winograd4_bf16_takes(g, need_x))
    return winograd4_backward(g, x, w, dy_t, need_x, need_kernel, need_bias);
  if (!takes(g)) {
    auto [gx, gw, gb] = cpu::conv_backward(widen(x), widen(w), widen(dy_t), args, need_x, need_kernel, need_bias);
    return {narrow(gx), narrow(gw), narrow(gb)};
  }
  const int64_t M = g.rows(), K = g.cols(), F = g.f, C = g.c;
  const bool by_image = need_x && !g.pointwise();
  const int64_t step = chunk_rows(K), chunks = (M + step - 1) / step;
  const int64_t units = by_image ? g.n : chunks, unit_rows = by_image ? g.out_pixels() : step;
  const int nt = team(units, double(M) * K * F * (int(need_x) + int(need_kernel)));
  Tensor gx = need_x ? Tensor::empty(x.shape(), DType::bf16) : Tensor();
  Tensor gw = need_kernel ? Tensor::empty(w.shape(), DType::bf16) : Tensor();
  Tensor gb = need_bias ? Tensor::empty({F}, DType::bf16) : Tensor();
  bfgemm::PackedB wt;  // W^T (F x K)
  if (need_x) {
    wt.resize(F, K);
    wt.pack_all(bfgemm::bf16_operand(bits(w), F, true));
  }
  std::vector<float> dxf(by_image ? x.numel() : 0), wpart(need_kernel ? nt * K * F : 0);
  std::vector<double> bpart(need_bias ? nt * F : 0);
  const bf16* xp = x.data<bf16>();
  const bf16* dy = dy_t.data<bf16>();
  const int64_t image = g.in_pixels() * C;
#pragma omp parallel num_threads(nt)
  {
    const int t = omp_get_thread_num(), team_size = omp_get_num_threads();
    const int64_t u0 = units * t / team_size, u1 = units * (t + 1) / team_size;
    const int64_t lo = u0 * unit_rows, hi = std::min(M, u1 * unit_rows);
    if (by_image) std::fill(dxf.begin() + u0 * image, dxf.begin() + u1 * image, 0.0f);
    std::vector<bf16> col(g.pointwise() ? 0 : step * K);
    std::vector<float> dcol(need_x ? step * K : 0), dyf(need_bias ? step * F : 0);
    float* wacc = need_kernel ? wpart.data() + t * K * F : nullptr;
    double* bacc = need_bias ? bpart.data() + t * F : nullptr;
    bfgemm::PackedA pa;
    for (int64_t r0 = lo; r0 < hi; r0 += step) {
      const int64_t nr = std::min(step, hi - r0);
      const uint16_t* dyc = bits(dy + r0 * F);
      if (need_kernel) {  // dW += col^T @ dy
        const uint16_t* a = bits(xp + r0 * C);
        if (!g.pointwise()) {
          im2col(g, xp, r0, nr, 0, col.data());
          a = bits(col.data());
        }
        bfgemm::gemm(K, F, nr, bfgemm::bf16_operand(a, g.pointwise() ? C : K, true), bfgemm::bf16_operand(dyc, F), wacc,
                     F, true);
      }
      if (need_x) {  // dcol = dy @ W^T, then scattered back (or, 1x1, the rows of dx)
        pa.pack(bfgemm::bf16_operand(dyc, F), nr, F);
        bfgemm::gemm_panels(wt, 0, wt.panels(), pa, dcol.data(), K, false);
        if (g.pointwise()) float_to_bf16(dcol.data(), gx.data<bf16>() + r0 * C, nr * C);
        else col2im(g, dcol.data(), r0, nr, 0, dxf.data());
      }
      if (need_bias) {
        bf16_to_float(dy + r0 * F, dyf.data(), nr * F);
        for (int64_t r = 0; r < nr; ++r)
          for (int64_t f = 0; f < F; ++f) bacc[f] += dyf[r * F + f];
      }
    }
    if (by_image) float_to_bf16(dxf.data() + u0 * image, gx.data<bf16>() + u0 * image, (u1 - u0) * image);
  }
  if (need_kernel) {
    for (int t = 1; t < nt; ++t)
      for (int64_t i = 0; i < K * F; ++i) wpart[i] += wpart[t * K * F + i];
    float_to_bf16(wpart.data(), gw.data<bf16>(), K * F);
  }
  for (int64_t f = 0; need_bias && f < F; ++f) {
    double sum = 0.0;
    for (int t = 0; t < nt; ++t) sum += bpart[t * F + f];
    gb.data<bf16>()[f] = bf16(sum);
  }
  return {gx, gw, gb};
}

}  // namespace kcore::conv_detail
