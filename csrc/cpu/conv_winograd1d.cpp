// Winograd F(4, 5) for float32 1-D convs (see conv_winograd1d.h).
//
// Output columns are taken 4 at a time (a tile); a tile reads 8 input columns d0..d7. With the
// transforms of the points 0, 1, -1, 2, -2, 1/2, -1/2 and infinity,
//   V = B^T d (8 values per channel), U = G g (8 values per channel pair, g the 5 taps),
//   M[p] = V[p] @ U[p] (tiles x C times C x F, one small GEMM per point p), y = A^T M (4 outputs),
// so a tile costs 8 C F multiply-adds instead of 20 C F. Tiles are processed in chunks whose V and M
// stay in L2; workers take runs of chunks.
#include "cpu/conv_winograd1d.h"

#include <algorithm>
#include <vector>

#include "core/parallel.h"
#include "cpu/small_gemm.h"
#include "ops/conv.h"

namespace kcore {

namespace {

constexpr int kPoints = 8;
constexpr int64_t kChunk = 48;                         // tiles per chunk
constexpr double kMinMacsPerWorker = double(1 << 21);  // below this a second worker costs more than it saves
constexpr double kG[kPoints][kWinograd1dTaps] = {      // U = G g
                                                 {-1, 0, 0, 0, 0},
                                                 {-2.0 / 9, -2.0 / 9, -2.0 / 9, -2.0 / 9, -2.0 / 9},
                                                 {-2.0 / 9, 2.0 / 9, -2.0 / 9, 2.0 / 9, -2.0 / 9},
                                                 {1.0 / 90, 2.0 / 90, 4.0 / 90, 8.0 / 90, 16.0 / 90},
                                                 {1.0 / 90, -2.0 / 90, 4.0 / 90, -8.0 / 90, 16.0 / 90},
                                                 {32.0 / 45, 16.0 / 45, 8.0 / 45, 4.0 / 45, 2.0 / 45},
                                                 {32.0 / 45, -16.0 / 45, 8.0 / 45, -4.0 / 45, 2.0 / 45},
                                                 {0, 0, 0, 0, 1}};

// V = B^T d for every channel: d[i] points at input column i of the tile (or at zeros), v at the
// tile's row of plane 0 (planes `plane` floats apart).
void input_transform(const float* const* d, int64_t c, float* v, int64_t plane) {
  const float *d0 = d[0], *d1 = d[1], *d2 = d[2], *d3 = d[3], *d4 = d[4], *d5 = d[5], *d6 = d[6], *d7 = d[7];
#pragma GCC ivdep
  for (int64_t q = 0; q < c; ++q) {
    const float a = d2[q] + d6[q] - 4.25f * d4[q], b = d1[q] + d5[q] - 4.25f * d3[q];
    const float e = 0.25f * d2[q] - 1.25f * d4[q] + d6[q], h = 0.5f * d1[q] - 2.5f * d3[q] + 2.0f * d5[q];
    const float k = 4.0f * d2[q] - 5.0f * d4[q] + d6[q], l = 2.0f * d1[q] - 2.5f * d3[q] + 0.5f * d5[q];
    v[q] = (d6[q] - d0[q]) + 5.25f * (d2[q] - d4[q]);
    v[plane + q] = a + b;
    v[2 * plane + q] = a - b;
    v[3 * plane + q] = e + h;
    v[4 * plane + q] = e - h;
    v[5 * plane + q] = k + l;
    v[6 * plane + q] = k - l;
    v[7 * plane + q] = (d7[q] - d1[q]) + 5.25f * (d3[q] - d5[q]);
  }
}

// The `count` (<= 4) outputs of a tile from its row of M (planes `plane` floats apart), plus the bias
// (never null: a null bias in the loop would compile to masked loads from address 0, which fault-suppress
// slowly on some CPUs).
void output_transform(const float* m, int64_t plane, int64_t f, const float* bias, float* y, int64_t count) {
  float* y1 = y + f;
  float* y2 = y + 2 * f;
  float* y3 = y + 3 * f;
#pragma GCC ivdep
  for (int64_t q = 0; q < f; ++q) {
    const float m1 = m[plane + q], m2 = m[2 * plane + q], m3 = m[3 * plane + q], m4 = m[4 * plane + q];
    const float m5 = m[5 * plane + q], m6 = m[6 * plane + q];
    const float s12 = m1 + m2, s34 = m3 + m4, s56 = m5 + m6, t12 = m1 - m2, t34 = m3 - m4, t56 = m5 - m6;
    const float b = bias[q];
    y[q] = b + m[q] + s12 + s34 + s56;
    if (count > 1) y1[q] = b + t12 + 2.0f * t34 + 0.5f * t56;
    if (count > 2) y2[q] = b + s12 + 4.0f * s34 + 0.25f * s56;
    if (count > 3) y3[q] = b + t12 + 8.0f * t34 + 0.125f * t56 + m[7 * plane + q];
  }
}

}  // namespace

bool winograd1d_applicable(int64_t taps, int64_t channels, int64_t filters) {
  return conv_winograd() && small_gemm_fast() && taps == kWinograd1dTaps && channels >= 16 && filters >= 16;
}

void winograd1d_conv5(const float* x, int64_t n, int64_t w, int64_t c, const float* kernel, int64_t f, int64_t pad_left,
                      int64_t ow, const float* bias, float* y) {
  const int64_t cf = c * f, per_image = (ow + 3) / 4, tiles = n * per_image;
  if (tiles == 0) return;
  std::vector<float> u(kPoints * cf);  // U[p] (c x f), in double before rounding
  for (int64_t q = 0; q < cf; ++q)
    for (int p = 0; p < kPoints; ++p) {
      double s = 0;
      for (int t = 0; t < kWinograd1dTaps; ++t) s += kG[p][t] * double(kernel[t * cf + q]);
      u[p * cf + q] = float(s);
    }
  const std::vector<float> zeros(std::max(c, f), 0.0f);  // padding columns, and the bias when there is none
  if (!bias) bias = zeros.data();
  const int64_t chunks = (tiles + kChunk - 1) / kChunk;
  const double macs = double(tiles) * kPoints * double(cf);
  const int threads =
      omp_in_parallel()
          ? 1
          : int(std::max<int64_t>(
                1, std::min<int64_t>({int64_t(num_threads()), chunks, int64_t(macs / kMinMacsPerWorker)})));
#pragma omp parallel num_threads(threads)
  {
    const int tid = omp_get_thread_num(), team = omp_get_num_threads();
    std::vector<float> v(kPoints * kChunk * c), m(kPoints * kChunk * f);
    for (int64_t ch = chunks * tid / team; ch < chunks * (tid + 1) / team; ++ch) {
      const int64_t t0 = ch * kChunk, rows = std::min(kChunk, tiles - t0);
      for (int64_t r = 0; r < rows; ++r) {
        const int64_t img = (t0 + r) / per_image, first = ((t0 + r) % per_image) * 4 - pad_left;
        const float* d[kPoints];
        for (int i = 0; i < kPoints; ++i) {
          const int64_t col = first + i;
          d[i] = col >= 0 && col < w ? x + (img * w + col) * c : zeros.data();
        }
        input_transform(d, c, v.data() + r * c, rows * c);
      }
      for (int p = 0; p < kPoints; ++p)
        small_gemm(rows, f, c, v.data() + p * rows * c, c, 1, u.data() + p * cf, f, m.data() + p * rows * f, f, false);
      for (int64_t r = 0; r < rows; ++r) {
        const int64_t img = (t0 + r) / per_image, o0 = ((t0 + r) % per_image) * 4;
        output_transform(m.data() + r * f, rows * f, f, bias, y + (img * ow + o0) * f, std::min<int64_t>(4, ow - o0));
      }
    }
  }
}

}  // namespace kcore
