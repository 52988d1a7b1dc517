// Max / average pooling on CUDA, mirroring csrc/cpu/pool.cpp with the geometry of
// ops/pool_geometry.h (shared with the CPU): one thread per output cell forward (the window is
// walked in the CPU's order, so the first maximum wins and argmax is the same int32 flat spatial
// index), one thread per input cell backward (a gather over the output cells whose window holds
// it: no atomics, bit-reproducible). Padded cells never take part.
#include "cuda/common.cuh"
#include "cuda/table.h"
#include "ops/pool_geometry.h"

namespace kcore::cuda {
namespace {

// y of output cell (img, o, c): the first maximum of the window and its flat spatial index (max),
// or the mean of the window's real cells (average; arg unused).
template <typename T, bool kMax>
__global__ void forward_kernel(PoolGeometry g, const T* x, T* y, int32_t* arg) {
  const int64_t C = g.c, opix = g.out_pixels(), ipix = g.in_pixels();
  KC_GRID_STRIDE(e, g.n * opix * C) {
    const int64_t c = e % C, o = (e / C) % opix, img = e / (C * opix);
    const T* xi = x + img * ipix * C + c;
    const PoolWindow w = g.window(o);
    T acc = T(0);
    int32_t at = 0;
    bool first = true;
    for (int64_t i0 = w.lo[0]; i0 < w.hi[0]; ++i0)
      for (int64_t i1 = w.lo[1]; i1 < w.hi[1]; ++i1)
        for (int64_t i2 = w.lo[2]; i2 < w.hi[2]; ++i2) {
          const int64_t p = (i0 * g.in[1] + i1) * g.in[2] + i2;
          const T v = xi[p * C];
          if constexpr (!kMax) {
            acc += v;
          } else if (first || v > acc) {
            acc = v;
            at = (int32_t)p;
            first = false;
          }
        }
    if constexpr (kMax) {
      y[e] = acc;
      arg[e] = at;
    } else {
      y[e] = acc * (T(1) / T(w.count()));
    }
  }
}

// dx of input cell (img, p, c): the sum over the output cells o reading p of dy[o] if argmax[o] == p
// (max) or dy[o] / count(o) (average).
template <typename T, bool kMax>
__global__ void backward_kernel(PoolGeometry g, const T* dy, const int32_t* arg, T* dx) {
  const int64_t C = g.c, opix = g.out_pixels(), ipix = g.in_pixels();
  KC_GRID_STRIDE(e, g.n * ipix * C) {
    const int64_t c = e % C, p = (e / C) % ipix, img = e / (C * ipix);
    const int64_t i2 = p % g.in[2], i1 = (p / g.in[2]) % g.in[1], i0 = p / (g.in[2] * g.in[1]);
    int64_t lo[3], hi[3];
    g.outputs_reading(0, i0, &lo[0], &hi[0]);
    g.outputs_reading(1, i1, &lo[1], &hi[1]);
    g.outputs_reading(2, i2, &lo[2], &hi[2]);
    T acc = T(0);
    for (int64_t o0 = lo[0]; o0 < hi[0]; ++o0)
      for (int64_t o1 = lo[1]; o1 < hi[1]; ++o1)
        for (int64_t o2 = lo[2]; o2 < hi[2]; ++o2) {
          const int64_t o = (o0 * g.out[1] + o1) * g.out[2] + o2;
          const int64_t off = (img * opix + o) * C + c;
          if constexpr (kMax) {
            if (arg[off] == (int32_t)p) acc += dy[off];
          } else {
            acc += dy[off] * (T(1) / T(g.window(o).count()));
          }
        }
    dx[e] = acc;
  }
}

const char* op_name(PoolMode mode) { return mode == PoolMode::max ? "max_pool" : "average_pool"; }

}  // namespace

std::pair<Tensor, Tensor> pool_forward(const Tensor& x_in, PoolMode mode, const PoolArgs& args) {
  const char* op = op_name(mode);
  check_on_cuda(x_in, op, "inputs");
  check_float(x_in, op, "inputs");
  const PoolGeometry g = make_pool_geometry(x_in.shape(), args, op);
  Tensor x = x_in.contiguous();
  Tensor y = empty(g.out_shape(), x.dtype()), arg;
  if (mode == PoolMode::max) arg = empty(g.out_shape(), DType::i32);
  const int64_t n = y.numel();
  if (n == 0) return {y, arg};
  dispatch_float(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    if (mode == PoolMode::max)
      KC_LAUNCH(grid_for(n), forward_kernel<T, true>)(g, ptr<T>(x), ptr<T>(y), ptr<int32_t>(arg));
    else KC_LAUNCH(grid_for(n), forward_kernel<T, false>)(g, ptr<T>(x), ptr<T>(y), nullptr);
    KC_LAUNCHED(op);
  });
  return {y, arg};
}

// Unlike the CPU, argmax values are not range-checked on the host (that would cost a copy): an
// index that names no cell of the window simply never matches, so nothing is read out of bounds.
Tensor pool_backward(const Tensor& grad_in, const Tensor& argmax, const Shape& x_shape, PoolMode mode,
                     const PoolArgs& args) {
  const char* op = mode == PoolMode::max ? "max_pool backward" : "average_pool backward";
  check_on_cuda(grad_in, op, "grad");
  check_float(grad_in, op, "grad");
  const PoolGeometry g = make_pool_geometry(x_shape, args, op);
  KCORE_CHECK(grad_in.shape() == g.out_shape(), op << ": gradient of shape " << shape_str(grad_in.shape())
                                                   << " does not match the output shape " << shape_str(g.out_shape()));
  Tensor dy = grad_in.contiguous(), arg;
  if (mode == PoolMode::max) {
    KCORE_CHECK(argmax.defined() && argmax.dtype() == DType::i32 && argmax.shape() == g.out_shape(),
                op << ": needs the int32 argmax tensor returned by the forward pass");
    check_on_cuda(argmax, op, "argmax");
    arg = argmax.contiguous();
  }
  Tensor dx = empty(x_shape, dy.dtype());
  const int64_t n = dx.numel();
  if (n == 0) return dx;
  dispatch_float(dy.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    if (mode == PoolMode::max)
      KC_LAUNCH(grid_for(n), backward_kernel<T, true>)(g, ptr<T>(dy), ptr<int32_t>(arg), ptr<T>(dx));
    else KC_LAUNCH(grid_for(n), backward_kernel<T, false>)(g, ptr<T>(dy), nullptr, ptr<T>(dx));
    KC_LAUNCHED(op);
  });
  return dx;
}

}  // namespace kcore::cuda
