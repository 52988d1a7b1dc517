// Convolution as im2col + GEMM on channels_last data.
//
// Every spatial rank is handled as 3-D: a 1-D conv is (1, 1, W), a 2-D conv (1, H, W), so one
// set of loops serves Conv1D/2D/3D. Output pixels are the GEMM rows; a row of the im2col matrix
// is the pixel's receptive field in kernel order (kd, kh, kw, Cin), which is exactly the flattened
// Keras kernel's row order, so   y[rows, F] = col[rows, K] @ kernel[K, F]   with K = kvol * Cin.
// The batch is processed in chunks of rows so the workspace stays under a fixed budget.
// Special paths: a 1x1 stride-1 unpadded conv is one GEMM on the input itself; float32 3x3
// stride-1 2-D convs with >= 16 channels and filters use Winograd, F(4x4, 3x3) (conv_winograd4.cpp:
// output, input gradient and kernel gradient) or F(2x2, 3x3) (conv_winograd.cpp: output and input
// gradient) as conv_winograd_select.cpp decides; float32 stride-1 Conv1D reads its im2col rows
// straight from the padded input (conv_rows.cpp).
// Grouped convs run one GEMM per group on the same rows: the group's im2col holds only its
// Cin/groups channels (K = kvol * Cin/groups, the kernel's row count) and multiplies the group's
// columns of the kernel into the group's columns of the output (strided GEMM operands).
// Depthwise convs (groups > 1 with one input channel per group) skip im2col: conv_depthwise.cpp.
#include "ops/conv.h"

#include <algorithm>
#include <cstring>
#include <type_traits>
#include <vector>

#include "core/blas.h"
#include "core/checked.h"
#include "core/parallel.h"
#include "cpu/conv_bf16.h"
#include "cpu/conv_depthwise.h"
#include "cpu/conv_fast.h"
#include "cpu/conv_geometry.h"
#include "cpu/conv_im2col.h"
#include "cpu/conv_workers.h"
#include "ops/conv_geometry.h"

