// Stride-1 undilated Conv1D on channels_last data without im2col.
//
// In (length, C) layout the receptive field of output t is k * C consecutive floats of the padded
// input, starting at t * C: the im2col matrix is a window sliding by C over the padded rows, which
// small_gemm reads directly (row stride C, column stride 1):
//   y[t] = xp[t*C : t*C + k*C] @ w (k*C x F)
//   dx   = the same with dy padded by k-1-pad_before and the kernel reversed, channels swapped
//   dw (k*C x F) = sum_t xp[t*C : t*C + k*C]^T dy[t]   (A read transposed: row stride 1, column stride C)
// Each worker takes whole images, pads one image at a time into its own buffer, and keeps its own
// kernel-gradient partial (added in worker order: deterministic for a given thread count).
#include "cpu/conv_rows.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/parallel.h"
#include "cpu/conv_workers.h"
#include "cpu/small_gemm.h"

namespace kcore {

namespace {

constexpr int64_t kMinMacsPerWorker = int64_t(1) << 21;

int workers(const RowsConv& g) {
  if (omp_in_parallel()) return 1;
  const double macs = double(g.n) * g.out_length * g.k * g.c * g.f;
  return (int)std::max<int64_t>(1, std::min<int64_t>({(int64_t)num_threads(), g.n, (int64_t)(macs / kMinMacsPerWorker)}));
}

// Copies `rows` rows of `width` floats into buf after `before` zero rows, zeroing up to `total` rows.
void pad_rows(const float* src, int64_t rows, int64_t width, int64_t before, int64_t total, float* buf) {
  std::memset(buf, 0, before * width * sizeof(float));
  std::memcpy(buf + before * width, src, rows * width * sizeof(float));
  std::memset(buf + (before + rows) * width, 0, (total - before - rows) * width * sizeof(float));
}

}  // namespace

bool rows_conv_applicable(int64_t k, int64_t pad_before, int64_t pad_after) {
  return k > 1 && pad_before <= k - 1 && pad_after <= k - 1;
}

int64_t rows_conv_workspace_bytes(const RowsConv& g) {
  const int64_t padded_x = g.out_length + g.k - 1, padded_dy = g.length + g.k - 1;
  const int64_t backward = workers(g) * (padded_dy * g.f + padded_x * g.c + g.k * g.c * g.f) + g.k * g.c * g.f;
  return backward * int64_t(sizeof(float));  // the forward's padded rows are fewer
}

void rows_conv_forward(const RowsConv& g, const float* x, const float* w, const float* bias, float* y) {
  const int64_t C = g.c, F = g.f, padded = g.out_length + g.k - 1;
  const int threads = workers(g);
  std::vector<float> buffers(threads * padded * C);
  conv_detail::run_split(threads, g.n, [&](int t, int64_t lo, int64_t hi) {
    float* xp = buffers.data() + t * padded * C;
    for (int64_t i = lo; i < hi; ++i) {
      const int64_t valid = std::min(g.length, padded - g.pad_before);  // rows of x the window reaches
      pad_rows(x + i * g.length * C, valid, C, g.pad_before, padded, xp);
      float* yi = y + i * g.out_length * F;
      if (bias)
        for (int64_t r = 0; r < g.out_length; ++r) std::memcpy(yi + r * F, bias, F * sizeof(float));
      small_gemm(g.out_length, F, g.k * C, xp, C, 1, w, F, yi, F, bias != nullptr);
    }
  });
}

void rows_conv_backward(const RowsConv& g, const float* x, const float* w, const float* dy, float* dx, float* dw) {
  const int64_t C = g.c, F = g.f, K = g.k;
  const int64_t padded_x = g.out_length + K - 1;  // the forward's padded input rows
  const int64_t padded_dy = g.length + K - 1;     // dy padded for the input gradient's conv
  const int threads = workers(g);
  std::vector<float> reversed;  // reversed[j][f][c] = w[K-1-j][c][f]
  if (dx) {
    reversed.resize(K * F * C);
    for (int64_t j = 0; j < K; ++j)
      for (int64_t c = 0; c < C; ++c)
        for (int64_t f = 0; f < F; ++f) reversed[(j * F + f) * C + c] = w[((K - 1 - j) * C + c) * F + f];
  }
  const int64_t per_worker = (dx ? padded_dy * F : 0) + (dw ? padded_x * C + K * C * F : 0);
  std::vector<float> buffers(threads * per_worker);  // zeroed: the kernel-gradient partials start at 0
  conv_detail::run_split(threads, g.n, [&](int t, int64_t lo, int64_t hi) {
    float* dyp = buffers.data() + t * per_worker;
    float* xp = dyp + (dx ? padded_dy * F : 0);
    float* part = xp + padded_x * C;
    for (int64_t i = lo; i < hi; ++i) {
      const float* dyi = dy + i * g.out_length * F;
      if (dx) {
        pad_rows(dyi, g.out_length, F, K - 1 - g.pad_before, padded_dy, dyp);
        small_gemm(g.length, C, K * F, dyp, F, 1, reversed.data(), C, dx + i * g.length * C, C, false);
      }
      if (dw) {
        const int64_t valid = std::min(g.length, padded_x - g.pad_before);
        pad_rows(x + i * g.length * C, valid, C, g.pad_before, padded_x, xp);
        small_gemm(K * C, F, g.out_length, xp, 1, C, dyi, F, part, F, true);
      }
    }
  });
  if (!dw) return;
  std::fill(dw, dw + K * C * F, 0.f);
  for (int t = 0; t < threads; ++t) {
    const float* part = buffers.data() + t * per_worker + (dx ? padded_dy * F : 0) + padded_x * C;
    for (int64_t q = 0; q < K * C * F; ++q) dw[q] += part[q];
  }
}

}  // namespace kcore
