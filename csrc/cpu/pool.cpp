// Max / average pooling on channels_last data. Like conv.cpp, every rank is handled as 3-D
// ((1, 1, W) for 1-D, (1, H, W) for 2-D). Work is split into units of (image, channel block):
// a unit owns its input cells, so the backward scatter needs no atomics and is deterministic.
#include "ops/pool.h"

#include <algorithm>
#include <cstring>

#include "core/checked.h"
#include "core/parallel.h"
#include "ops/pool_geometry.h"

namespace kcore::cpu {

namespace {

PoolGeometry make_geometry(const Shape& xs, const PoolArgs& a, const char* op) { return make_pool_geometry(xs, a, op); }

using Window = PoolWindow;
Window window_of(const PoolGeometry& g, int64_t o) { return g.window(o); }

template <typename Fn>
void for_each_cell(const PoolGeometry& g, const Window& w, Fn&& fn) {
  for (int64_t i0 = w.lo[0]; i0 < w.hi[0]; ++i0)
    for (int64_t i1 = w.lo[1]; i1 < w.hi[1]; ++i1)
      for (int64_t i2 = w.lo[2]; i2 < w.hi[2]; ++i2) fn((i0 * g.in[1] + i1) * g.in[2] + i2);
}

// Runs fn(image, c0, c1) over units of (image, channel block). Units are handed out dynamically,
// so a worker that the OS preempts does not hold the others back; results do not depend on
// which worker ran a unit.
template <typename Fn>
void for_each_unit(const PoolGeometry& g, Fn&& fn) {
  const int64_t nt = num_threads();
  // Few images: also split channels (blocks of >= 16 keep the inner loops vectorised).
  int64_t blocks = 1;
  if (g.n < 2 * nt) {
    const int64_t wanted = (2 * nt + g.n - 1) / std::max<int64_t>(g.n, 1);
    blocks = std::max<int64_t>(1, std::min<int64_t>(g.c / 16, wanted));
  }
  const int64_t units = g.n * blocks;
  auto unit = [&](int64_t u) { fn(u / blocks, (u % blocks) * g.c / blocks, (u % blocks + 1) * g.c / blocks); };
  const bool small = g.n * g.in_pixels() * g.c < (int64_t(1) << 17);  // ~0.1 ms: not worth waking workers
  if (nt <= 1 || units <= 1 || small || omp_in_parallel()) {
    for (int64_t u = 0; u < units; ++u) unit(u);
    return;
  }
#pragma omp parallel for schedule(dynamic, 1) num_threads((int)std::min<int64_t>(nt, units))
  for (int64_t u = 0; u < units; ++u) unit(u);
}

template <typename T>
void max_forward(const PoolGeometry& g, const T* x, T* y, int32_t* arg) {
  const int64_t C = g.c, opix = g.out_pixels(), ipix = g.in_pixels();
  for_each_unit(g, [&](int64_t img, int64_t c0, int64_t c1) {
    const T* xi = x + img * ipix * C;
    for (int64_t o = 0; o < opix; ++o) {
      const int64_t off = (img * opix + o) * C;
      T* yp = y + off;
      int32_t* ap = arg + off;
      bool first = true;
      for_each_cell(g, window_of(g, o), [&](int64_t p) {
        const T* xp = xi + p * C;
        if (first) {
          for (int64_t ci = c0; ci < c1; ++ci) {
            yp[ci] = xp[ci];
            ap[ci] = (int32_t)p;
          }
          first = false;
          return;
        }
        for (int64_t ci = c0; ci < c1; ++ci) {
          const bool better = xp[ci] > yp[ci];
          yp[ci] = better ? xp[ci] : yp[ci];
          ap[ci] = better ? (int32_t)p : ap[ci];
        }
      });
    }
  });
}

template <typename T>
void avg_forward(const PoolGeometry& g, const T* x, T* y) {
  const int64_t C = g.c, opix = g.out_pixels(), ipix = g.in_pixels();
  for_each_unit(g, [&](int64_t img, int64_t c0, int64_t c1) {
    const T* xi = x + img * ipix * C;
    for (int64_t o = 0; o < opix; ++o) {
      T* yp = y + (img * opix + o) * C;
      for (int64_t ci = c0; ci < c1; ++ci) yp[ci] = T(0);
      const Window w = window_of(g, o);
      for_each_cell(g, w, [&](int64_t p) {
        const T* xp = xi + p * C;
        for (int64_t ci = c0; ci < c1; ++ci) yp[ci] += xp[ci];
      });
      const T inv = T(1) / T(w.count());
      for (int64_t ci = c0; ci < c1; ++ci) yp[ci] *= inv;
    }
  });
}

template <typename T>
void max_backward(const PoolGeometry& g, const T* dy, const int32_t* arg, T* dx) {
  const int64_t C = g.c, opix = g.out_pixels(), ipix = g.in_pixels();
  for_each_unit(g, [&](int64_t img, int64_t c0, int64_t c1) {
    T* dxi = dx + img * ipix * C;
    for (int64_t o = 0; o < opix; ++o) {
      const int64_t off = (img * opix + o) * C;
      for (int64_t ci = c0; ci < c1; ++ci) dxi[(int64_t)arg[off + ci] * C + ci] += dy[off + ci];
    }
  });
}

template <typename T>
void avg_backward(const PoolGeometry& g, const T* dy, T* dx) {
  const int64_t C = g.c, opix = g.out_pixels(), ipix = g.in_pixels();
  for_each_unit(g, [&](int64_t img, int64_t c0, int64_t c1) {
    T* dxi = dx + img * ipix * C;
    for (int64_t o = 0; o < opix; ++o) {
      const T* gp = dy + (img * opix + o) * C;
      const Window w = window_of(g, o);
      const T inv = T(1) / T(w.count());
      for_each_cell(g, w, [&](int64_t p) {
        T* dp = dxi + p * C;
        for (int64_t ci = c0; ci < c1; ++ci) dp[ci] += gp[ci] * inv;
      });
    }
  });
}

const char* op_name(PoolMode mode) { return mode == PoolMode::max ? "max_pool" : "average_pool"; }

}  // namespace

std::pair<Tensor, Tensor> pool_forward(const Tensor& x_in, PoolMode mode, const PoolArgs& args) {
  const char* op = op_name(mode);
  check_float(x_in, op, "inputs");
  PoolGeometry g = make_geometry(x_in.shape(), args, op);
  Tensor x = x_in.contiguous();
  Tensor y = Tensor::empty(g.out_shape(), x.dtype()), arg;
  if (mode == PoolMode::max) arg = Tensor::empty(g.out_shape(), DType::i32);
  dispatch_float(x.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    if (mode == PoolMode::max) max_forward<T>(g, x.data<T>(), y.data<T>(), arg.data<int32_t>());
    else avg_forward<T>(g, x.data<T>(), y.data<T>());
  });
  return {y, arg};
}

