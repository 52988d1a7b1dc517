// Direct depthwise convolution (see conv_depthwise.h): one pass over output pixels, each adding
// kernel-tap x input-pixel channel vectors. Forward splits output rows across workers; backward
// gives each worker whole images (so the input-gradient scatter never races) and its own kernel
// and bias partials, added in worker order: deterministic for a given thread count.
#include "cpu/conv_depthwise.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/parallel.h"
#include "cpu/conv_workers.h"

namespace kcore {

namespace {

// A worker pays off with about this many multiply-adds (the direct loops run near memory speed).
constexpr int64_t kMinMacsPerWorker = int64_t(1) << 20;

int64_t out_pixels(const DepthwiseGeometry& g) { return g.out[0] * g.out[1] * g.out[2]; }
int64_t kvol(const DepthwiseGeometry& g) { return g.k[0] * g.k[1] * g.k[2]; }

int workers(const DepthwiseGeometry& g, int64_t units) {
  if (omp_in_parallel()) return 1;
  const int64_t macs = g.n * out_pixels(g) * kvol(g) * g.c * g.m;
  return (int)std::max<int64_t>(1, std::min<int64_t>({(int64_t)num_threads(), units, macs / kMinMacsPerWorker}));
}

// Calls fn(tap, pixel) for every kernel tap of output row r whose input pixel lies inside the
// input (padding taps are skipped); `pixel` counts input pixels from the start of the batch.
template <typename Fn>
void for_each_input(const DepthwiseGeometry& g, int64_t r, Fn&& fn) {
  const int64_t o2 = r % g.out[2], o1 = (r / g.out[2]) % g.out[1], o0 = (r / (g.out[2] * g.out[1])) % g.out[0];
  const int64_t image = r / out_pixels(g);
  for (int64_t a = 0; a < g.k[0]; ++a) {
    const int64_t i0 = o0 * g.s[0] - g.pb[0] + a * g.d[0];
    if (i0 < 0 || i0 >= g.in[0]) continue;
    for (int64_t b = 0; b < g.k[1]; ++b) {
      const int64_t i1 = o1 * g.s[1] - g.pb[1] + b * g.d[1];
      if (i1 < 0 || i1 >= g.in[1]) continue;
      const int64_t line = ((image * g.in[0] + i0) * g.in[1] + i1) * g.in[2];
      for (int64_t e = 0; e < g.k[2]; ++e) {
        const int64_t i2 = o2 * g.s[2] - g.pb[2] + e * g.d[2];
        if (i2 >= 0 && i2 < g.in[2]) fn((a * g.k[1] + b) * g.k[2] + e, line + i2);
      }
    }
  }
}

}  // namespace

template <typename T>
void depthwise_forward(const DepthwiseGeometry& g, const T* x, const T* w, const T* bias, T* y) {
  const int64_t C = g.c, M = g.m, F = C * M, rows = g.n * out_pixels(g);
  conv_detail::run_split(workers(g, rows), rows, [&](int, int64_t lo, int64_t hi) {
    for (int64_t r = lo; r < hi; ++r) {
      T* yr = y + r * F;
      if (bias) std::memcpy(yr, bias, F * sizeof(T));
      else std::memset(yr, 0, F * sizeof(T));
      for_each_input(g, r, [&](int64_t tap, int64_t pixel) {
        const T* xp = x + pixel * C;
        const T* wp = w + tap * F;
        if (M == 1) {
          for (int64_t f = 0; f < F; ++f) yr[f] += xp[f] * wp[f];
        } else {
          for (int64_t c = 0; c < C; ++c)
            for (int64_t m = 0; m < M; ++m) yr[c * M + m] += xp[c] * wp[c * M + m];
        }
      });
    }
  });
}

template <typename T>
void depthwise_backward(const DepthwiseGeometry& g, const T* x, const T* w, const T* dy, T* dx, T* dw, T* db) {
  const int64_t C = g.c, M = g.m, F = C * M, per_image = out_pixels(g), K = kvol(g) * F;
  const int64_t image_size = g.in[0] * g.in[1] * g.in[2] * C;
  const int threads = workers(g, g.n);
  std::vector<T> wpart(dw ? size_t(threads) * K : 0, T(0));
  std::vector<double> bpart(db ? size_t(threads) * F : 0, 0.0);
  conv_detail::run_split(threads, g.n, [&](int t, int64_t lo, int64_t hi) {
    T* wacc = dw ? wpart.data() + t * K : nullptr;
    double* bacc = db ? bpart.data() + t * F : nullptr;
    if (dx) std::memset(dx + lo * image_size, 0, (hi - lo) * image_size * sizeof(T));
    for (int64_t r = lo * per_image; r < hi * per_image; ++r) {
      const T* dyr = dy + r * F;
      if (bacc)
        for (int64_t f = 0; f < F; ++f) bacc[f] += dyr[f];
      if (!dx && !wacc) continue;
      for_each_input(g, r, [&](int64_t tap, int64_t pixel) {
        const T* wp = w + tap * F;
        if (dx) {
          T* dxp = dx + pixel * C;
          if (M == 1) {
            for (int64_t f = 0; f < F; ++f) dxp[f] += dyr[f] * wp[f];
          } else {
            for (int64_t c = 0; c < C; ++c) {
              T sum = 0;
              for (int64_t m = 0; m < M; ++m) sum += dyr[c * M + m] * wp[c * M + m];
              dxp[c] += sum;
            }
          }
        }
        if (wacc) {
          const T* xp = x + pixel * C;
          T* wa = wacc + tap * F;
          if (M == 1) {
            for (int64_t f = 0; f < F; ++f) wa[f] += xp[f] * dyr[f];
          } else {
            for (int64_t c = 0; c < C; ++c)
              for (int64_t m = 0; m < M; ++m) wa[c * M + m] += xp[c] * dyr[c * M + m];
          }
        }
      });
    }
  });
  for (int64_t i = 0; dw && i < K; ++i) {
    T sum = wpart[i];
    for (int t = 1; t < threads; ++t) sum += wpart[t * K + i];
    dw[i] = sum;
  }
  for (int64_t f = 0; db && f < F; ++f) {
    double sum = 0.0;
    for (int t = 0; t < threads; ++t) sum += bpart[t * F + f];
    db[f] = T(sum);
  }
}

template void depthwise_forward<float>(const DepthwiseGeometry&, const float*, const float*, const float*, float*);
template void depthwise_forward<double>(const DepthwiseGeometry&, const double*, const double*, const double*, double*);
template void depthwise_backward<float>(const DepthwiseGeometry&, const float*, const float*, const float*, float*,
                                        float*, float*);
template void depthwise_backward<double>(const DepthwiseGeometry&, const double*, const double*, const double*, double*,
                                         double*, double*);

}  // namespace kcore
