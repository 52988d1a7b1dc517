// Fused losses: the device-independent entry points (checks, shapes, outputs).
#include "ops/loss.h"

#include "ops/arguments.h"
#include "ops/op_call.h"

namespace kcore {

using arguments::as_rows;
using arguments::without_last;

namespace {
const char* mean_error_name(ErrorKind kind) {
  return kind == ErrorKind::squared ? "mean_squared_error" : "mean_absolute_error";
}

// The per-sample gradient of a row loss: one value per row.
void check_row_grad(const Tensor& g, int64_t rows, const char* op) {
  KCORE_CHECK(g.numel() == rows, op << " backward: gradient has the wrong size");
}

void check_sparse_grad(const Tensor& grad, const Tensor& labels) {
  KCORE_CHECK(grad.shape() == labels.shape(), "sparse_categorical_crossentropy backward: gradient of shape "
                                                  << shape_str(grad.shape()) << " does not match labels of shape "
                                                  << shape_str(labels.shape()));
}
}  // namespace

Tensor softmax_cross_entropy(const Tensor& logits, const Tensor& targets) {
  OpCall call("softmax_cross_entropy", logits, targets);
  auto kernel = KCORE_KERNEL(call, softmax_cross_entropy);
  arguments::loss_pair(logits, targets, "categorical_crossentropy");
  Tensor xh, th;
  const Tensor& x = logits.contiguous(xh);
  Tensor out = call.empty(without_last(x.shape()), x.dtype());
  if (out.numel() > 0) kernel(x, targets.contiguous(th), out.numel(), x.dim(-1), out);
  return out;
}

Tensor softmax_cross_entropy_backward(const Tensor& logits, const Tensor& targets, const Tensor& grad) {
  OpCall call("softmax_cross_entropy_backward", logits, targets, grad);
  auto kernel = KCORE_KERNEL(call, softmax_cross_entropy_backward);
  arguments::loss_pair(logits, targets, "categorical_crossentropy backward");
  Tensor xh, th, gh;
  const Tensor& x = logits.contiguous(xh);
  const int64_t rows = as_rows(x.shape())[0];
  check_row_grad(grad, rows, "categorical_crossentropy");
  Tensor out = call.empty(x.shape(), x.dtype());
  if (rows > 0) kernel(x, targets.contiguous(th), grad.contiguous(gh), rows, x.dim(-1), out);
  return out;
}

Tensor sparse_softmax_cross_entropy(const Tensor& logits, const Tensor& labels) {
  OpCall call("sparse_softmax_cross_entropy", logits, labels);
  auto kernel = KCORE_KERNEL(call, sparse_softmax_cross_entropy);
  arguments::sparse_labels(logits, labels);
  Tensor x = logits.contiguous(), l = labels.contiguous();
  Tensor out = call.empty(l.shape(), x.dtype());
  if (l.numel() > 0) kernel(x, l, l.numel(), x.dim(-1), out);
  return out;
}

Tensor sparse_softmax_cross_entropy_backward(const Tensor& logits, const Tensor& labels, const Tensor& grad) {
  OpCall call("sparse_softmax_cross_entropy_backward", logits, labels, grad);
  auto kernel = KCORE_KERNEL(call, sparse_softmax_cross_entropy_backward);
  arguments::sparse_labels(logits, labels);
  check_sparse_grad(grad, labels);
  Tensor x = logits.contiguous(), l = labels.contiguous();
  Tensor out = call.empty(x.shape(), x.dtype());
  if (l.numel() > 0) kernel(x, l, grad.contiguous(), l.numel(), x.dim(-1), out);
  return out;
}

Tensor sigmoid_cross_entropy(const Tensor& logits, const Tensor& targets) {
  OpCall call("sigmoid_cross_entropy", logits, targets);
  auto kernel = KCORE_KERNEL(call, sigmoid_cross_entropy);
  arguments::loss_pair(logits, targets, "binary_crossentropy");
  Tensor x = logits.contiguous();
  Tensor out = call.empty(x.shape(), x.dtype());
  if (x.numel() > 0) kernel(x, targets.contiguous(), out);
  return out;
}

Tensor sigmoid_cross_entropy_backward(const Tensor& logits, const Tensor& targets, const Tensor& grad) {
  OpCall call("sigmoid_cross_entropy_backward", logits, targets, grad);
  auto kernel = KCORE_KERNEL(call, sigmoid_cross_entropy_backward);
  arguments::loss_pair(logits, targets, "binary_crossentropy");
  check_same_shape(logits, grad, "binary_crossentropy backward");
  Tensor x = logits.contiguous();
  Tensor out = call.empty(x.shape(), x.dtype());
  if (x.numel() > 0) kernel(x, targets.contiguous(), grad.contiguous(), out);
  return out;
}

Tensor mean_error(ErrorKind kind, const Tensor& pred, const Tensor& target) {
  OpCall call("mean_error", pred, target);
  auto kernel = KCORE_KERNEL(call, mean_error);
  arguments::loss_pair(pred, target, mean_error_name(kind));
  Tensor p = pred.contiguous();
  Tensor out = call.empty(without_last(p.shape()), p.dtype());
  if (out.numel() > 0) kernel(kind, p, target.contiguous(), out.numel(), p.dim(-1), out);
  return out;
}

Tensor mean_error_backward(ErrorKind kind, const Tensor& pred, const Tensor& target, const Tensor& grad) {
  OpCall call("mean_error_backward", pred, target, grad);
  auto kernel = KCORE_KERNEL(call, mean_error_backward);
  const char* name = mean_error_name(kind);
  arguments::loss_pair(pred, target, name);
  Tensor p = pred.contiguous();
  const int64_t rows = as_rows(p.shape())[0];
  check_row_grad(grad, rows, name);
  Tensor out = call.empty(p.shape(), p.dtype());
  if (rows > 0) kernel(kind, p, target.contiguous(), grad.contiguous(), rows, p.dim(-1), out);
  return out;
}

}  // namespace kcore
