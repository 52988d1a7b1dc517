"""Loss functions by Keras name: each returns per-sample values (one per entry of y_pred without `axis`).

When y_pred came straight out of a softmax / sigmoid (the tensor remembers its logits, as
TensorFlow-backed Keras does), crossentropies use the fused, numerically stable
from-logits kernels. Otherwise the probability formulas with Keras's clipping apply.
"""
import numpy as np

from kcore import ops
from kcore.backend.config import epsilon
from kcore.backend.tensor import Tensor, convert_to_tensor


def _pred(y_pred):
    return y_pred if isinstance(y_pred, Tensor) else convert_to_tensor(np.asarray(y_pred, dtype=np.float32))


def _target(y_true, y_pred, loss_name):
    y = y_true if isinstance(y_true, Tensor) else convert_to_tensor(np.asarray(y_true, dtype=y_pred.dtype))
    if y.dtype != y_pred.dtype:
        y = ops.cast(y, y_pred.dtype)
    if tuple(y.shape) != tuple(y_pred.shape):
        if len(y.shape) == len(y_pred.shape) - 1 and tuple(y.shape) == tuple(y_pred.shape[:-1]) \
                and y_pred.shape[-1] == 1:
            return ops.expand_dims(y, -1)
        hint = ""
        if loss_name == "categorical_crossentropy" and len(y.shape) in (len(y_pred.shape) - 1, len(y_pred.shape)):
            hint = (" If your targets are integer class ids, use loss='sparse_categorical_crossentropy' or one-hot "
                    "encode them with kcore.utils.to_categorical.")
        raise ValueError(f"{loss_name}: y_true of shape {tuple(y.shape)} is incompatible with y_pred of shape "
                         f"{tuple(y_pred.shape)}.{hint}")
    return y


def mean_squared_error(y_true, y_pred):
    """Per-sample mean of (y_true - y_pred) ** 2 over the last axis."""
    y_pred = _pred(y_pred)
    return ops.mean_squared_error(_target(y_true, y_pred, "mean_squared_error"), y_pred)


def mean_absolute_error(y_true, y_pred):
    """Per-sample mean of |y_true - y_pred| over the last axis."""
    y_pred = _pred(y_pred)
    return ops.mean_absolute_error(_target(y_true, y_pred, "mean_absolute_error"), y_pred)


def _inputs(y_true, y_pred, loss_name):
    y_pred = _pred(y_pred)
    return _target(y_true, y_pred, loss_name), y_pred


def mean_absolute_percentage_error(y_true, y_pred):
    """100 * mean(|y - p| / max(|y|, eps)) over the last axis."""
    y_true, y_pred = _inputs(y_true, y_pred, "mean_absolute_percentage_error")
    scale = ops.maximum(ops.abs(y_true), epsilon())
    return ops.multiply(ops.mean(ops.divide(ops.abs(ops.subtract(y_true, y_pred)), scale), axis=-1), 100.0)


def mean_squared_logarithmic_error(y_true, y_pred):
    """mean((log(max(p, eps) + 1) - log(max(y, eps) + 1))^2) over the last axis."""
    y_true, y_pred = _inputs(y_true, y_pred, "mean_squared_logarithmic_error")
    log_p = ops.log(ops.add(ops.maximum(y_pred, epsilon()), 1.0))
    log_y = ops.log(ops.add(ops.maximum(y_true, epsilon()), 1.0))
    return ops.mean(ops.square(ops.subtract(log_p, log_y)), axis=-1)


def huber(y_true, y_pred, delta=1.0):
    """Quadratic for |e| <= delta, linear beyond: 0.5 a^2 + delta (|e| - a) with a = min(|e|, delta)."""
    y_true, y_pred = _inputs(y_true, y_pred, "huber")
    delta = float(delta)
    err = ops.abs(ops.subtract(y_pred, y_true))
    quad = ops.minimum(err, delta)
    per_elem = ops.add(ops.multiply(ops.square(quad), 0.5), ops.multiply(ops.subtract(err, quad), delta))
    return ops.mean(per_elem, axis=-1)


def log_cosh(y_true, y_pred):
    """mean(log(cosh(e))) computed stably as e + softplus(-2e) - log 2."""
    y_true, y_pred = _inputs(y_true, y_pred, "log_cosh")
    err = ops.subtract(y_pred, y_true)
    value = ops.subtract(ops.add(err, ops.softplus(ops.multiply(err, -2.0))), float(np.log(2.0)))
    return ops.mean(value, axis=-1)


def kl_divergence(y_true, y_pred):
    """sum(y * log(y / p)) over the last axis, with y and p clipped to [eps, 1]."""
    y_true, y_pred = _inputs(y_true, y_pred, "kl_divergence")
    y = ops.clip(y_true, epsilon(), 1.0)
    p = ops.clip(y_pred, epsilon(), 1.0)
    return ops.sum(ops.multiply(y, ops.log(ops.divide(y, p))), axis=-1)