namespace kcore {

namespace {

using conv_detail::col2im;
using conv_detail::im2col;
using conv_detail::run_split;

// Bytes of im2col buffer per worker: about an L2 cache's share, where the GEMM reads it back fastest.
int64_t g_workspace_limit = int64_t(1) << 20;

using conv_detail::column_sums;
using conv_detail::Geometry;

Geometry make_geometry(const Shape& xs, const Shape& ws, const ConvArgs& a) { return make_conv_geometry(xs, ws, a); }

// How a call splits its GEMM rows: `threads` workers, each with its own im2col buffer of
// `step` rows. Workers run sequential GEMMs inside one OpenMP region (BLAS is switched to one
// thread meanwhile), so the BLAS thread pool and the OpenMP team never hand the cores back and
// forth between chunks.
struct Plan {
  int threads = 1;
  int64_t step = 1;
  int64_t workspace_elems(const Geometry& g) const { return threads * step * g.cols(); }
};

// A worker only pays off with enough multiply-adds to hide waking it (a few microseconds on an
// idle machine, up to a scheduler time slice on a busy one): about 40 us of GEMM each.
constexpr int64_t kMinMacsPerWorker = int64_t(1) << 22;

Plan make_plan(const Geometry& g, int64_t itemsize, int64_t units) {
  Plan p;
  const double macs = double(g.rows()) * double(g.cols()) * double(g.f);  // may exceed int64
  const int64_t by_work = (int64_t)std::max(1.0, std::min(macs / kMinMacsPerWorker, 1e6));
  p.threads = (int)std::max<int64_t>(1, std::min<int64_t>({(int64_t)num_threads(), units, by_work}));
  if (omp_in_parallel()) p.threads = 1;
  const int64_t row_bytes = std::max<int64_t>(1, g.cols() * itemsize);
  const int64_t per_thread = std::max<int64_t>(1, g_workspace_limit / row_bytes);
  const int64_t rows_per_thread = (g.rows() + p.threads - 1) / p.threads;
  p.step = std::max<int64_t>(1, std::min(per_thread, rows_per_thread));
  return p;
}

// The im2col buffer, kept per calling thread and reused across calls: a fresh multi-MiB buffer
// every call would cost a page fault per 4 KiB on first touch. It only grows to the largest
// plan seen (threads x the per-worker budget).
template <typename T> T* workspace(const Geometry& g, const Plan& p) {
  thread_local std::shared_ptr<Storage> buffer;
  const size_t bytes = g.pointwise() ? 0 : size_t(p.workspace_elems(g)) * sizeof(T);
  if (!buffer || buffer->nbytes < bytes) {
    buffer.reset();
    buffer = Storage::allocate(bytes);
  }
  return static_cast<T*>(buffer->data);
}

// One input channel per group (and more than one group): the direct depthwise kernels.
bool use_depthwise(const Geometry& g) { return g.groups > 1 && g.cg() == 1; }

DepthwiseGeometry depthwise_geometry(const Geometry& g) {
  DepthwiseGeometry d;
  d.n = g.n;
  d.c = g.c;
  d.m = g.fg();
  for (int i = 0; i < 3; ++i) {
    d.in[i] = g.in[i];
    d.out[i] = g.out[i];
    d.k[i] = g.k[i];
    d.s[i] = g.s[i];
    d.d[i] = g.d[i];
    d.pb[i] = g.pb[i];
  }
  return d;
}

template <typename T> void forward_impl(const Geometry& g, const T* x, const T* w, const T* bias, T* y) {
  const int64_t M = g.rows(), F = g.f, K = g.cols(), C = g.c, cg = g.cg(), fg = g.fg();
  if (M == 0) return;
  if constexpr (std::is_same<T, float>::value) {
    if (conv_detail::fast_forward(g, x, w, bias, y, g_workspace_limit)) return;
  }
  if (use_depthwise(g)) {
    depthwise_forward<T>(depthwise_geometry(g), x, w, bias, y);
    return;
  }
  const Plan p = make_plan(g, sizeof(T), M);
  T* ws = workspace<T>(g, p);
  run_split(p.threads, M, [&](int t, int64_t lo, int64_t hi) {
    T* col = ws + t * p.step * K;
    for (int64_t r0 = lo; r0 < hi; r0 += p.step) {
      const int64_t nr = std::min(p.step, hi - r0);
      T* out = y + r0 * F;
      if (bias)
        for (int64_t r = 0; r < nr; ++r) std::memcpy(out + r * F, bias, F * sizeof(T));
      for (int64_t gi = 0; gi < g.groups; ++gi) {
        const T* a = x + r0 * C + gi * cg;  // the pointwise case reads the input rows directly
        int64_t lda = C;
        if (!g.pointwise()) {
          im2col(g, x, r0, nr, gi * cg, col);
          a = col;
          lda = K;
        }
        gemm<T>(false, false, nr, fg, K, T(1), a, lda, w + gi * fg, F, bias ? T(1) : T(0), out + gi * fg, F);
      }
    }
  });
}

template <typename T> struct Grads {
  T* x;       // grad_x or null
  T* kernel;  // grad_kernel or null
  T* bias;    // grad_bias or null
};

// All three gradients in one parallel pass over the output rows:
//   grad_kernel = sum_rows col^T @ dy    (each worker into its own partial, added in worker order)
//   grad_x      = col2im(dy @ kernel^T)  (workers own whole images, so the scatter never races)
//   grad_bias   = column sums of dy      (per-worker double accumulators)
// Results are deterministic for a given thread count.
template <typename T> void backward_impl(const Geometry& g, const T* x, const T* w, const T* dy, Grads<T> out) {
  const int64_t M = g.rows(), F = g.f, K = g.cols(), per_image = g.out_pixels();
  const int64_t C = g.c, cg = g.cg(), fg = g.fg();
  if (M == 0) {
    if (out.kernel) std::memset(out.kernel, 0, K * F * sizeof(T));
    if (out.bias) std::memset(out.bias, 0, F * sizeof(T));
    return;
  }
  if (use_depthwise(g)) {
    depthwise_backward<T>(depthwise_geometry(g), x, w, dy, out.x, out.kernel, out.bias);
    return;
  }
  if constexpr (std::is_same<T, float>::value) {
    conv_detail::fast_backward(g, x, w, dy, out.x, out.kernel, out.bias, g_workspace_limit);
    if (!out.x && !out.kernel && !out.bias) return;
  }
  const bool by_image = out.x && !g.pointwise();
  const Plan p = make_plan(g, sizeof(T), by_image ? g.n : M);
  T* ws = workspace<T>(g, p);
  Tensor kpart = Tensor::zeros({out.kernel ? (p.threads - 1) * K * F : 0}, dtype_of<T>::value);
  std::vector<double> bpart(out.bias ? p.threads * F : 0, 0.0);
  const int64_t units = by_image ? g.n : M, unit_rows = by_image ? per_image : 1;
  run_split(p.threads, units, [&](int t, int64_t lo, int64_t hi) {
    T* col = ws + t * p.step * K;
    T* kacc = t == 0 ? out.kernel : kpart.data<T>() + (t - 1) * K * F;
    const int64_t r_hi = hi * unit_rows;
    if (by_image) {
      const int64_t image = g.in_pixels() * g.c;
      std::memset(out.x + lo * image, 0, (hi - lo) * image * sizeof(T));
    }
    for (int64_t r0 = lo * unit_rows; r0 < r_hi; r0 += p.step) {
      const int64_t nr = std::min(p.step, r_hi - r0);
      const bool first = r0 == lo * unit_rows;
      for (int64_t gi = 0; gi < g.groups; ++gi) {  // group gi: channels gi*cg.., filters gi*fg..
        const T* dyc = dy + r0 * F + gi * fg;
        const T* wg = w + gi * fg;
        if (out.kernel) {
          const T* a = x + r0 * C + gi * cg;
          int64_t lda = C;
          if (!g.pointwise()) {
            im2col(g, x, r0, nr, gi * cg, col);
            a = col;
            lda = K;
          }
          gemm<T>(true, false, K, fg, nr, T(1), a, lda, dyc, F, first ? T(0) : T(1), kacc + gi * fg, F);
        }
        if (out.x && g.pointwise()) {
          gemm<T>(false, true, nr, K, fg, T(1), dyc, F, wg, F, T(0), out.x + r0 * C + gi * cg, C);
        } else if (out.x) {
          gemm<T>(false, true, nr, K, fg, T(1), dyc, F, wg, F, T(0), col, K);
          col2im(g, col, r0, nr, gi * cg, out.x);
        }
      }
      const T* dyc = dy + r0 * F;
      if (out.bias) {
        double* b = bpart.data() + t * F;
        for (int64_t r = 0; r < nr; ++r)
          for (int64_t f = 0; f < F; ++f) b[f] += dyc[r * F + f];
      }
    }
  });
  for (int t = 1; out.kernel && t < p.threads; ++t) {
    const T* src = kpart.data<T>() + (t - 1) * K * F;
    for (int64_t i = 0; i < K * F; ++i) out.kernel[i] += src[i];
  }
  for (int64_t f = 0; out.bias && f < F; ++f) {
    double sum = 0.0;
    for (int t = 0; t < p.threads; ++t) sum += bpart[t * F + f];
    out.bias[f] = T(sum);
  }
}

void check_inputs(const Tensor& x, const Tensor& w, const char* op) {
  check_float(x, op, "inputs");
  check_float(w, op, "kernel");
  check_same_dtype(x, w, op);
  KCORE_CHECK(x.device() == Device::cpu && w.device() == Device::cpu, op << ": tensors must be on the CPU");
}

}  // namespace

Shape conv_output_shape(const Shape& x_shape, const Shape& kernel_shape, const ConvArgs& args) {
  return make_geometry(x_shape, kernel_shape, args).out_shape();
}

int64_t conv_workspace_bytes(const Shape& x_shape, const Shape& kernel_shape, const ConvArgs& args, int64_t itemsize) {
  Geometry g = make_geometry(x_shape, kernel_shape, args);
  if (g.pointwise() || g.rows() == 0 || use_depthwise(g)) return 0;
  const int64_t fast = itemsize == sizeof(float) ? conv_detail::fast_workspace_bytes(g, g_workspace_limit) : -1;
  if (fast >= 0) return fast;
  return make_plan(g, itemsize, g.rows()).workspace_elems(g) * itemsize;
}

namespace cpu {
Tensor conv_forward(const Tensor& x_in, const Tensor& w_in, const Tensor& bias_in, const ConvArgs& args) {
  check_inputs(x_in, w_in, "conv");
  Geometry g = make_geometry(x_in.shape(), w_in.shape(), args);
  Tensor x = x_in.contiguous(), w = w_in.contiguous(), bias;
  if (bias_in.defined()) {
    check_same_dtype(x, bias_in, "conv");
    KCORE_CHECK(bias_in.ndim() == 1 && bias_in.dim(0) == g.f,
                "conv: bias of shape " << shape_str(bias_in.shape()) << " does not match " << g.f << " filters");
    bias = bias_in.contiguous();
  }
  if (x.dtype() == DType::bf16) return conv_detail::bf16_forward(x, w, bias, args);
  Tensor out = Tensor::empty(g.out_shape(), x.dtype());
  dispatch_float(x.dtype(), "conv", [&](auto tag) {
    using T = decltype(tag);
    forward_impl<T>(g, x.data<T>(), w.data<T>(), bias.defined() ? bias.data<T>() : nullptr, out.data<T>());
  });
  return out;
}

std::tuple<Tensor, Tensor, Tensor> conv_backward(const Tensor& x_in, const Tensor& w_in, const Tensor& grad_in,
                                                 const ConvArgs& args, bool need_x, bool need_kernel, bool need_bias) {
  check_inputs(x_in, w_in, "conv backward");
  check_float(grad_in, "conv backward", "grad");
  check_same_dtype(x_in, grad_in, "conv backward");
  Geometry g = make_geometry(x_in.shape(), w_in.shape(), args);
  KCORE_CHECK(grad_in.shape() == g.out_shape(), "conv backward: gradient of shape "
                                                    << shape_str(grad_in.shape()) << " does not match the output shape "
                                                    << shape_str(g.out_shape()));
  Tensor x = x_in.contiguous(), w = w_in.contiguous(), dy = grad_in.contiguous();
  if (x.dtype() == DType::bf16) return conv_detail::bf16_backward(x, w, dy, args, need_x, need_kernel, need_bias);
  Tensor gx, gw, gb;
  if (need_x) gx = Tensor::empty(x.shape(), x.dtype());  // every cell is written by backward_impl
  if (need_kernel) gw = Tensor::empty(w.shape(), w.dtype());
  if (need_bias) gb = Tensor::empty({g.f}, x.dtype());
  dispatch_float(x.dtype(), "conv backward", [&](auto tag) {
    using T = decltype(tag);
    Grads<T> out{need_x ? gx.data<T>() : nullptr, need_kernel ? gw.data<T>() : nullptr,
                 need_bias ? gb.data<T>() : nullptr};
    backward_impl<T>(g, x.data<T>(), w.data<T>(), dy.data<T>(), out);
  });
  return {gx, gw, gb};
}

// conv_transpose: the input gradient of the matching conv (see make_conv_transpose_geometry).
namespace {
Geometry transpose_geometry(const Tensor& x, const Tensor& w, const Shape& out_spatial, const ConvArgs& args,
                            const char* op) {
  return make_conv_transpose_geometry(x.shape(), w.shape(), out_spatial, args, op);
}

}  // namespace

Tensor conv_transpose(const Tensor& x_in, const Tensor& w_in, const Tensor& bias_in, const Shape& out_spatial,
                      const ConvArgs& args) {
  check_inputs(x_in, w_in, "conv_transpose");
  Geometry g = transpose_geometry(x_in, w_in, out_spatial, args, "conv_transpose");
  Tensor x = x_in.contiguous(), w = w_in.contiguous(), bias;
  if (bias_in.defined()) {
    check_same_dtype(x, bias_in, "conv_transpose");
    KCORE_CHECK(bias_in.ndim() == 1 && bias_in.dim(0) == g.c, "conv_transpose: bias of shape "
                                                                  << shape_str(bias_in.shape()) << " does not match "
                                                                  << g.c << " filters");
    bias = bias_in.contiguous();
  }
  Shape y_shape{g.n};
  y_shape.insert(y_shape.end(), out_spatial.begin(), out_spatial.end());
  y_shape.push_back(g.c);
  Tensor y = Tensor::empty(y_shape, x.dtype());
  dispatch_float(x.dtype(), "conv_transpose", [&](auto tag) {
    using T = decltype(tag);
    T* yp = y.data<T>();
    if (g.rows() == 0) {
      std::memset(yp, 0, y.numel() * sizeof(T));
    } else {
      backward_impl<T>(g, nullptr, w.data<T>(), x.data<T>(), Grads<T>{yp, nullptr, nullptr});
    }
    if (bias.defined()) {
      const T* b = bias.data<T>();
      const int64_t rows = y.numel() / g.c;
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < g.c; ++c) yp[r * g.c + c] += b[c];
    }
  });
  return y;
}

std::tuple<Tensor, Tensor, Tensor> conv_transpose_backward(const Tensor& x_in, const Tensor& w_in,
                                                           const Tensor& grad_in, const ConvArgs& args, bool need_x,
                                                           bool need_kernel, bool need_bias) {
  check_inputs(x_in, w_in, "conv_transpose backward");
  check_float(grad_in, "conv_transpose backward", "grad");
  check_same_dtype(x_in, grad_in, "conv_transpose backward");
  KCORE_CHECK(grad_in.ndim() == x_in.ndim(), "conv_transpose backward: gradient of shape " << shape_str(grad_in.shape())
                                                                                           << " does not match inputs "
                                                                                           << shape_str(x_in.shape()));
  Shape out_spatial(grad_in.shape().begin() + 1, grad_in.shape().end() - 1);
  Geometry g = transpose_geometry(x_in, w_in, out_spatial, args, "conv_transpose backward");
  KCORE_CHECK(grad_in.dim(-1) == g.c && grad_in.dim(0) == g.n, "conv_transpose backward: gradient of shape "
                                                                   << shape_str(grad_in.shape())
                                                                   << " does not match the output");
  Tensor x = x_in.contiguous(), w = w_in.contiguous(), dy = grad_in.contiguous();
  Tensor gx, gw, gb;
  if (need_x) gx = cpu::conv_forward(dy, w, Tensor(), args);  // the matching conv maps y-space back onto x
  if (need_kernel || need_bias) {
    if (need_kernel) gw = Tensor::empty(w.shape(), w.dtype());
    if (need_bias) gb = Tensor::empty({g.c}, w.dtype());
    dispatch_float(x.dtype(), "conv_transpose backward", [&](auto tag) {
      using T = decltype(tag);
      if (need_kernel)
        backward_impl<T>(g, dy.data<T>(), w.data<T>(), x.data<T>(), Grads<T>{nullptr, gw.data<T>(), nullptr});
      if (need_bias) column_sums<T>(dy.data<T>(), dy.numel() / g.c, g.c, gb.data<T>());
    });
  }
  return {gx, gw, gb};
}
}  // namespace cpu

void conv_set_workspace_limit(int64_t bytes) { g_workspace_limit = std::max<int64_t>(bytes, 1); }
int64_t conv_workspace_limit() { return g_workspace_limit; }

}  // namespace kcore
