// CPU optimizer updates over the operands ops/optim.cpp has checked (in place).
#include "ops/optim.h"

#include <cmath>

#include "core/parallel.h"

namespace kcore::cpu {


void sgd_update(Tensor& w, const Tensor& g, Tensor& m, double lr, double momentum, bool nesterov) {
  dispatch_float(w.dtype(), "sgd", [&](auto tag) {
    using T = decltype(tag);
    T* wp = w.data<T>();
    const T* gp = g.data<T>();
    const T a = T(lr), mu = T(momentum);
    T* mp = momentum != 0.0 ? m.data<T>() : nullptr;
    parallel_for(w.numel(), 1 << 15, [&](int64_t lo, int64_t hi) {
      if (!mp) {
        for (int64_t i = lo; i < hi; ++i) wp[i] -= a * gp[i];
      } else if (!nesterov) {
        for (int64_t i = lo; i < hi; ++i) {
          mp[i] = mu * mp[i] - a * gp[i];
          wp[i] += mp[i];
        }
      } else {
        for (int64_t i = lo; i < hi; ++i) {
          mp[i] = mu * mp[i] - a * gp[i];
          wp[i] += mu * mp[i] - a * gp[i];
        }
      }
    });
  });
}

// Pointers arrive as arguments (not lambda captures) so the compiler can vectorise the loop.
template <typename T>
void adam_loop(int64_t n, T* __restrict w, const T* __restrict g, T* __restrict m, T* __restrict v, T* __restrict vhat,
               T b1, T b2, T alpha, T eps) {
  for (int64_t i = 0; i < n; ++i) {
    m[i] += (g[i] - m[i]) * b1;
    v[i] += (g[i] * g[i] - v[i]) * b2;
  }
  if (vhat) {
    for (int64_t i = 0; i < n; ++i) {
      vhat[i] = std::max(vhat[i], v[i]);
      w[i] -= alpha * m[i] / (std::sqrt(vhat[i]) + eps);
    }
  } else {
    for (int64_t i = 0; i < n; ++i) w[i] -= alpha * m[i] / (std::sqrt(v[i]) + eps);
  }
}

void adam_update(Tensor& w, const Tensor& g, Tensor& m, Tensor& v, Tensor& vhat, double lr, double beta1, double beta2,
                 double eps, int64_t step) {
  const bool ams = vhat.defined();
  const double alpha = lr * std::sqrt(1.0 - std::pow(beta2, (double)step)) / (1.0 - std::pow(beta1, (double)step));
  dispatch_float(w.dtype(), "adam", [&](auto tag) {
    using T = decltype(tag);
    T* wp = w.data<T>();
    const T* gp = g.data<T>();
    T* mp = m.data<T>();
    T* vp = v.data<T>();
    T* hp = ams ? vhat.data<T>() : nullptr;
    parallel_for(w.numel(), 1 << 15, [&](int64_t lo, int64_t hi) {
      adam_loop<T>(hi - lo, wp + lo, gp + lo, mp + lo, vp + lo, hp ? hp + lo : nullptr, T(1 - beta1), T(1 - beta2),
                   T(alpha), T(eps));
    });
  });
}

namespace {
// Runs body over every element in parallel with typed pointers: the per-optimizer rule is the only
// thing each update function spells out.
template <typename Body>
void elementwise_update(const char* op, Tensor& w, const Tensor& g, Body&& body) {
  dispatch_float(w.dtype(), op, [&](auto tag) {
    using T = decltype(tag);
    T* wp = w.data<T>();
    const T* gp = g.data<T>();
    parallel_for(w.numel(), 1 << 15, [&](int64_t lo, int64_t hi) { body(tag, wp, gp, lo, hi); });
  });
}

template <typename T>
T* slot_ptr(Tensor& s) {
  return s.defined() ? s.data<T>() : nullptr;
}
}  // namespace

void rmsprop_update(Tensor& w, const Tensor& g, Tensor& v, Tensor& avg, Tensor& mom, double lr, double rho,
                    double momentum, double eps) {
  elementwise_update("rmsprop", w, g, [&](auto tag, auto* wp, const auto* gp, int64_t lo, int64_t hi) {
    using T = decltype(tag);
    T* vp = v.data<T>();
    T* ap = slot_ptr<T>(avg);
    T* mp = slot_ptr<T>(mom);
    const T r = T(rho), a = T(lr), e = T(eps), mu = T(momentum);
    for (int64_t i = lo; i < hi; ++i) {
      const T gi = gp[i];
      vp[i] = r * vp[i] + (T(1) - r) * gi * gi;
      T denom = vp[i];
      if (ap) {
        ap[i] = r * ap[i] + (T(1) - r) * gi;
        denom -= ap[i] * ap[i];
      }
      const T step = a * gi / std::sqrt(denom + e);
      if (mp) {
        mp[i] = mu * mp[i] + step;
        wp[i] -= mp[i];
      } else {
        wp[i] -= step;
      }
    }
  });
}

void adagrad_update(Tensor& w, const Tensor& g, Tensor& acc, double lr, double eps) {
  elementwise_update("adagrad", w, g, [&](auto tag, auto* wp, const auto* gp, int64_t lo, int64_t hi) {
    using T = decltype(tag);
    T* ap = acc.data<T>();
    for (int64_t i = lo; i < hi; ++i) {
      ap[i] += gp[i] * gp[i];
      wp[i] -= T(lr) * gp[i] / std::sqrt(ap[i] + T(eps));
    }
  });
}

void adadelta_update(Tensor& w, const Tensor& g, Tensor& eg, Tensor& edx, double lr, double rho, double eps) {
  elementwise_update("adadelta", w, g, [&](auto tag, auto* wp, const auto* gp, int64_t lo, int64_t hi) {
    using T = decltype(tag);
    T* egp = eg.data<T>();
    T* edp = edx.data<T>();
    const T r = T(rho), e = T(eps);
    for (int64_t i = lo; i < hi; ++i) {
      egp[i] = r * egp[i] + (T(1) - r) * gp[i] * gp[i];
      const T d = -std::sqrt(edp[i] + e) / std::sqrt(egp[i] + e) * gp[i];
      edp[i] = r * edp[i] + (T(1) - r) * d * d;
      wp[i] += T(lr) * d;
    }
  });
}

void nadam_update(Tensor& w, const Tensor& g, Tensor& m, Tensor& v, double lr, double beta1, double beta2, double eps,
                  double c_m, double c_g, double bias2) {
  elementwise_update("nadam", w, g, [&](auto tag, auto* wp, const auto* gp, int64_t lo, int64_t hi) {
    using T = decltype(tag);
    T* mp = m.data<T>();
    T* vp = v.data<T>();
    for (int64_t i = lo; i < hi; ++i) {
      const T gi = gp[i];
      mp[i] += (gi - mp[i]) * T(1 - beta1);
      vp[i] += (gi * gi - vp[i]) * T(1 - beta2);
      const T m_hat = T(c_m) * mp[i] + T(c_g) * gi;
      wp[i] -= T(lr) * m_hat / (std::sqrt(vp[i] / T(bias2)) + T(eps));
    }
  });
}

void adamax_update(Tensor& w, const Tensor& g, Tensor& m, Tensor& u, double lr, double beta1, double beta2, double eps,
                   int64_t step) {
  const double scale = lr / (1.0 - std::pow(beta1, (double)step));
  elementwise_update("adamax", w, g, [&](auto tag, auto* wp, const auto* gp, int64_t lo, int64_t hi) {
    using T = decltype(tag);
    T* mp = m.data<T>();
    T* up = u.data<T>();
    for (int64_t i = lo; i < hi; ++i) {
      mp[i] += (gp[i] - mp[i]) * T(1 - beta1);
      up[i] = std::max(T(beta2) * up[i], std::abs(gp[i]));
      wp[i] -= T(scale) * mp[i] / (up[i] + T(eps));
    }
  });
}

}  // namespace kcore::cpu
