// Unit-stride, undilated 1-D and 2-D convs on channels_last data without im2col.
//
// In (w, C) layout the kw taps of kernel row a at output column ox read kw * C consecutive floats of
// the input row (padded left and right), starting at ox * C: the im2col block of one output row and
// one kernel row is a window sliding by C along the padded input row, which small_gemm reads directly
// (row stride C, column stride 1). Over the kernel rows a (input rows oy - pad_top + a, skipped when
// they fall in the top/bottom padding):
//   y[oy] = sum_a  xp[oy - pt + a][ox*C : ox*C + kw*C] @ w[a] (kw*C x F)
//   dx    = the same conv of dy, padded by k-1-pad, with the kernel rotated and its channel axes swapped
//   dw[a] = sum_oy xp[oy - pt + a]-window^T @ dy[oy]   (A read transposed: row stride 1, column stride C)
// Workers take runs of output rows; each pads the images it touches into its own buffer and keeps its
// own kernel-gradient partial (added in worker order: deterministic for a given thread count).
#include "cpu/conv_rows.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/parallel.h"
#include "cpu/conv_winograd1d.h"
#include "cpu/conv_workers.h"
#include "cpu/small_gemm.h"

namespace kcore {

namespace {

constexpr int64_t kMinMacsPerWorker = int64_t(1) << 21;

int workers(const RowsConv& g) {
  if (omp_in_parallel()) return 1;
  const double macs = double(g.n) * g.oh * g.ow * g.kh * g.kw * g.c * g.f;
  return (int)std::max<int64_t>(
      1, std::min<int64_t>({(int64_t)num_threads(), g.n * g.oh, (int64_t)(macs / kMinMacsPerWorker)}));
}

int64_t padded_width(const RowsConv& g) { return g.ow + g.kw - 1; }

// Image i of x with its rows padded to padded_width: pad_left zero columns, then the columns the
// windows reach, then zeros.
void pad_image(const RowsConv& g, const float* x, int64_t i, float* xp) {
  const int64_t C = g.c, wp = padded_width(g), valid = std::min(g.w, wp - g.pad_left);
  for (int64_t iy = 0; iy < g.h; ++iy) {
    float* row = xp + iy * wp * C;
    std::memset(row, 0, g.pad_left * C * sizeof(float));
    std::memcpy(row + g.pad_left * C, x + (i * g.h + iy) * g.w * C, valid * C * sizeof(float));
    std::memset(row + (g.pad_left + valid) * C, 0, (wp - g.pad_left - valid) * C * sizeof(float));
  }
}

// Calls fn(a, padded input row) for each kernel row a whose input row of output row oy is inside x.
template <typename Fn> void for_each_kernel_row(const RowsConv& g, int64_t oy, const float* xp, Fn&& fn) {
  for (int64_t a = 0; a < g.kh; ++a) {
    const int64_t iy = oy - g.pad_top + a;
    if (iy >= 0 && iy < g.h) fn(a, xp + iy * padded_width(g) * g.c);
  }
}

// Runs fn(worker, image, padded image, output row oy) over the output rows, split across workers.
template <typename Fn>
void over_output_rows(const RowsConv& g, int threads, float* buffers, int64_t per_worker, const float* x, Fn&& fn) {
  conv_detail::run_split(threads, g.n * g.oh, [&](int t, int64_t lo, int64_t hi) {
    float* xp = buffers + t * per_worker;
    int64_t padded = -1;  // the image now in xp
    for (int64_t r = lo; r < hi; ++r) {
      const int64_t i = r / g.oh;
      if (i != padded) {
        pad_image(g, x, i, xp);
        padded = i;
      }
      fn(t, i, xp, r % g.oh);
    }
  });
}

}  // namespace

bool rows_conv_applicable(const RowsConv& g, int64_t pad_bottom, int64_t pad_right) {
  return g.kh * g.kw > 1 && g.pad_top <= g.kh - 1 && pad_bottom <= g.kh - 1 && g.pad_left <= g.kw - 1 &&
         pad_right <= g.kw - 1;
}

int64_t rows_conv_workspace_bytes(const RowsConv& g) {
  const int64_t kernel = g.kh * g.kw * g.c * g.f;
  const int64_t image = g.h * padded_width(g) * g.c, dy_image = g.oh * (g.w + g.kw - 1) * g.f;
  return (workers(g) * (std::max(image, dy_image) + kernel) + kernel) * int64_t(sizeof(float));
}

void rows_conv_forward(const RowsConv& g, const float* x, const float* w, const float* bias, float* y) {
  if (g.h == 1 && g.kh == 1 && winograd1d_applicable(g.kw, g.c, g.f))  // Conv1D, 5 taps: F(4, 5)
    return winograd1d_conv5(x, g.n, g.w, g.c, w, g.f, g.pad_left, g.ow, bias, y);
  const int64_t C = g.c, F = g.f, per_worker = g.h * padded_width(g) * C;
  const int threads = workers(g);
  std::vector<float> buffers(threads * per_worker);
  over_output_rows(g, threads, buffers.data(), per_worker, x, [&](int, int64_t i, const float* xp, int64_t oy) {
    float* yr = y + (i * g.oh + oy) * g.ow * F;
    bool first = true;
    if (bias) {
      for (int64_t ox = 0; ox < g.ow; ++ox) std::memcpy(yr + ox * F, bias, F * sizeof(float));
      first = false;
    }
    for_each_kernel_row(g, oy, xp, [&](int64_t a, const float* row) {
      small_gemm(g.ow, F, g.kw * C, row, C, 1, w + a * g.kw * C * F, F, yr, F, !first);
      first = false;
    });
    if (first) std::memset(yr, 0, g.ow * F * sizeof(float));  // every input row of it is padding
  });
}

void rows_conv_backward(const RowsConv& g, const float* x, const float* w, const float* dy, float* dx, float* dw) {
  const int64_t C = g.c, F = g.f, kernel = g.kh * g.kw * C * F;
  if (dx) {
    // the conv of dy (padded by k-1-pad) with the rotated kernel, channel axes swapped, onto x's grid
    std::vector<float> rotated(kernel);
    const int64_t taps = g.kh * g.kw;
    for (int64_t tap = 0; tap < taps; ++tap)
      for (int64_t c = 0; c < C; ++c)
        for (int64_t f = 0; f < F; ++f) rotated[(tap * F + f) * C + c] = w[((taps - 1 - tap) * C + c) * F + f];
    const RowsConv t{g.n, g.oh, g.ow, F, g.kh, g.kw, C, g.kh - 1 - g.pad_top, g.kw - 1 - g.pad_left, g.h, g.w};
    rows_conv_forward(t, dy, rotated.data(), nullptr, dx);
  }
  if (!dw) return;
  const int threads = workers(g);
  const int64_t per_worker = g.h * padded_width(g) * C + kernel;
  std::vector<float> buffers(threads * per_worker);  // zeroed: the kernel-gradient partials start at 0
  over_output_rows(g, threads, buffers.data(), per_worker, x, [&](int t, int64_t i, const float* xp, int64_t oy) {
    float* part = buffers.data() + t * per_worker + g.h * padded_width(g) * C;
    const float* dyr = dy + (i * g.oh + oy) * g.ow * F;
    for_each_kernel_row(g, oy, xp, [&](int64_t a, const float* row) {
      small_gemm(g.kw * C, F, g.ow, row, 1, C, dyr, F, part + a * g.kw * C * F, F, true);
    });
  });
  std::fill(dw, dw + kernel, 0.f);
  for (int t = 0; t < threads; ++t) {
    const float* part = buffers.data() + t * per_worker + g.h * padded_width(g) * C;
    for (int64_t q = 0; q < kernel; ++q) dw[q] += part[q];
  }
}

}  // namespace kcore
