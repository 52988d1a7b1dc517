#include "ops/norm.h"

#include <cmath>
#include <vector>

#include "core/parallel.h"
#include "ops/arguments.h"

namespace kcore::cpu {

namespace {
using arguments::ChannelGeometry;

// Visits every element of channel c: fn(index).
template <typename Fn>
inline void for_channel(const ChannelGeometry& g, int64_t c, Fn&& fn) {
  for (int64_t o = 0; o < g.outer; ++o) {
    const int64_t base = (o * g.channels + c) * g.inner;
    for (int64_t i = 0; i < g.inner; ++i) fn(base + i);
  }
}
}  // namespace

void batch_norm_train(const ChannelGeometry& g, const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps,
                      Tensor& y, Tensor& mean, Tensor& var) {
  const int64_t count = g.outer * g.inner;
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
}

void batch_norm_infer(const ChannelGeometry& g, const Tensor& x, const Tensor& gamma, const Tensor& beta,
                      const Tensor& mean, const Tensor& var, double eps, Tensor& y) {
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
}

void batch_norm_backward(const ChannelGeometry& g, const Tensor& x, const Tensor& gamma, const Tensor& mean,
                         const Tensor& var, const Tensor& dy, double eps, bool training, Tensor& dx, Tensor& dgamma,
                         Tensor& dbeta) {
  const double count = double(g.outer * g.inner);
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
}

void layer_norm(int64_t rows, int64_t d, const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps,
                Tensor& y, Tensor& mean, Tensor& inv_std) {
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
}

void layer_norm_backward(int64_t rows, int64_t d, const Tensor& x, const Tensor& gamma, const Tensor& mean,
                         const Tensor& inv_std, const Tensor& dy, Tensor& dx, Tensor& dgamma, Tensor& dbeta) {
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
}

}  // namespace kcore::cpu
