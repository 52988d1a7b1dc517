#include "ops/optim.h"

#include <cmath>

#include "core/parallel.h"

namespace kcore {

namespace {
void check_slot(const Tensor& w, const Tensor& s, const char* op, const char* name) {
  check_float(s, op, name);
  check_same_dtype(w, s, op);
  KCORE_CHECK(s.shape() == w.shape(), op << ": " << name << " of shape " << shape_str(s.shape())
                                         << " does not match variable of shape " << shape_str(w.shape()));
  KCORE_CHECK(s.is_contiguous(), op << ": " << name << " must be contiguous");
}
}  // namespace

void sgd_update(Tensor& w, const Tensor& g_in, Tensor& m, double lr, double momentum, bool nesterov) {
  check_float(w, "sgd", "variable");
  KCORE_CHECK(w.is_contiguous(), "sgd: variable must be contiguous");
  check_slot(w, g_in, "sgd", "gradient");
  Tensor g = g_in.contiguous();
  if (momentum != 0.0) check_slot(w, m, "sgd", "momentum");
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

void adam_update(Tensor& w, const Tensor& g_in, Tensor& m, Tensor& v, Tensor& vhat, double lr, double beta1,
                 double beta2, double eps, int64_t step) {
  check_float(w, "adam", "variable");
  KCORE_CHECK(w.is_contiguous(), "adam: variable must be contiguous");
  check_slot(w, g_in, "adam", "gradient");
  check_slot(w, m, "adam", "momentum");
  check_slot(w, v, "adam", "velocity");
  const bool ams = vhat.defined();
  if (ams) check_slot(w, vhat, "adam", "velocity_hat");
  KCORE_CHECK(step >= 1, "adam: step must be >= 1");
  Tensor g = g_in.contiguous();
  const double alpha = lr * std::sqrt(1.0 - std::pow(beta2, (double)step)) / (1.0 - std::pow(beta1, (double)step));
  dispatch_float(w.dtype(), "adam", [&](auto tag) {
    using T = decltype(tag);
    T* wp = w.data<T>();
    const T* gp = g.data<T>();
    T* mp = m.data<T>();
    T* vp = v.data<T>();
    T* hp = ams ? vhat.data<T>() : nullptr;
    const T b1 = T(1 - beta1), b2 = T(1 - beta2), a = T(alpha), e = T(eps);
    parallel_for(w.numel(), 1 << 15, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) {
        const T gi = gp[i];
        mp[i] += (gi - mp[i]) * b1;
        vp[i] += (gi * gi - vp[i]) * b2;
        T vv = vp[i];
        if (hp) {
          hp[i] = std::max(hp[i], vv);
          vv = hp[i];
        }
        wp[i] -= a * mp[i] / (std::sqrt(vv) + e);
      }
    });
  });
}

}  // namespace kcore
