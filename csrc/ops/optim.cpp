// Fused optimizer updates: the device-independent entry points (updates run in place).
#include "ops/optim.h"

#include "ops/op_call.h"

namespace kcore {

void sgd_update(Tensor& w, const Tensor& g, const OptionalTensor& m, double lr, double momentum, bool nesterov) {
  OpCall call("sgd_update", w, g, m);
  Tensor slot = m;
  KCORE_KERNEL(call, sgd_update)(w, g, slot, lr, momentum, nesterov);
}

void adam_update(Tensor& w, const Tensor& g, Tensor& m, Tensor& v, const OptionalTensor& vhat, double lr,
                 double beta1, double beta2, double eps, int64_t step) {
  OpCall call("adam_update", w, g, m, v, vhat);
  Tensor hat = vhat;
  KCORE_KERNEL(call, adam_update)(w, g, m, v, hat, lr, beta1, beta2, eps, step);
}

void rmsprop_update(Tensor& w, const Tensor& g, Tensor& v, const OptionalTensor& avg, const OptionalTensor& mom,
                    double lr, double rho, double momentum, double eps) {
  OpCall call("rmsprop_update", w, g, v, avg, mom);
  Tensor a = avg, mo = mom;
  KCORE_KERNEL(call, rmsprop_update)(w, g, v, a, mo, lr, rho, momentum, eps);
}

void adagrad_update(Tensor& w, const Tensor& g, Tensor& acc, double lr, double eps) {
  OpCall call("adagrad_update", w, g, acc);
  KCORE_KERNEL(call, adagrad_update)(w, g, acc, lr, eps);
}

void adadelta_update(Tensor& w, const Tensor& g, Tensor& eg, Tensor& edx, double lr, double rho, double eps) {
  OpCall call("adadelta_update", w, g, eg, edx);
  KCORE_KERNEL(call, adadelta_update)(w, g, eg, edx, lr, rho, eps);
}

void nadam_update(Tensor& w, const Tensor& g, Tensor& m, Tensor& v, double lr, double beta1, double beta2,
                  double eps, double c_m, double c_g, double bias2) {
  OpCall call("nadam_update", w, g, m, v);
  KCORE_KERNEL(call, nadam_update)(w, g, m, v, lr, beta1, beta2, eps, c_m, c_g, bias2);
}

void adamax_update(Tensor& w, const Tensor& g, Tensor& m, Tensor& u, double lr, double beta1, double beta2,
                   double eps, int64_t step) {
  OpCall call("adamax_update", w, g, m, u);
  KCORE_KERNEL(call, adamax_update)(w, g, m, u, lr, beta1, beta2, eps, step);
}

}  // namespace kcore
