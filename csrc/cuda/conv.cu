// Convolution on CUDA, mirroring csrc/cpu/conv.cpp: tiled im2col + cuBLAS GEMM on channels_last
// data, with the geometry and index math of ops/conv_geometry.h (shared with the CPU).
//   forward      y[rows, F]        = col[rows, K] @ kernel[K, F]           (+ bias)
//   kernel grad  dkernel[K, F]    += col[rows, K]^T @ dy[rows, F]          (over every chunk)
//   input grad   dx               = col2im(dy[rows, F] @ kernel[K, F]^T)
// with K = kernel volume x input channels of a group; one GEMM per group per chunk. The batch
// is processed in chunks of whole images so the im2col buffer stays under a budget (at least
// one image). col2im is a gather (one thread per input cell sums the taps that read it), so the
// input gradient needs no atomics and is bit-reproducible. A 1x1 stride-1 unpadded conv is a
// GEMM on the input itself. conv_transpose is the input gradient of the matching conv.
#include "cuda/common.cuh"
#include "cuda/gemm.h"
#include "cuda/table.h"
#include "ops/conv_geometry.h"

namespace kcore::cuda {
namespace {

int64_t g_workspace_limit = int64_t(256) << 20;  // bytes of im2col buffer per call

// Both kernels give one warp to an item (a (row, tap) cell of im2col, an input pixel of col2im) and
// spread the group's channels over its lanes: the index math runs once per item, not per channel,
// and consecutive lanes read and write consecutive channels. `lanes` is the warp width (or the
// block's, in the one-thread host emulation).
#define KC_WARP_ITEMS(item, lane, lanes, n) \
  const int64_t lanes = blockDim.x < kWarp ? blockDim.x : kWarp, lane = threadIdx.x % lanes; \
  for (int64_t item = (int64_t)blockIdx.x * (blockDim.x / lanes) + threadIdx.x / lanes; item < (n); \
       item += (int64_t)gridDim.x * (blockDim.x / lanes))

inline unsigned warp_grid(int64_t items) { return grid_for(items, kThreads / kWarp); }

// col (nr, K) of output rows [r0, r0 + nr) and the channels [c0, c0 + cg) of one group: row i of col
// is taps (kd, kh, kw) each followed by the group's cg channels, so cell (i, tap) starts at (i * kvol + tap) * cg.
template <typename T>
__global__ void im2col_kernel(ConvGeometry g, const T* x, int64_t r0, int64_t nr, int64_t c0, T* col) {
  const int64_t cg = g.cg(), kvol = g.kvol();
  KC_WARP_ITEMS(cell, lane, lanes, nr * kvol) {
    const int64_t i = cell / kvol;
    int64_t tap = cell - i * kvol;
    const int64_t a2 = tap % g.k[2];
    tap /= g.k[2];
    const int64_t a1 = tap % g.k[1], a0 = tap / g.k[1];
    const ConvPixel p = g.decode(r0 + i);
    const int64_t i0 = g.input_coord(0, p.o0, a0), i1 = g.input_coord(1, p.o1, a1), i2 = g.input_coord(2, p.o2, a2);
    const bool inside = i0 >= 0 && i0 < g.in[0] && i1 >= 0 && i1 < g.in[1] && i2 >= 0 && i2 < g.in[2];
    const T* src = inside ? x + (((p.n * g.in[0] + i0) * g.in[1] + i1) * g.in[2] + i2) * g.c + c0 : nullptr;
    T* dst = col + cell * cg;
    for (int64_t ci = lane; ci < cg; ci += lanes) dst[ci] = src ? src[ci] : T(0);
  }
}

// The transpose of im2col for the images [n0, n0 + nn) (dcol rows start at image n0): every input
// cell of the group's channels gets the sum of the dcol entries that read it (written, not added).
template <typename T>
__global__ void col2im_kernel(ConvGeometry g, const T* dcol, int64_t n0, int64_t nn, int64_t c0, T* dx) {
  const int64_t K = g.cols(), cg = g.cg(), ipix = g.in_pixels();
  KC_WARP_ITEMS(item, lane, lanes, nn * ipix) {
    const int64_t nl = item / ipix, pix = item - nl * ipix;
    const int64_t i2 = pix % g.in[2], i1 = (pix / g.in[2]) % g.in[1], i0 = pix / (g.in[2] * g.in[1]);
    T* out = dx + ((n0 + nl) * ipix + pix) * g.c + c0;
    for (int64_t ci = lane; ci < cg; ci += lanes) out[ci] = T(0);
    for (int64_t a0 = 0; a0 < g.k[0]; ++a0) {
      const int64_t o0 = g.output_coord(0, i0, a0);
      if (o0 < 0) continue;
      for (int64_t a1 = 0; a1 < g.k[1]; ++a1) {
        const int64_t o1 = g.output_coord(1, i1, a1);
        if (o1 < 0) continue;
        for (int64_t a2 = 0; a2 < g.k[2]; ++a2) {
          const int64_t o2 = g.output_coord(2, i2, a2);
          if (o2 < 0) continue;
          const int64_t row = ((nl * g.out[0] + o0) * g.out[1] + o1) * g.out[2] + o2;
          const T* src = dcol + row * K + ((a0 * g.k[1] + a1) * g.k[2] + a2) * cg;
          for (int64_t ci = lane; ci < cg; ci += lanes) out[ci] += src[ci];
        }
      }
    }
  }
}

// Images per chunk so that one chunk's im2col buffer fits the budget (at least one image).
int64_t images_per_chunk(const ConvGeometry& g, int64_t itemsize) {
  const int64_t image_bytes = std::max<int64_t>(1, g.out_pixels() * g.cols() * itemsize);
  return std::max<int64_t>(1, std::min<int64_t>(g.n, g_workspace_limit / image_bytes));
}

template <typename T>
void im2col(const ConvGeometry& g, const T* x, int64_t r0, int64_t nr, int64_t c0, T* col) {
  KC_LAUNCH(warp_grid(nr * g.kvol()), im2col_kernel<T>)(g, x, r0, nr, c0, col);
  KC_LAUNCHED("conv im2col");
}

template <typename T>
void forward_impl(const ConvGeometry& g, const T* x, const T* w, const T* bias, T* y) {
  const int64_t F = g.f, K = g.cols(), C = g.c, cg = g.cg(), fg = g.fg(), opix = g.out_pixels();
  if (g.rows() == 0) return;
  if (bias) bias_rows(y, bias, g.rows(), F, false);
  const int64_t step = images_per_chunk(g, sizeof(T));
  Tensor ws = g.pointwise() ? Tensor() : empty({step * opix * K}, dtype_of<T>::value);
  for (int64_t n0 = 0; n0 < g.n; n0 += step) {
    const int64_t r0 = n0 * opix, nr = std::min(step, g.n - n0) * opix;
    for (int64_t gi = 0; gi < g.groups; ++gi) {
      const T* a = x + r0 * C + gi * cg;
      int64_t lda = C;
      if (!g.pointwise()) {
        im2col(g, x, r0, nr, gi * cg, ptr<T>(ws));
        a = ptr<T>(ws);
        lda = K;
      }
      gemm_rows<T>(false, false, nr, fg, K, a, lda, w + gi * fg, F, bias ? T(1) : T(0), y + r0 * F + gi * fg, F);
    }
  }
}

// Kernel and/or input gradients (either pointer may be null); the bias gradient is a reduction.
template <typename T>
void backward_impl(const ConvGeometry& g, const T* x, const T* w, const T* dy, T* dx, T* dw) {
  const int64_t F = g.f, K = g.cols(), C = g.c, cg = g.cg(), fg = g.fg(), opix = g.out_pixels();
  if (g.rows() == 0) {
    if (dw) KC_CUDA(cudaMemsetAsync(dw, 0, K * F * sizeof(T), kStream));
    if (dx && g.n * g.in_pixels() * C > 0)
      KC_CUDA(cudaMemsetAsync(dx, 0, g.n * g.in_pixels() * C * sizeof(T), kStream));
    return;
  }
  const int64_t step = images_per_chunk(g, sizeof(T));
  Tensor ws = g.pointwise() ? Tensor() : empty({step * opix * K}, dtype_of<T>::value);
  T* col = g.pointwise() ? nullptr : ptr<T>(ws);
  for (int64_t n0 = 0; n0 < g.n; n0 += step) {
    const int64_t nn = std::min(step, g.n - n0), r0 = n0 * opix, nr = nn * opix;
    for (int64_t gi = 0; gi < g.groups; ++gi) {
      const T* dyc = dy + r0 * F + gi * fg;
      const T* wg = w + gi * fg;
      if (dw) {
        const T* a = x + r0 * C + gi * cg;
        int64_t lda = C;
        if (col) {
          im2col(g, x, r0, nr, gi * cg, col);
          a = col;
          lda = K;
        }
        gemm_rows<T>(true, false, K, fg, nr, a, lda, dyc, F, n0 == 0 ? T(0) : T(1), dw + gi * fg, F);
      }
      if (dx && !col) {
        gemm_rows<T>(false, true, nr, K, fg, dyc, F, wg, F, T(0), dx + r0 * C + gi * cg, C);
      } else if (dx) {
        gemm_rows<T>(false, true, nr, K, fg, dyc, F, wg, F, T(0), col, K);
        KC_LAUNCH(warp_grid(nn * g.in_pixels()), col2im_kernel<T>)(g, col, n0, nn, gi * cg, dx);
        KC_LAUNCHED("conv col2im");
      }
    }
  }
}

// Sum over every axis but the last of a contiguous tensor: (F,).
Tensor channel_sums(const Tensor& t) {
  const int64_t F = t.dim(-1);
  return column_sums(t, t.numel() / std::max<int64_t>(F, 1), F);
}

void check_inputs(const Tensor& x, const Tensor& w, const char* op) {
  check_on_cuda(x, op, "inputs");
  check_on_cuda(w, op, "kernel");
  check_float(x, op, "inputs");
  check_float(w, op, "kernel");
  check_same_dtype(x, w, op);
}

Tensor checked_bias(const Tensor& bias, const Tensor& x, int64_t filters, const char* op) {
  if (!bias.defined()) return Tensor();
  check_on_cuda(bias, op, "bias");
  check_same_dtype(x, bias, op);
  KCORE_CHECK(bias.ndim() == 1 && bias.dim(0) == filters,
              op << ": bias of shape " << shape_str(bias.shape()) << " does not match " << filters << " filters");
  return bias.contiguous();
}

template <typename T>
const T* data_or_null(const Tensor& t) {
  return t.defined() ? ptr<T>(t) : nullptr;
}

}  // namespace

void conv_set_workspace_limit(int64_t bytes) { g_workspace_limit = std::max<int64_t>(bytes, 1); }
int64_t conv_workspace_limit() { return g_workspace_limit; }

Tensor conv_forward(const Tensor& x_in, const Tensor& w_in, const Tensor& bias_in, const ConvArgs& args) {
  check_inputs(x_in, w_in, "conv");
  const ConvGeometry g = make_conv_geometry(x_in.shape(), w_in.shape(), args);
  Tensor x = x_in.contiguous(), w = w_in.contiguous(), bias = checked_bias(bias_in, x, g.f, "conv");
  Tensor y = empty(g.out_shape(), x.dtype());
  dispatch_float(x.dtype(), "conv", [&](auto tag) {
    using T = decltype(tag);
    forward_impl<T>(g, ptr<T>(x), ptr<T>(w), data_or_null<T>(bias), ptr<T>(y));
  });
  return y;
}

std::tuple<Tensor, Tensor, Tensor> conv_backward(const Tensor& x_in, const Tensor& w_in, const Tensor& grad_in,
                                                 const ConvArgs& args, bool need_x, bool need_kernel, bool need_bias) {
  const char* op = "conv backward";
  check_inputs(x_in, w_in, op);
  check_on_cuda(grad_in, op, "grad");
  check_float(grad_in, op, "grad");
  check_same_dtype(x_in, grad_in, op);
  const ConvGeometry g = make_conv_geometry(x_in.shape(), w_in.shape(), args);
  KCORE_CHECK(grad_in.shape() == g.out_shape(), op << ": gradient of shape " << shape_str(grad_in.shape())
                                                   << " does not match the output shape " << shape_str(g.out_shape()));
  Tensor x = x_in.contiguous(), w = w_in.contiguous(), dy = grad_in.contiguous();
  Tensor gx = need_x ? empty(x.shape(), x.dtype()) : Tensor();
  Tensor gw = need_kernel ? empty(w.shape(), w.dtype()) : Tensor();
  Tensor gb = need_bias ? channel_sums(dy) : Tensor();
  if (need_x || need_kernel) {
    dispatch_float(x.dtype(), op, [&](auto tag) {
      using T = decltype(tag);
      backward_impl<T>(g, ptr<T>(x), ptr<T>(w), ptr<T>(dy), need_x ? ptr<T>(gx) : nullptr,
                       need_kernel ? ptr<T>(gw) : nullptr);
    });
  }
  return {gx, gw, gb};
}

Tensor conv_transpose(const Tensor& x_in, const Tensor& w_in, const Tensor& bias_in, const Shape& out_spatial,
                      const ConvArgs& args) {
  const char* op = "conv_transpose";
  check_inputs(x_in, w_in, op);
  const ConvGeometry g = make_conv_transpose_geometry(x_in.shape(), w_in.shape(), out_spatial, args, op);
  Tensor x = x_in.contiguous(), w = w_in.contiguous(), bias = checked_bias(bias_in, x, g.c, op);
  Shape y_shape{g.n};
  y_shape.insert(y_shape.end(), out_spatial.begin(), out_spatial.end());
  y_shape.push_back(g.c);
  Tensor y = empty(y_shape, x.dtype());
  dispatch_float(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    backward_impl<T>(g, nullptr, ptr<T>(w), ptr<T>(x), ptr<T>(y), nullptr);  // writes every cell of y
    if (bias.defined()) bias_rows(ptr<T>(y), ptr<T>(bias), y.numel() / g.c, g.c, true);
  });
  return y;
}