def poisson(y_true, y_pred):
    """mean(p - y * log(p + eps)) over the last axis."""
    y_true, y_pred = _inputs(y_true, y_pred, "poisson")
    return ops.mean(ops.subtract(y_pred, ops.multiply(y_true, ops.log(ops.add(y_pred, epsilon())))), axis=-1)


def _l2_normalize(x, axis):
    """x / max(||x||, eps) along `axis` (max taken on the squared norm, so the gradient stays finite at 0)."""
    squared = ops.sum(ops.square(x), axis=axis, keepdims=True)
    return ops.divide(x, ops.sqrt(ops.maximum(squared, epsilon() ** 2)))


def cosine_similarity(y_true, y_pred, axis=-1):
    """-sum(l2_normalize(y) * l2_normalize(p)) along `axis`: -1 for identical directions."""
    y_true, y_pred = _inputs(y_true, y_pred, "cosine_similarity")
    return ops.negative(ops.sum(ops.multiply(_l2_normalize(y_true, axis), _l2_normalize(y_pred, axis)), axis=axis))


def _signed_labels(y_true):
    """Hinge targets: labels given as {0, 1} are mapped to {-1, 1}; other labels are used as they are."""
    values = y_true.numpy()
    if np.all((values == 0) | (values == 1)):
        return ops.subtract(ops.multiply(y_true, 2.0), 1.0)
    return y_true


def hinge(y_true, y_pred):
    """mean(max(1 - y * p, 0)) with {0, 1} labels mapped to {-1, 1}."""
    y_true, y_pred = _inputs(y_true, y_pred, "hinge")
    return ops.mean(_hinge_margins(_signed_labels(y_true), y_pred), axis=-1)


def squared_hinge(y_true, y_pred):
    """mean(max(1 - y * p, 0)^2) with {0, 1} labels mapped to {-1, 1}."""
    y_true, y_pred = _inputs(y_true, y_pred, "squared_hinge")
    return ops.mean(ops.square(_hinge_margins(_signed_labels(y_true), y_pred)), axis=-1)


def _hinge_margins(y_true, y_pred):
    return ops.relu(ops.subtract(1.0, ops.multiply(y_true, y_pred)))


def categorical_hinge(y_true, y_pred):
    """max(max((1 - y) * p) - sum(y * p) + 1, 0) over the last axis (one-hot y)."""
    y_true, y_pred = _inputs(y_true, y_pred, "categorical_hinge")
    positive = ops.sum(ops.multiply(y_true, y_pred), axis=-1)
    negative = ops.max(ops.multiply(ops.subtract(1.0, y_true), y_pred), axis=-1)
    return ops.relu(ops.add(ops.subtract(negative, positive), 1.0))


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """-sum(y * log(p)) over `axis`, p re-normalised to sum 1 and clipped to [eps, 1 - eps] (or log_softmax of
    logits); label smoothing mixes y with 1 / (size of the last axis), as Keras does."""
    y_pred = _pred(y_pred)
    axis = _class_axis(axis, y_pred, "categorical_crossentropy")
    y_true = _target(y_true, y_pred, "categorical_crossentropy")
    if label_smoothing:
        n = y_pred.shape[-1]
        y_true = ops.add(ops.multiply(y_true, 1.0 - label_smoothing), label_smoothing / n)
    if axis != len(y_pred.shape) - 1:
        y_true, y_pred = _to_last(y_true, axis), _to_last(y_pred, axis)
    if from_logits:
        return ops.softmax_cross_entropy(y_pred, y_true)
    logits = _logits_of(y_pred, "softmax")
    if logits is not None:
        return ops.softmax_cross_entropy(logits, y_true)
    p = ops.divide(y_pred, ops.sum(y_pred, axis=-1, keepdims=True))
    p = ops.clip(p, epsilon(), 1.0 - epsilon())
    return ops.negative(ops.sum(ops.multiply(y_true, ops.log(p)), axis=-1))


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1):
    """-log(p[label]) per sample (class scores along `axis`); samples labelled `ignore_class` give 0 and carry
    a mask that leaves them out of the reduction."""
    y_pred = _pred(y_pred)
    axis = _class_axis(axis, y_pred, "sparse_categorical_crossentropy")
    if axis != len(y_pred.shape) - 1:
        labels = y_true.numpy() if isinstance(y_true, Tensor) else np.asarray(y_true)
        if labels.ndim == len(y_pred.shape) and labels.shape[axis] == 1:
            y_true = np.squeeze(labels, axis)
        y_pred = _to_last(y_pred, axis)
    valid = None
    if ignore_class is not None:
        labels = (y_true.numpy() if isinstance(y_true, Tensor) else np.asarray(y_true)).reshape(y_pred.shape[:-1])
        valid = labels != ignore_class
        y_true = np.where(valid, labels, 0)
    if from_logits:
        values = ops.sparse_softmax_cross_entropy(y_pred, y_true)
    elif _logits_of(y_pred, "softmax") is not None:
        values = ops.sparse_softmax_cross_entropy(_logits_of(y_pred, "softmax"), y_true)
    else:
        p = ops.clip(y_pred, epsilon(), 1.0 - epsilon())
        values = ops.sparse_softmax_cross_entropy(ops.log(p), y_true)
    if valid is not None:
        values = ops.multiply(values, valid.astype(values.dtype))
        values._keras_mask = valid
    return values


