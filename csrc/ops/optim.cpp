// Fused optimizer updates: the device-independent entry points (checks; updates run in place).
#include "ops/optim.h"

#include <initializer_list>

#include "ops/op_call.h"

namespace kcore {

namespace {
struct Slot {
  const Tensor& t;
  const char* name;
  bool required;
};

// Checks the variable, its gradient and its slots (Keras's optimizer names them: "adam", ...);
// returns the packed gradient.
Tensor prepare(const char* op, const Tensor& w, const Tensor& g, std::initializer_list<Slot> slots) {
  auto check_slot = [&](const Tensor& s, const char* name) {
    check_float(s, op, name);
    check_same_dtype(w, s, op);
    KCORE_CHECK(s.shape() == w.shape(), op << ": " << name << " of shape " << shape_str(s.shape())
                                           << " does not match variable of shape " << shape_str(w.shape()));
    KCORE_CHECK(s.is_contiguous(), op << ": " << name << " must be contiguous");
  };
  check_float(w, op, "variable");
  KCORE_CHECK(w.is_contiguous(), op << ": variable must be contiguous");
  check_slot(g, "gradient");
  for (const Slot& s : slots) {
    KCORE_CHECK(s.t.defined() || !s.required, op << ": the " << s.name << " slot is required");
    if (s.t.defined()) check_slot(s.t, s.name);
  }
  return g.contiguous();
}
}  // namespace

void sgd_update(Tensor& w, const Tensor& g_in, const OptionalTensor& m, double lr, double momentum, bool nesterov) {
  OpCall call("sgd_update", w, g_in, m);
  auto kernel = KCORE_KERNEL(call, sgd_update);
  Tensor slot = momentum != 0.0 ? Tensor(m) : Tensor();
  Tensor g = prepare("sgd", w, g_in, {{slot, "momentum", momentum != 0.0}});
  if (w.numel() > 0) kernel(w, g, slot, lr, momentum, nesterov);
}

void adam_update(Tensor& w, const Tensor& g_in, Tensor& m, Tensor& v, const OptionalTensor& vhat, double lr,
                 double beta1, double beta2, double eps, int64_t step) {
  OpCall call("adam_update", w, g_in, m, v, vhat);
  auto kernel = KCORE_KERNEL(call, adam_update);
  Tensor g = prepare("adam", w, g_in, {{m, "momentum", true}, {v, "velocity", true}, {vhat, "velocity_hat", false}});
  KCORE_CHECK(step >= 1, "adam: step must be >= 1");
  Tensor hat = vhat;
  if (w.numel() > 0) kernel(w, g, m, v, hat, lr, beta1, beta2, eps, step);
}

void rmsprop_update(Tensor& w, const Tensor& g_in, Tensor& v, const OptionalTensor& avg, const OptionalTensor& mom,
                    double lr, double rho, double momentum, double eps) {
  OpCall call("rmsprop_update", w, g_in, v, avg, mom);
  auto kernel = KCORE_KERNEL(call, rmsprop_update);
  Tensor g = prepare("rmsprop", w, g_in, {{v, "velocity", true}, {avg, "average", false}, {mom, "momentum", false}});
  Tensor a = avg, mo = mom;
  if (w.numel() > 0) kernel(w, g, v, a, mo, lr, rho, momentum, eps);
}

void adagrad_update(Tensor& w, const Tensor& g_in, Tensor& acc, double lr, double eps) {
  OpCall call("adagrad_update", w, g_in, acc);
  auto kernel = KCORE_KERNEL(call, adagrad_update);
  Tensor g = prepare("adagrad", w, g_in, {{acc, "accumulator", true}});
  if (w.numel() > 0) kernel(w, g, acc, lr, eps);
}

void adadelta_update(Tensor& w, const Tensor& g_in, Tensor& eg, Tensor& edx, double lr, double rho, double eps) {
  OpCall call("adadelta_update", w, g_in, eg, edx);
  auto kernel = KCORE_KERNEL(call, adadelta_update);
  Tensor g = prepare("adadelta", w, g_in, {{eg, "accumulator", true}, {edx, "delta accumulator", true}});
  if (w.numel() > 0) kernel(w, g, eg, edx, lr, rho, eps);
}

void nadam_update(Tensor& w, const Tensor& g_in, Tensor& m, Tensor& v, double lr, double beta1, double beta2,
                  double eps, double c_m, double c_g, double bias2) {
  OpCall call("nadam_update", w, g_in, m, v);
  auto kernel = KCORE_KERNEL(call, nadam_update);
  Tensor g = prepare("nadam", w, g_in, {{m, "momentum", true}, {v, "velocity", true}});
  if (w.numel() > 0) kernel(w, g, m, v, lr, beta1, beta2, eps, c_m, c_g, bias2);
}

void adamax_update(Tensor& w, const Tensor& g_in, Tensor& m, Tensor& u, double lr, double beta1, double beta2,
                   double eps, int64_t step) {
  OpCall call("adamax_update", w, g_in, m, u);
  auto kernel = KCORE_KERNEL(call, adamax_update);
  Tensor g = prepare("adamax", w, g_in, {{m, "momentum", true}, {u, "norm", true}});
  if (w.numel() > 0) kernel(w, g, m, u, lr, beta1, beta2, eps, step);
}

}  // namespace kcore