std::tuple<Tensor, Tensor, Tensor> conv_transpose_backward(const Tensor& x_in, const Tensor& w_in,
                                                           const Tensor& grad_in, const ConvArgs& args, bool need_x,
                                                           bool need_kernel, bool need_bias) {
  const char* op = "conv_transpose backward";
  check_inputs(x_in, w_in, op);
  check_on_cuda(grad_in, op, "grad");
  check_float(grad_in, op, "grad");
  check_same_dtype(x_in, grad_in, op);
  KCORE_CHECK(grad_in.ndim() == x_in.ndim(), op << ": gradient of shape " << shape_str(grad_in.shape())
                                                << " does not match inputs " << shape_str(x_in.shape()));
  const Shape out_spatial(grad_in.shape().begin() + 1, grad_in.shape().end() - 1);
  const ConvGeometry g = make_conv_transpose_geometry(x_in.shape(), w_in.shape(), out_spatial, args, op);
  KCORE_CHECK(grad_in.dim(-1) == g.c && grad_in.dim(0) == g.n,
              op << ": gradient of shape " << shape_str(grad_in.shape()) << " does not match the output");
  Tensor x = x_in.contiguous(), w = w_in.contiguous(), dy = grad_in.contiguous();
  Tensor gx = need_x ? cuda::conv_forward(dy, w, Tensor(), args) : Tensor();  // the matching conv maps y back onto x
  Tensor gw = need_kernel ? empty(w.shape(), w.dtype()) : Tensor();
  Tensor gb = need_bias ? channel_sums(dy) : Tensor();
  if (need_kernel) {
    dispatch_float(x.dtype(), op, [&](auto tag) {
      using T = decltype(tag);
      backward_impl<T>(g, ptr<T>(dy), ptr<T>(w), ptr<T>(x), nullptr, ptr<T>(gw));
    });
  }
  return {gx, gw, gb};
}

}  // namespace kcore::cuda