Tensor pool_backward(const Tensor& grad_in, const Tensor& argmax, const Shape& x_shape, PoolMode mode,
                     const PoolArgs& args) {
  const char* op = mode == PoolMode::max ? "max_pool backward" : "average_pool backward";
  check_float(grad_in, op, "grad");
  PoolGeometry g = make_geometry(x_shape, args, op);
  KCORE_CHECK(grad_in.shape() == g.out_shape(), op << ": gradient of shape " << shape_str(grad_in.shape())
                                                   << " does not match the output shape " << shape_str(g.out_shape()));
  Tensor dy = grad_in.contiguous();
  Tensor dx = Tensor::zeros(x_shape, dy.dtype());
  Tensor arg;
  if (mode == PoolMode::max) {
    KCORE_CHECK(argmax.defined() && argmax.dtype() == DType::i32 && argmax.shape() == g.out_shape(),
                op << ": needs the int32 argmax tensor returned by the forward pass");
    arg = argmax.contiguous();
    const int32_t* ap = arg.data<int32_t>();
    const int64_t ipix = g.in_pixels();
    for (int64_t i = 0; i < arg.numel(); ++i)
      KCORE_CHECK(ap[i] >= 0 && ap[i] < ipix, op << ": argmax index " << ap[i] << " is out of range");
  }
  dispatch_float(dy.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    if (mode == PoolMode::max) max_backward<T>(g, dy.data<T>(), arg.data<int32_t>(), dx.data<T>());
    else avg_backward<T>(g, dy.data<T>(), dx.data<T>());
  });
  return dx;
}

}  // namespace kcore::cpu
