// Batch and layer normalisation: the device-independent entry points (checks, shapes, outputs).
#include "ops/norm.h"

#include "ops/op_call.h"

namespace kcore {

using arguments::channel_geometry;
using arguments::ChannelGeometry;

std::tuple<Tensor, Tensor, Tensor> batch_norm_train(const Tensor& x_in, const Tensor& gamma_in, const Tensor& beta_in,
                                                    int64_t axis, double eps) {
  OpCall call("batch_norm_train", x_in, gamma_in, beta_in);
  auto kernel = KCORE_KERNEL(call, batch_norm_train);
  Tensor x = x_in.contiguous(), gamma = gamma_in.contiguous(), beta = beta_in.contiguous();
  ChannelGeometry g = channel_geometry(x, axis, {{"gamma", gamma}, {"beta", beta}}, "batch_normalization");
  KCORE_CHECK(g.outer * g.inner > 0, "batch_normalization: cannot compute batch statistics of an empty batch");
  Tensor y = call.empty(x.shape(), x.dtype());
  Tensor mean = call.empty({g.channels}, x.dtype()), var = call.empty({g.channels}, x.dtype());
  if (g.channels > 0) kernel(g, x, gamma, beta, eps, y, mean, var);
  return {y, mean, var};
}

Tensor batch_norm_infer(const Tensor& x_in, const Tensor& gamma_in, const Tensor& beta_in, const Tensor& mean_in,
                        const Tensor& var_in, int64_t axis, double eps) {
  OpCall call("batch_norm_infer", x_in, gamma_in, beta_in, mean_in, var_in);
  auto kernel = KCORE_KERNEL(call, batch_norm_infer);
  Tensor x = x_in.contiguous(), gamma = gamma_in.contiguous(), beta = beta_in.contiguous();
  Tensor mean = mean_in.contiguous(), var = var_in.contiguous();
  ChannelGeometry g = channel_geometry(x, axis, {{"gamma", gamma}, {"beta", beta}, {"mean", mean}, {"variance", var}},
                                       "batch_normalization");
  Tensor y = call.empty(x.shape(), x.dtype());
  if (x.numel() > 0) kernel(g, x, gamma, beta, mean, var, eps, y);
  return y;
}

std::tuple<Tensor, Tensor, Tensor> batch_norm_backward(const Tensor& x_in, const Tensor& gamma_in,
                                                       const Tensor& mean_in, const Tensor& var_in,
                                                       const Tensor& grad_in, int64_t axis, double eps, bool training) {
  OpCall call("batch_norm_backward", x_in, gamma_in, mean_in, var_in, grad_in);
  auto kernel = KCORE_KERNEL(call, batch_norm_backward);
  Tensor x = x_in.contiguous(), gamma = gamma_in.contiguous(), mean = mean_in.contiguous(), var = var_in.contiguous();
  Tensor dy = grad_in.contiguous();
  check_same_shape(x, dy, "batch_normalization backward");
  ChannelGeometry g =
      channel_geometry(x, axis, {{"gamma", gamma}, {"mean", mean}, {"variance", var}}, "batch_normalization backward");
  Tensor dx = call.empty(x.shape(), x.dtype());
  Tensor dgamma = call.empty({g.channels}, x.dtype()), dbeta = call.empty({g.channels}, x.dtype());
  if (g.channels > 0) kernel(g, x, gamma, mean, var, dy, eps, training, dx, dgamma, dbeta);
  return {dx, dgamma, dbeta};
}

std::tuple<Tensor, Tensor, Tensor> layer_norm(const Tensor& x_in, const Tensor& gamma_in, const Tensor& beta_in,
                                              int64_t d, double eps) {
  OpCall call("layer_norm", x_in, gamma_in, beta_in);
  auto kernel = KCORE_KERNEL(call, layer_norm);
  check_float(x_in, "layer_normalization", "x");
  Tensor x = x_in.contiguous(), gamma = gamma_in.contiguous(), beta = beta_in.contiguous();
  const int64_t rows = arguments::layer_norm_rows(x, d, {{"gamma", gamma}, {"beta", beta}}, "layer_normalization");
  Tensor y = call.empty(x.shape(), x.dtype());
  Tensor mean = call.empty({rows}, x.dtype()), inv_std = call.empty({rows}, x.dtype());
  if (rows > 0) kernel(rows, d, x, gamma, beta, eps, y, mean, inv_std);
  return {y, mean, inv_std};
}

std::tuple<Tensor, Tensor, Tensor> layer_norm_backward(const Tensor& x_in, const Tensor& gamma_in,
                                                       const Tensor& mean_in, const Tensor& inv_in,
                                                       const Tensor& grad_in, int64_t d) {
  OpCall call("layer_norm_backward", x_in, gamma_in, mean_in, inv_in, grad_in);
  auto kernel = KCORE_KERNEL(call, layer_norm_backward);
  Tensor x = x_in.contiguous(), gamma = gamma_in.contiguous(), mean = mean_in.contiguous();
  Tensor inv_std = inv_in.contiguous(), dy = grad_in.contiguous();
  check_same_shape(x, dy, "layer_normalization backward");
  const int64_t rows = arguments::layer_norm_rows(x, d, {{"gamma", gamma}}, "layer_normalization backward");
  arguments::check_param_sizes(x, rows, {{"mean", mean}, {"inv_std", inv_std}}, "layer_normalization backward", "row");
  Tensor dx = call.empty(x.shape(), x.dtype());
  Tensor dgamma = call.zeros({d}, x.dtype()), dbeta = call.zeros({d}, x.dtype());
  if (rows > 0) kernel(rows, d, x, gamma, mean, inv_std, dy, dx, dgamma, dbeta);
  return {dx, dgamma, dbeta};
}

}  // namespace kcore
