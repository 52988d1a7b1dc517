// Batch and layer normalisation on CUDA, mirroring csrc/cpu/norm.cpp: statistics in double,
// one block per channel (batch norm) or per row (layer norm).
#include <cmath>

#include "cuda/common.cuh"
#include "cuda/table.h"
#include "ops/norm.h"

namespace kcore::cuda {
namespace {
using arguments::ChannelGeometry;


// Flat position j of channel c's elements -> index into x.
__device__ inline int64_t channel_index(ChannelGeometry g, int64_t c, int64_t j) {
  const int64_t o = j / g.inner, i = j - o * g.inner;
  return (o * g.channels + c) * g.inner + i;
}

template <typename T>
__global__ void bn_train_kernel(const T* x, const T* gamma, const T* beta, T* y, T* mean, T* var, ChannelGeometry g,
                                double eps) {
  __shared__ double scratch[kThreads];
  const int64_t c = blockIdx.x, count = g.outer * g.inner;
  double s = 0;
  for (int64_t j = threadIdx.x; j < count; j += blockDim.x) s += x[channel_index(g, c, j)];
  const double m = block_sum(s, scratch) / count;
  double ss = 0;
  for (int64_t j = threadIdx.x; j < count; j += blockDim.x) {
    const double d = x[channel_index(g, c, j)] - m;
    ss += d * d;
  }
  const double v = block_sum(ss, scratch) / count;
  const T scale = T(gamma[c] / sqrt(v + eps)), shift = beta[c];
  for (int64_t j = threadIdx.x; j < count; j += blockDim.x) {
    const int64_t i = channel_index(g, c, j);
    y[i] = (x[i] - T(m)) * scale + shift;
  }
  if (threadIdx.x == 0) {
    mean[c] = T(m);
    var[c] = T(v);
  }
}

template <typename T>
__global__ void bn_infer_kernel(const T* x, const T* gamma, const T* beta, const T* mean, const T* var, T* y,
                                ChannelGeometry g, double eps, int64_t n) {
  KC_GRID_STRIDE(i, n) {
    const int64_t c = (i / g.inner) % g.channels;
    const T scale = T(gamma[c] / sqrt(double(var[c]) + eps));
    const T shift = beta[c] - mean[c] * scale;
    y[i] = x[i] * scale + shift;
  }
}

template <typename T>
__global__ void bn_backward_kernel(const T* x, const T* gamma, const T* mean, const T* var, const T* dy, T* dx,
                                   T* dgamma, T* dbeta, ChannelGeometry g, double eps, bool training) {
  __shared__ double scratch[kThreads];
  const int64_t c = blockIdx.x, n = g.outer * g.inner;
  const double count = double(n);
  const double m = mean[c], inv = 1.0 / sqrt(double(var[c]) + eps);
  double s_dy = 0, s_dy_xhat = 0;
  for (int64_t j = threadIdx.x; j < n; j += blockDim.x) {
    const int64_t i = channel_index(g, c, j);
    s_dy += dy[i];
    s_dy_xhat += dy[i] * (x[i] - m) * inv;
  }
  const double sum_dy = block_sum(s_dy, scratch);
  const double sum_dy_xhat = block_sum(s_dy_xhat, scratch);
  const double gam = gamma[c];
  if (threadIdx.x == 0) {
    dgamma[c] = T(sum_dy_xhat);
    dbeta[c] = T(sum_dy);
  }
  const double k = training ? gam * inv / count : gam * inv;
  for (int64_t j = threadIdx.x; j < n; j += blockDim.x) {
    const int64_t i = channel_index(g, c, j);
    if (training) {
      const double xhat = (x[i] - m) * inv;
      dx[i] = T(k * (count * dy[i] - sum_dy - xhat * sum_dy_xhat));
    } else {
      dx[i] = dy[i] * T(k);
    }
  }
}

template <typename T>
__global__ void ln_kernel(const T* x, const T* gamma, const T* beta, T* y, T* mean, T* inv_std, int64_t d, double eps) {
  __shared__ double scratch[kThreads];
  const T* xr = x + (int64_t)blockIdx.x * d;
  T* yr = y + (int64_t)blockIdx.x * d;
  double s = 0;
  for (int64_t j = threadIdx.x; j < d; j += blockDim.x) s += xr[j];
  const double m = block_sum(s, scratch) / d;
  double ss = 0;
  for (int64_t j = threadIdx.x; j < d; j += blockDim.x) ss += (xr[j] - m) * (xr[j] - m);
  const double inv = 1.0 / sqrt(block_sum(ss, scratch) / d + eps);
  for (int64_t j = threadIdx.x; j < d; j += blockDim.x) yr[j] = T((xr[j] - m) * inv) * gamma[j] + beta[j];
  if (threadIdx.x == 0) {
    mean[blockIdx.x] = T(m);
    inv_std[blockIdx.x] = T(inv);
  }
}

template <typename T>
__global__ void ln_backward_kernel(const T* x, const T* gamma, const T* mean, const T* inv_std, const T* dy, T* dx,
                                   int64_t d) {
  __shared__ double scratch[kThreads];
  const int64_t r = blockIdx.x;
  const T* xr = x + r * d;
  const T* gr = dy + r * d;
  T* dxr = dx + r * d;
  const double m = mean[r], inv = inv_std[r];
  double s_g = 0, s_g_xhat = 0;
  for (int64_t j = threadIdx.x; j < d; j += blockDim.x) {
    const double gh = double(gr[j]) * gamma[j];
    s_g += gh;
    s_g_xhat += gh * (xr[j] - m) * inv;
  }
  const double sum_g = block_sum(s_g, scratch), sum_g_xhat = block_sum(s_g_xhat, scratch);
  for (int64_t j = threadIdx.x; j < d; j += blockDim.x) {
    const double xhat = (xr[j] - m) * inv;
    dxr[j] = T(inv / d * (d * double(gr[j]) * gamma[j] - sum_g - xhat * sum_g_xhat));
  }
}

// dgamma / dbeta: one thread per normalised column, summing over rows in double.
template <typename T>
__global__ void ln_param_grad_kernel(const T* x, const T* mean, const T* inv_std, const T* dy, T* dgamma, T* dbeta,
                                     int64_t rows, int64_t d) {
  KC_GRID_STRIDE(j, d) {
    double dg = 0, db = 0;
    for (int64_t r = 0; r < rows; ++r) {
      const double gv = dy[r * d + j];
      dg += gv * (x[r * d + j] - double(mean[r])) * double(inv_std[r]);
      db += gv;
    }
    dgamma[j] = T(dg);
    dbeta[j] = T(db);
  }
}

}  // namespace

void batch_norm_train(const ChannelGeometry& g, const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps,
                      Tensor& y, Tensor& mean, Tensor& var) {
  dispatch_float(x.dtype(), "batch_normalization", [&](auto tag) {
    using T = decltype(tag);
    bn_train_kernel<T><<<(unsigned)g.channels, kThreads, 0, kStream>>>(ptr<T>(x), ptr<T>(gamma), ptr<T>(beta),
                                                                       ptr<T>(y), ptr<T>(mean), ptr<T>(var), g, eps);
  });
  KC_LAUNCHED("batch_normalization");
}

void batch_norm_infer(const ChannelGeometry& g, const Tensor& x, const Tensor& gamma, const Tensor& beta,
                      const Tensor& mean, const Tensor& var, double eps, Tensor& y) {
  const int64_t n = x.numel();
  dispatch_float(x.dtype(), "batch_normalization", [&](auto tag) {
    using T = decltype(tag);
    bn_infer_kernel<T><<<grid_for(n), kThreads, 0, kStream>>>(ptr<T>(x), ptr<T>(gamma), ptr<T>(beta), ptr<T>(mean),
                                                              ptr<T>(var), ptr<T>(y), g, eps, n);
  });
  KC_LAUNCHED("batch_normalization");
}

void batch_norm_backward(const ChannelGeometry& g, const Tensor& x, const Tensor& gamma, const Tensor& mean,
                         const Tensor& var, const Tensor& dy, double eps, bool training, Tensor& dx, Tensor& dgamma,
                         Tensor& dbeta) {
  dispatch_float(x.dtype(), "batch_normalization backward", [&](auto tag) {
    using T = decltype(tag);
    bn_backward_kernel<T><<<(unsigned)g.channels, kThreads, 0, kStream>>>(
        ptr<T>(x), ptr<T>(gamma), ptr<T>(mean), ptr<T>(var), ptr<T>(dy), ptr<T>(dx), ptr<T>(dgamma), ptr<T>(dbeta), g,
        eps, training);
  });
  KC_LAUNCHED("batch_normalization backward");
}

void layer_norm(int64_t rows, int64_t d, const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps,
                Tensor& y, Tensor& mean, Tensor& inv_std) {
  dispatch_float(x.dtype(), "layer_normalization", [&](auto tag) {
    using T = decltype(tag);
    ln_kernel<T><<<(unsigned)rows, kThreads, 0, kStream>>>(ptr<T>(x), ptr<T>(gamma), ptr<T>(beta), ptr<T>(y),
                                                           ptr<T>(mean), ptr<T>(inv_std), d, eps);
  });
  KC_LAUNCHED("layer_normalization");
}

void layer_norm_backward(int64_t rows, int64_t d, const Tensor& x, const Tensor& gamma, const Tensor& mean,
                         const Tensor& inv_std, const Tensor& dy, Tensor& dx, Tensor& dgamma, Tensor& dbeta) {
  dispatch_float(x.dtype(), "layer_normalization backward", [&](auto tag) {
    using T = decltype(tag);
    ln_backward_kernel<T><<<(unsigned)rows, kThreads, 0, kStream>>>(ptr<T>(x), ptr<T>(gamma), ptr<T>(mean),
                                                                    ptr<T>(inv_std), ptr<T>(dy), ptr<T>(dx), d);
    ln_param_grad_kernel<T><<<grid_for(d), kThreads, 0, kStream>>>(ptr<T>(x), ptr<T>(mean), ptr<T>(inv_std), ptr<T>(dy),
                                                                   ptr<T>(dgamma), ptr<T>(dbeta), rows, d);
  });
  KC_LAUNCHED("layer_normalization backward");
}

}  // namespace kcore::cuda
