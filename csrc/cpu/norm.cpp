#include "ops/norm.h"

#include <cmath>
#include <vector>

#include "core/parallel.h"
#include "ops/arguments.h"

namespace kcore {

namespace {
using arguments::ChannelGeometry;
using arguments::channel_geometry;

// Visits every element of channel c: fn(index).
template <typename Fn>
inline void for_channel(const ChannelGeometry& g, int64_t c, Fn&& fn) {
  for (int64_t o = 0; o < g.outer; ++o) {
    const int64_t base = (o * g.channels + c) * g.inner;
    for (int64_t i = 0; i < g.inner; ++i) fn(base + i);
  }
}
}  // namespace

std::tuple<Tensor, Tensor, Tensor> batch_norm_train(const Tensor& x_in, const Tensor& gamma_in,
                                                    const Tensor& beta_in, int64_t axis, double eps) {
  Tensor x = x_in.contiguous(), gamma = gamma_in.contiguous(), beta = beta_in.contiguous();
  ChannelGeometry g = channel_geometry(x, axis, {{"gamma", gamma}, {"beta", beta}}, "batch_normalization");
  const int64_t count = g.outer * g.inner;
  KCORE_CHECK(count > 0, "batch_normalization: cannot compute batch statistics of an empty batch");
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  Tensor mean = Tensor::empty({g.channels}, x.dtype()), var = Tensor::empty({g.channels}, x.dtype());
  dispatch_float(x.dtype(), "batch_normalization", [&](auto tag) {
    using T = decltype(tag);
    const T* xp = x.data<T>();
    T* yp = y.data<T>();
    parallel_for(g.channels, 1, [&](int64_t lo, int64_t hi) {
      for (int64_t c = lo; c < hi; ++c) {
        double s = 0, ss = 0;
        for_channel(g, c, [&](int64_t i) { s += xp[i]; });
        const double m = s / count;
        for_channel(g, c, [&](int64_t i) { ss += (xp[i] - m) * (xp[i] - m); });
        const double v = ss / count;
        const T scale = T(gamma.data<T>()[c] / std::sqrt(v + eps)), shift = beta.data<T>()[c];
        for_channel(g, c, [&](int64_t i) { yp[i] = (xp[i] - T(m)) * scale + shift; });
        mean.data<T>()[c] = T(m);
        var.data<T>()[c] = T(v);
      }
    });
  });
  return {y, mean, var};
}

Tensor batch_norm_infer(const Tensor& x_in, const Tensor& gamma_in, const Tensor& beta_in, const Tensor& mean_in,
                        const Tensor& var_in, int64_t axis, double eps) {
  Tensor x = x_in.contiguous(), gamma = gamma_in.contiguous(), beta = beta_in.contiguous();
  Tensor mean = mean_in.contiguous(), var = var_in.contiguous();
  ChannelGeometry g = channel_geometry(
      x, axis, {{"gamma", gamma}, {"beta", beta}, {"mean", mean}, {"variance", var}}, "batch_normalization");
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  dispatch_float(x.dtype(), "batch_normalization", [&](auto tag) {
    using T = decltype(tag);
    const T* xp = x.data<T>();
    T* yp = y.data<T>();
    parallel_for(g.channels, 1, [&](int64_t lo, int64_t hi) {
      for (int64_t c = lo; c < hi; ++c) {
        const T scale = T(gamma.data<T>()[c] / std::sqrt(double(var.data<T>()[c]) + eps));
        const T shift = beta.data<T>()[c] - mean.data<T>()[c] * scale;
        for_channel(g, c, [&](int64_t i) { yp[i] = xp[i] * scale + shift; });
      }
    });
  });
  return y;
}

std::tuple<Tensor, Tensor, Tensor> batch_norm_backward(const Tensor& x_in, const Tensor& gamma_in,
                                                       const Tensor& mean_in, const Tensor& var_in,
                                                       const Tensor& grad_in, int64_t axis, double eps,
                                                       bool training) {
  Tensor x = x_in.contiguous(), gamma = gamma_in.contiguous(), mean = mean_in.contiguous(), var = var_in.contiguous();
  Tensor dy = grad_in.contiguous();
  check_same_shape(x, dy, "batch_normalization backward");
  ChannelGeometry g = channel_geometry(x, axis, {{"gamma", gamma}, {"mean", mean}, {"variance", var}},
                                       "batch_normalization backward");
  const double count = double(g.outer * g.inner);
  Tensor dx = Tensor::empty(x.shape(), x.dtype());
  Tensor dgamma = Tensor::empty({g.channels}, x.dtype()), dbeta = Tensor::empty({g.channels}, x.dtype());
  dispatch_float(x.dtype(), "batch_normalization backward", [&](auto tag) {
    using T = decltype(tag);
    const T* xp = x.data<T>();
    const T* gp = dy.data<T>();
    T* dxp = dx.data<T>();
    parallel_for(g.channels, 1, [&](int64_t lo, int64_t hi) {
      for (int64_t c = lo; c < hi; ++c) {
        const double m = mean.data<T>()[c], inv = 1.0 / std::sqrt(double(var.data<T>()[c]) + eps);
        double sum_dy = 0, sum_dy_xhat = 0;
        for_channel(g, c, [&](int64_t i) {
          sum_dy += gp[i];
          sum_dy_xhat += gp[i] * (xp[i] - m) * inv;
        });
        const double gam = gamma.data<T>()[c];
        dgamma.data<T>()[c] = T(sum_dy_xhat);
        dbeta.data<T>()[c] = T(sum_dy);
        if (training) {
          const double k = gam * inv / count;
          for_channel(g, c, [&](int64_t i) {
            const double xhat = (xp[i] - m) * inv;
            dxp[i] = T(k * (count * gp[i] - sum_dy - xhat * sum_dy_xhat));
          });
        } else {
          const T k = T(gam * inv);
          for_channel(g, c, [&](int64_t i) { dxp[i] = gp[i] * k; });
        }
      }
    });
  });
  return {dx, dgamma, dbeta};
}

std::tuple<Tensor, Tensor, Tensor> layer_norm(const Tensor& x_in, const Tensor& gamma_in, const Tensor& beta_in,
                                              int64_t d, double eps) {
  check_float(x_in, "layer_normalization", "x");
  Tensor x = x_in.contiguous(), gamma = gamma_in.contiguous(), beta = beta_in.contiguous();
  const int64_t rows = arguments::layer_norm_rows(x, d, {{"gamma", gamma}, {"beta", beta}}, "layer_normalization");
  Tensor y = Tensor::empty(x.shape(), x.dtype());
  Tensor mean = Tensor::empty({rows}, x.dtype()), inv_std = Tensor::empty({rows}, x.dtype());
  dispatch_float(x.dtype(), "layer_normalization", [&](auto tag) {
    using T = decltype(tag);
    const T* gm = gamma.data<T>();
    const T* bt = beta.data<T>();
    parallel_for(rows, std::max<int64_t>(1, 4096 / d), [&](int64_t lo, int64_t hi) {
      for (int64_t r = lo; r < hi; ++r) {
        const T* xr = x.data<T>() + r * d;
        T* yr = y.data<T>() + r * d;
        double s = 0, ss = 0;
        for (int64_t j = 0; j < d; ++j) s += xr[j];
        const double m = s / d;
        for (int64_t j = 0; j < d; ++j) ss += (xr[j] - m) * (xr[j] - m);
        const double inv = 1.0 / std::sqrt(ss / d + eps);
        for (int64_t j = 0; j < d; ++j) yr[j] = T((xr[j] - m) * inv) * gm[j] + bt[j];
        mean.data<T>()[r] = T(m);
        inv_std.data<T>()[r] = T(inv);
      }
    });
  });
  return {y, mean, inv_std};
}

std::tuple<Tensor, Tensor, Tensor> layer_norm_backward(const Tensor& x_in, const Tensor& gamma_in,
                                                       const Tensor& mean_in, const Tensor& inv_in,
                                                       const Tensor& grad_in, int64_t d) {
  Tensor x = x_in.contiguous(), gamma = gamma_in.contiguous(), mean = mean_in.contiguous();
  Tensor inv_std = inv_in.contiguous(), dy = grad_in.contiguous();
  check_same_shape(x, dy, "layer_normalization backward");
  const int64_t rows = arguments::layer_norm_rows(x, d, {{"gamma", gamma}}, "layer_normalization backward");
  arguments::check_param_sizes(x, rows, {{"mean", mean}, {"inv_std", inv_std}}, "layer_normalization backward", "row");
  Tensor dx = Tensor::empty(x.shape(), x.dtype());
  Tensor dgamma = Tensor::zeros({d}, x.dtype()), dbeta = Tensor::zeros({d}, x.dtype());
  dispatch_float(x.dtype(), "layer_normalization backward", [&](auto tag) {
    using T = decltype(tag);
    const T* gm = gamma.data<T>();
    parallel_for(rows, std::max<int64_t>(1, 4096 / d), [&](int64_t lo, int64_t hi) {
      for (int64_t r = lo; r < hi; ++r) {
        const T* xr = x.data<T>() + r * d;
        const T* gr = dy.data<T>() + r * d;
        T* dxr = dx.data<T>() + r * d;
        const double m = mean.data<T>()[r], inv = inv_std.data<T>()[r];
        double sum_g = 0, sum_g_xhat = 0;
        for (int64_t j = 0; j < d; ++j) {
          const double gh = double(gr[j]) * gm[j];
          sum_g += gh;
          sum_g_xhat += gh * (xr[j] - m) * inv;
        }
        for (int64_t j = 0; j < d; ++j) {
          const double xhat = (xr[j] - m) * inv;
          dxr[j] = T(inv / d * (d * double(gr[j]) * gm[j] - sum_g - xhat * sum_g_xhat));
        }
      }
    });
    // Parameter gradients: column sums, each thread owning a range of columns (deterministic).
    parallel_for(d, 64, [&](int64_t lo, int64_t hi) {
      std::vector<double> dg(hi - lo, 0.0), db(hi - lo, 0.0);
      for (int64_t r = 0; r < rows; ++r) {
        const T* xr = x.data<T>() + r * d;
        const T* gr = dy.data<T>() + r * d;
        const double m = mean.data<T>()[r], inv = inv_std.data<T>()[r];
        for (int64_t j = lo; j < hi; ++j) {
          dg[j - lo] += gr[j] * (xr[j] - m) * inv;
          db[j - lo] += gr[j];
        }
      }
      for (int64_t j = lo; j < hi; ++j) {
        dgamma.data<T>()[j] = T(dg[j - lo]);
        dbeta.data<T>()[j] = T(db[j - lo]);
      }
    });
  });
  return {dx, dgamma, dbeta};
}

}  // namespace kcore
