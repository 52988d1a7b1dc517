// Fused losses on CUDA over the operands ops/loss.cpp prepares: one warp per row of classes for the
// softmax losses, elementwise for the sigmoid loss. Labels out of range raise ValueError
// (checked on the device, reported after the kernel).
#include <cmath>

#include "cuda/common.cuh"
#include "cuda/table.h"

namespace kcore::cuda {
namespace {

// The softmax losses: one warp per row of c logits (warp_row_stats in common.cuh).
#define KC_WARP_ROW(rows) \
  const int64_t r = (int64_t)blockIdx.x * kRowsPerBlock + threadIdx.x / kWarp; \
  const int lane = threadIdx.x % kWarp; \
  if (r >= (rows)) return;

template <typename T>
__global__ void cce_kernel(const T* x, const T* y, T* out, int64_t rows, int64_t c) {
  KC_WARP_ROW(rows)
  const T* xr = x + r * c;
  T mx, lse;
  warp_row_stats(xr, c, lane, &mx, &lse);
  T loss = 0;
  for (int64_t j = lane; j < c; j += kWarp) loss += y[r * c + j] * (lse - (xr[j] - mx));
  loss = warp_sum(loss);
  if (lane == 0) out[r] = loss;
}

template <typename T>
__global__ void cce_grad_kernel(const T* x, const T* y, const T* g, T* out, int64_t rows, int64_t c) {
  KC_WARP_ROW(rows)
  const T* xr = x + r * c;
  T mx, lse;
  warp_row_stats(xr, c, lane, &mx, &lse);
  T ysum = 0;
  for (int64_t j = lane; j < c; j += kWarp) ysum += y[r * c + j];
  ysum = warp_sum(ysum);
  for (int64_t j = lane; j < c; j += kWarp) out[r * c + j] = g[r] * (exp(xr[j] - mx - lse) * ysum - y[r * c + j]);
}

template <typename T, typename I>
__global__ void sparse_cce_kernel(const T* x, const I* labels, T* out, int64_t rows, int64_t c, int* bad) {
  KC_WARP_ROW(rows)
  const I l = labels[r];
  if (l < 0 || l >= c) {  // uniform across the warp
    if (lane == 0) {
      *bad = 1;
      out[r] = T(NAN);
    }
    return;
  }
  const T* xr = x + r * c;
  T mx, lse;
  warp_row_stats(xr, c, lane, &mx, &lse);
  if (lane == 0) out[r] = lse - (xr[l] - mx);
}

template <typename T, typename I>
__global__ void sparse_cce_grad_kernel(const T* x, const I* labels, const T* g, T* out, int64_t rows, int64_t c,
                                       int* bad) {
  KC_WARP_ROW(rows)
  const I l = labels[r];
  if (l < 0 || l >= c) {
    if (lane == 0) *bad = 1;
    return;
  }
  const T* xr = x + r * c;
  T mx, lse;
  warp_row_stats(xr, c, lane, &mx, &lse);
  for (int64_t j = lane; j < c; j += kWarp) out[r * c + j] = g[r] * exp(xr[j] - mx - lse) - (j == l ? g[r] : T(0));
}

template <typename T>
__global__ void bce_kernel(const T* x, const T* y, T* out, int64_t n) {
  KC_GRID_STRIDE(i, n) out[i] = fmax(x[i], T(0)) - x[i] * y[i] + log1p(exp(-fabs(x[i])));
}

template <typename T>
__global__ void bce_grad_kernel(const T* x, const T* y, const T* g, T* out, int64_t n) {
  KC_GRID_STRIDE(i, n) {
    const T s = x[i] >= T(0) ? T(1) / (T(1) + exp(-x[i])) : exp(x[i]) / (T(1) + exp(x[i]));
    out[i] = g[i] * (s - y[i]);
  }
}

template <typename T>
__global__ void mean_error_kernel(ErrorKind kind, const T* p, const T* y, T* out, int64_t rows, int64_t c) {
  KC_GRID_STRIDE(r, rows) {
    T acc = 0;
    for (int64_t j = 0; j < c; ++j) {
      const T d = p[r * c + j] - y[r * c + j];
      acc += kind == ErrorKind::squared ? d * d : fabs(d);
    }
    out[r] = acc / T(c);
  }
}

template <typename T>
__global__ void mean_error_grad_kernel(ErrorKind kind, const T* p, const T* y, const T* g, T* out, int64_t rows,
                                       int64_t c) {
  KC_GRID_STRIDE(i, rows * c) {
    const T s = g[i / c] / T(c);
    const T d = p[i] - y[i];
    out[i] = kind == ErrorKind::squared ? T(2) * d * s : (d > T(0) ? s : (d < T(0) ? -s : T(0)));
  }
}

// A device flag for label checks; read back (one small copy) after the kernel.
struct BadLabelFlag {
  Tensor flag = zeros({1}, DType::i32);
  int* get() { return ptr<int>(flag); }
  void raise_if_set(int64_t classes) {
    int host = 0;
    KC_CUDA(cudaMemcpy(&host, flag.raw(), sizeof(int), cudaMemcpyDeviceToHost));
    KCORE_CHECK(host == 0, "sparse_categorical_crossentropy: a label is out of range for " << classes << " classes");
  }
};

}  // namespace

void softmax_cross_entropy(const Tensor& x, const Tensor& y, int64_t rows, int64_t c, Tensor& out) {
  dispatch_float(x.dtype(), "categorical_crossentropy", [&](auto tag) {
    using T = decltype(tag);
    cce_kernel<T><<<row_blocks(rows), kThreads, 0, kStream>>>(ptr<T>(x), ptr<T>(y), ptr<T>(out), rows, c);
  });
  KC_LAUNCHED("categorical_crossentropy");
}

void softmax_cross_entropy_backward(const Tensor& x, const Tensor& y, const Tensor& g, int64_t rows, int64_t c,
                                    Tensor& out) {
  dispatch_float(x.dtype(), "categorical_crossentropy", [&](auto tag) {
    using T = decltype(tag);
    cce_grad_kernel<T>
        <<<row_blocks(rows), kThreads, 0, kStream>>>(ptr<T>(x), ptr<T>(y), ptr<T>(g), ptr<T>(out), rows, c);
  });
  KC_LAUNCHED("categorical_crossentropy backward");
}

void sparse_softmax_cross_entropy(const Tensor& x, const Tensor& l, int64_t rows, int64_t c, Tensor& out) {
  BadLabelFlag bad;
  dispatch_float(x.dtype(), "sparse_categorical_crossentropy", [&](auto tag) {
    using T = decltype(tag);
    dispatch_index(l.dtype(), "sparse_categorical_crossentropy", [&](auto itag) {
      using I = decltype(itag);
      sparse_cce_kernel<T, I>
          <<<row_blocks(rows), kThreads, 0, kStream>>>(ptr<T>(x), ptr<I>(l), ptr<T>(out), rows, c, bad.get());
    });
  });
  KC_LAUNCHED("sparse_categorical_crossentropy");
  bad.raise_if_set(c);
}

void sparse_softmax_cross_entropy_backward(const Tensor& x, const Tensor& l, const Tensor& g, int64_t rows, int64_t c,
                                           Tensor& out) {
  BadLabelFlag bad;
  dispatch_float(x.dtype(), "sparse_categorical_crossentropy", [&](auto tag) {
    using T = decltype(tag);
    dispatch_index(l.dtype(), "sparse_categorical_crossentropy", [&](auto itag) {
      using I = decltype(itag);
      sparse_cce_grad_kernel<T, I><<<row_blocks(rows), kThreads, 0, kStream>>>(ptr<T>(x), ptr<I>(l), ptr<T>(g),
                                                                               ptr<T>(out), rows, c, bad.get());
    });
  });
  KC_LAUNCHED("sparse_categorical_crossentropy backward");
  bad.raise_if_set(c);
}

void sigmoid_cross_entropy(const Tensor& x, const Tensor& y, Tensor& out) {
  const int64_t n = x.numel();
  dispatch_float(x.dtype(), "binary_crossentropy", [&](auto tag) {
    using T = decltype(tag);
    bce_kernel<T><<<grid_for(n), kThreads, 0, kStream>>>(ptr<T>(x), ptr<T>(y), ptr<T>(out), n);
  });
  KC_LAUNCHED("binary_crossentropy");
}

void sigmoid_cross_entropy_backward(const Tensor& x, const Tensor& y, const Tensor& g, Tensor& out) {
  const int64_t n = x.numel();
  dispatch_float(x.dtype(), "binary_crossentropy", [&](auto tag) {
    using T = decltype(tag);
    bce_grad_kernel<T><<<grid_for(n), kThreads, 0, kStream>>>(ptr<T>(x), ptr<T>(y), ptr<T>(g), ptr<T>(out), n);
  });
  KC_LAUNCHED("binary_crossentropy backward");
}

void mean_error(ErrorKind kind, const Tensor& p, const Tensor& y, int64_t rows, int64_t c, Tensor& out) {
  dispatch_float(p.dtype(), "mean_error", [&](auto tag) {
    using T = decltype(tag);
    mean_error_kernel<T><<<grid_for(rows), kThreads, 0, kStream>>>(kind, ptr<T>(p), ptr<T>(y), ptr<T>(out), rows, c);
  });
  KC_LAUNCHED("mean_error");
}

void mean_error_backward(ErrorKind kind, const Tensor& p, const Tensor& y, const Tensor& g, int64_t rows, int64_t c,
                         Tensor& out) {
  dispatch_float(p.dtype(), "mean_error backward", [&](auto tag) {
    using T = decltype(tag);
    mean_error_grad_kernel<T>
        <<<grid_for(rows * c), kThreads, 0, kStream>>>(kind, ptr<T>(p), ptr<T>(y), ptr<T>(g), ptr<T>(out), rows, c);
  });
  KC_LAUNCHED("mean_error backward");
}

}  // namespace kcore::cuda
