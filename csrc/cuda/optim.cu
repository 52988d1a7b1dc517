// Fused optimizer updates on CUDA, in place, over the operands ops/optim.cpp has checked (Keras 3 rules).
#include <cmath>

#include "cuda/common.cuh"
#include "cuda/table.h"

namespace kcore::cuda {
namespace {

template <typename T>
T* opt_ptr(const Tensor& t) {
  return t.defined() ? ptr<T>(t) : nullptr;
}

template <typename T>
__global__ void sgd_kernel(T* w, const T* g, T* m, int64_t n, T lr, T mu, bool nesterov) {
  KC_GRID_STRIDE(i, n) {
    if (!m) {
      w[i] -= lr * g[i];
    } else {
      m[i] = mu * m[i] - lr * g[i];
      w[i] += nesterov ? mu * m[i] - lr * g[i] : m[i];
    }
  }
}

template <typename T>
__global__ void adam_kernel(T* w, const T* g, T* m, T* v, T* vhat, int64_t n, T b1, T b2, T alpha, T eps) {
  KC_GRID_STRIDE(i, n) {
    m[i] += (g[i] - m[i]) * b1;
    v[i] += (g[i] * g[i] - v[i]) * b2;
    T denom = v[i];
    if (vhat) {
      vhat[i] = fmax(vhat[i], v[i]);
      denom = vhat[i];
    }
    w[i] -= alpha * m[i] / (sqrt(denom) + eps);
  }
}

template <typename T>
__global__ void rmsprop_kernel(T* w, const T* g, T* v, T* avg, T* mom, int64_t n, T rho, T lr, T eps, T mu) {
  KC_GRID_STRIDE(i, n) {
    const T gi = g[i];
    v[i] = rho * v[i] + (T(1) - rho) * gi * gi;
    T denom = v[i];
    if (avg) {
      avg[i] = rho * avg[i] + (T(1) - rho) * gi;
      denom -= avg[i] * avg[i];
    }
    const T step = lr * gi / sqrt(denom + eps);
    if (mom) {
      mom[i] = mu * mom[i] + step;
      w[i] -= mom[i];
    } else {
      w[i] -= step;
    }
  }
}

template <typename T>
__global__ void adagrad_kernel(T* w, const T* g, T* acc, int64_t n, T lr, T eps) {
  KC_GRID_STRIDE(i, n) {
    acc[i] += g[i] * g[i];
    w[i] -= lr * g[i] / sqrt(acc[i] + eps);
  }
}

template <typename T>
__global__ void adadelta_kernel(T* w, const T* g, T* eg, T* edx, int64_t n, T lr, T rho, T eps) {
  KC_GRID_STRIDE(i, n) {
    eg[i] = rho * eg[i] + (T(1) - rho) * g[i] * g[i];
    const T d = -sqrt(edx[i] + eps) / sqrt(eg[i] + eps) * g[i];
    edx[i] = rho * edx[i] + (T(1) - rho) * d * d;
    w[i] += lr * d;
  }
}

template <typename T>
__global__ void nadam_kernel(T* w, const T* g, T* m, T* v, int64_t n, T lr, T b1, T b2, T eps, T c_m, T c_g, T bias2) {
  KC_GRID_STRIDE(i, n) {
    const T gi = g[i];
    m[i] += (gi - m[i]) * b1;
    v[i] += (gi * gi - v[i]) * b2;
    const T m_hat = c_m * m[i] + c_g * gi;
    w[i] -= lr * m_hat / (sqrt(v[i] / bias2) + eps);
  }
}

template <typename T>
__global__ void adamax_kernel(T* w, const T* g, T* m, T* u, int64_t n, T scale, T b1, T beta2, T eps) {
  KC_GRID_STRIDE(i, n) {
    m[i] += (g[i] - m[i]) * b1;
    u[i] = fmax(beta2 * u[i], fabs(g[i]));
    w[i] -= scale * m[i] / (u[i] + eps);
  }
}

}  // namespace

#define KC_LAUNCH_UPDATE(op, kernel, ...) \
  do { \
    const int64_t n_ = w.numel(); \
    if (n_ == 0) return; \
    dispatch_float(w.dtype(), op, [&](auto tag) { \
      using T = decltype(tag); \
      kernel<T><<<grid_for(n_), kThreads, 0, kStream>>>(__VA_ARGS__); \
    }); \
    KC_LAUNCHED(op); \
  } while (0)

void sgd_update(Tensor& w, const Tensor& g, Tensor& m, double lr, double momentum, bool nesterov) {
  KC_LAUNCH_UPDATE("sgd", sgd_kernel, ptr<T>(w), ptr<T>(g), momentum != 0.0 ? ptr<T>(m) : nullptr, n_, T(lr),
                   T(momentum), nesterov);
}

void adam_update(Tensor& w, const Tensor& g, Tensor& m, Tensor& v, Tensor& vhat, double lr, double beta1, double beta2,
                 double eps, int64_t step) {
  const double alpha = lr * std::sqrt(1.0 - std::pow(beta2, (double)step)) / (1.0 - std::pow(beta1, (double)step));
  KC_LAUNCH_UPDATE("adam", adam_kernel, ptr<T>(w), ptr<T>(g), ptr<T>(m), ptr<T>(v), opt_ptr<T>(vhat), n_, T(1 - beta1),
                   T(1 - beta2), T(alpha), T(eps));
}

void rmsprop_update(Tensor& w, const Tensor& g, Tensor& v, Tensor& avg, Tensor& mom, double lr, double rho,
                    double momentum, double eps) {
  KC_LAUNCH_UPDATE("rmsprop", rmsprop_kernel, ptr<T>(w), ptr<T>(g), ptr<T>(v), opt_ptr<T>(avg), opt_ptr<T>(mom), n_,
                   T(rho), T(lr), T(eps), T(momentum));
}

void adagrad_update(Tensor& w, const Tensor& g, Tensor& acc, double lr, double eps) {
  KC_LAUNCH_UPDATE("adagrad", adagrad_kernel, ptr<T>(w), ptr<T>(g), ptr<T>(acc), n_, T(lr), T(eps));
}

void adadelta_update(Tensor& w, const Tensor& g, Tensor& eg, Tensor& edx, double lr, double rho, double eps) {
  KC_LAUNCH_UPDATE("adadelta", adadelta_kernel, ptr<T>(w), ptr<T>(g), ptr<T>(eg), ptr<T>(edx), n_, T(lr), T(rho),
                   T(eps));
}

void nadam_update(Tensor& w, const Tensor& g, Tensor& m, Tensor& v, double lr, double beta1, double beta2, double eps,
                  double c_m, double c_g, double bias2) {
  KC_LAUNCH_UPDATE("nadam", nadam_kernel, ptr<T>(w), ptr<T>(g), ptr<T>(m), ptr<T>(v), n_, T(lr), T(1 - beta1),
                   T(1 - beta2), T(eps), T(c_m), T(c_g), T(bias2));
}

void adamax_update(Tensor& w, const Tensor& g, Tensor& m, Tensor& u, double lr, double beta1, double beta2, double eps,
                   int64_t step) {
  const double scale = lr / (1.0 - std::pow(beta1, (double)step));
  KC_LAUNCH_UPDATE("adamax", adamax_kernel, ptr<T>(w), ptr<T>(g), ptr<T>(m), ptr<T>(u), n_, T(scale), T(1 - beta1),
                   T(beta2), T(eps));
}

}  // namespace kcore::cuda