def _class_axis(axis, y_pred, loss_name):
    """`axis` as a non-negative index into y_pred's axes (a clear error when it is not one)."""
    rank = len(y_pred.shape)
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)) or not -rank <= axis < rank:
        raise ValueError(f"{loss_name}: axis must be an integer in [-{rank}, {rank}) for y_pred of shape "
                         f"{tuple(y_pred.shape)}, got axis={axis!r}")
    return int(axis) % rank


def _to_last(x, axis):
    """x with `axis` moved to the end (the other axes keep their order)."""
    perm = [i for i in range(len(x.shape)) if i != axis] + [axis]
    return ops.transpose(x, perm)


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """mean(-(y log p + (1 - y) log(1 - p))) over `axis`, p clipped to [eps, 1 - eps] (stable from logits)."""
    y_pred = _pred(y_pred)
    axis = _class_axis(axis, y_pred, "binary_crossentropy")
    y_true = _target(y_true, y_pred, "binary_crossentropy")
    if label_smoothing:
        y_true = ops.add(ops.multiply(y_true, 1.0 - label_smoothing), 0.5 * label_smoothing)
    logits = y_pred if from_logits else _logits_of(y_pred, "sigmoid")
    if logits is not None:
        return ops.mean(ops.sigmoid_cross_entropy(logits, y_true), axis=axis)
    p = ops.clip(y_pred, epsilon(), 1.0 - epsilon())
    ce = ops.add(ops.multiply(y_true, ops.log(p)),
                 ops.multiply(ops.subtract(1.0, y_true), ops.log(ops.subtract(1.0, p))))
    return ops.negative(ops.mean(ce, axis=axis))


def binary_focal_crossentropy(y_true, y_pred, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False,
                              label_smoothing=0.0, axis=-1):
    """mean((1 - p_t)^gamma * bce) over `axis`, p_t = y p + (1 - y)(1 - p); optionally weighted by alpha
    for positives and 1 - alpha for negatives. Logits are turned into probabilities first."""
    y_pred = _pred(y_pred)
    axis = _class_axis(axis, y_pred, "binary_focal_crossentropy")
    y_true = _target(y_true, y_pred, "binary_focal_crossentropy")
    if label_smoothing:
        y_true = ops.add(ops.multiply(y_true, 1.0 - label_smoothing), 0.5 * label_smoothing)
    p = ops.sigmoid(y_pred) if from_logits else y_pred
    clipped = ops.clip(p, epsilon(), 1.0 - epsilon())
    not_y = ops.subtract(1.0, y_true)
    bce = ops.negative(ops.add(ops.multiply(y_true, ops.log(clipped)),
                               ops.multiply(not_y, ops.log(ops.subtract(1.0, clipped)))))
    p_t = ops.add(ops.multiply(y_true, p), ops.multiply(not_y, ops.subtract(1.0, p)))
    focal = ops.multiply(ops.power(ops.subtract(1.0, p_t), float(gamma)), bce)
    if apply_class_balancing:
        focal = ops.multiply(ops.add(ops.multiply(y_true, alpha), ops.multiply(not_y, 1.0 - alpha)), focal)
    return ops.mean(focal, axis=axis)


def categorical_focal_crossentropy(y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0,
                                   axis=-1):
    """sum(alpha (1 - p)^gamma * -y log p) over `axis`, p re-normalised and clipped as in crossentropy."""
    y_pred = _pred(y_pred)
    axis = _class_axis(axis, y_pred, "categorical_focal_crossentropy")
    y_true = _target(y_true, y_pred, "categorical_focal_crossentropy")
    if label_smoothing:
        y_true = ops.add(ops.multiply(y_true, 1.0 - label_smoothing), label_smoothing / y_pred.shape[-1])
    if axis != len(y_pred.shape) - 1:
        y_true, y_pred = _to_last(y_true, axis), _to_last(y_pred, axis)
    p = ops.softmax(y_pred) if from_logits else y_pred
    p = ops.clip(ops.divide(p, ops.sum(p, axis=-1, keepdims=True)), epsilon(), 1.0 - epsilon())
    cce = ops.negative(ops.multiply(y_true, ops.log(p)))
    weight = ops.multiply(ops.power(ops.subtract(1.0, p), float(gamma)), float(alpha))
    return ops.sum(ops.multiply(weight, cce), axis=-1)


def _logits_of(y_pred, activation):
    """The pre-activation tensor when y_pred = activation(logits) on the last axis, else None."""
    produced = y_pred._keras_logits if isinstance(y_pred, Tensor) else None
    if produced is None or produced[0] != activation:
        return None
    return produced[1]


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kl_divergence
bce = BCE = binary_crossentropy
logcosh = log_cosh
