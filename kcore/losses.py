"""Losses by Keras name: functions return per-sample values, classes reduce them.

When y_pred came straight out of a softmax / sigmoid (the tensor remembers its logits, as
TensorFlow-backed Keras does), crossentropies use the fused, numerically stable
from-logits kernels. Otherwise the probability formulas with Keras's clipping apply.
"""
import numpy as np

from kcore import ops
from kcore.backend.config import epsilon
from kcore.backend.tensor import Tensor, convert_to_tensor
from kcore.distribution._context import current_batch


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
    y_pred = _pred(y_pred)
    return ops.mean_squared_error(_target(y_true, y_pred, "mean_squared_error"), y_pred)


def mean_absolute_error(y_true, y_pred):
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
    y_pred = _pred(y_pred)
    _require_last_axis(axis, y_pred, "categorical_crossentropy")
    y_true = _target(y_true, y_pred, "categorical_crossentropy")
    if label_smoothing:
        n = y_pred.shape[-1]
        y_true = ops.add(ops.multiply(y_true, 1.0 - label_smoothing), label_smoothing / n)
    if from_logits:
        return ops.softmax_cross_entropy(y_pred, y_true)
    logits = _logits_of(y_pred, "softmax")
    if logits is not None:
        return ops.softmax_cross_entropy(logits, y_true)
    p = ops.divide(y_pred, ops.sum(y_pred, axis=-1, keepdims=True))
    p = ops.clip(p, epsilon(), 1.0 - epsilon())
    return ops.negative(ops.sum(ops.multiply(y_true, ops.log(p)), axis=-1))


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1):
    """-log(p[label]) per sample; samples labelled `ignore_class` give 0 and are left out of the mean."""
    y_pred = _pred(y_pred)
    _require_last_axis(axis, y_pred, "sparse_categorical_crossentropy")
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


def _require_last_axis(axis, y_pred, loss_name):
    if axis not in (-1, len(y_pred.shape) - 1):
        raise NotImplementedError(f"{loss_name}: only axis=-1 (the last axis) is supported, got axis={axis}")


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    y_pred = _pred(y_pred)
    _require_last_axis(axis, y_pred, "binary_crossentropy")
    y_true = _target(y_true, y_pred, "binary_crossentropy")
    if label_smoothing:
        y_true = ops.add(ops.multiply(y_true, 1.0 - label_smoothing), 0.5 * label_smoothing)
    logits = y_pred if from_logits else _logits_of(y_pred, "sigmoid")
    if logits is not None:
        return ops.mean(ops.sigmoid_cross_entropy(logits, y_true), axis=-1)
    p = ops.clip(y_pred, epsilon(), 1.0 - epsilon())
    ce = ops.add(ops.multiply(y_true, ops.log(p)),
                 ops.multiply(ops.subtract(1.0, y_true), ops.log(ops.subtract(1.0, p))))
    return ops.negative(ops.mean(ce, axis=-1))


def binary_focal_crossentropy(y_true, y_pred, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False,
                              label_smoothing=0.0, axis=-1):
    """mean((1 - p_t)^gamma * bce) over the last axis, p_t = y p + (1 - y)(1 - p); optionally weighted by alpha
    for positives and 1 - alpha for negatives. Logits are turned into probabilities first."""
    y_pred = _pred(y_pred)
    _require_last_axis(axis, y_pred, "binary_focal_crossentropy")
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
    return ops.mean(focal, axis=-1)


def categorical_focal_crossentropy(y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0,
                                   axis=-1):
    """sum(alpha (1 - p)^gamma * -y log p) over the last axis, p re-normalised and clipped as in crossentropy."""
    y_pred = _pred(y_pred)
    _require_last_axis(axis, y_pred, "categorical_focal_crossentropy")
    y_true = _target(y_true, y_pred, "categorical_focal_crossentropy")
    if label_smoothing:
        y_true = ops.add(ops.multiply(y_true, 1.0 - label_smoothing), label_smoothing / y_pred.shape[-1])
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


class Loss:
    """Reduces per-sample values: 'sum_over_batch_size' (default), 'sum' or 'none'."""

    def __init__(self, fn=None, name=None, reduction="sum_over_batch_size", **fn_kwargs):
        if reduction not in ("sum_over_batch_size", "sum", "none", "mean", None):
            raise ValueError(f"Invalid reduction {reduction!r}; expected 'sum_over_batch_size', 'sum' or 'none'")
        self.fn = fn
        self.name = name or getattr(fn, "__name__", "loss")
        self.reduction = reduction
        self.fn_kwargs = fn_kwargs

    def call(self, y_true, y_pred):
        return self.fn(y_true, y_pred, **self.fn_kwargs)

    def __call__(self, y_true, y_pred, sample_weight=None):
        values = self.call(y_true, y_pred)
        mask = getattr(y_pred, "_keras_mask", None)  # e.g. from Embedding(mask_zero=True): masked steps don't count
        if mask is not None and isinstance(values, Tensor):
            own = values._keras_mask  # e.g. ignore_class: a value counts when both masks keep it
            values._keras_mask = mask if own is None else np.logical_and(_as_numpy(mask), _as_numpy(own))
        return reduce_loss(values, sample_weight, self.reduction)

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction, **self.fn_kwargs}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def reduce_loss(values, sample_weight=None, reduction="sum_over_batch_size"):
    """'sum_over_batch_size': sum(values * w) / number of values; with a mask (on `values`), masked values count
    zero and the sum is divided by the number of unmasked ones (Keras 3)."""
    values = values if isinstance(values, Tensor) else convert_to_tensor(values)
    mask = getattr(values, "_keras_mask", None)
    weights = None
    if sample_weight is not None:
        weights = _to_rank(np.asarray(sample_weight, dtype=values.dtype), values.ndim)
    batch = current_batch()  # a distributed step: this rank holds part of the global batch
    if mask is not None and reduction not in ("none", None):
        m = _as_numpy(mask).astype(values.dtype)
        if m.ndim <= values.ndim:
            m = _to_rank(m, values.ndim)
            if reduction != "sum":  # valid entries weigh total / valid: the mean runs over unmasked values
                total, valid = np.broadcast_to(m, values.shape).size, float(np.broadcast_to(m, values.shape).sum())
                total, valid = (total, valid) if batch is None else batch.global_counts(total, valid)
                m = m * (total / max(valid, 1e-12))
            weights = m if weights is None else weights * m
    if weights is not None:
        values = ops.multiply(values, weights)
    if reduction == "none" or reduction is None:
        return values
    if reduction == "sum":
        return ops.sum(values) if batch is None or not batch.dummy else ops.multiply(ops.sum(values), 0.0)
    mean = ops.mean(values) if values.size else ops.sum(values)
    # distributed: local mean * local/global rows = local sum / global count; the ranks' SUM is the global mean
    return mean if batch is None else ops.multiply(mean, batch.fraction)


def _as_numpy(x):
    return np.asarray(x.numpy() if isinstance(x, Tensor) else x)


def _to_rank(w, ndim):
    """Drops trailing axes of size 1 beyond `ndim`, then adds trailing axes up to `ndim` (for broadcasting)."""
    while w.ndim > ndim and w.shape[-1] == 1:
        w = w.squeeze(-1)
    return w.reshape(w.shape + (1,) * (ndim - w.ndim))


def _loss_class(fn, default_name, class_name=None, params=()):
    """A Loss subclass around `fn` with Keras's constructor: `params` of fn (delta, from_logits, ...) first,
    then reduction, name and dtype, positionally or by keyword."""
    order = tuple(params) + ("reduction", "name", "dtype")

    def __init__(self, *args, **kwargs):
        if len(args) > len(order):
            raise TypeError(f"{type(self).__name__} takes at most {len(order)} positional arguments {order}")
        for key, value in zip(order, args):
            if key in kwargs:
                raise TypeError(f"{type(self).__name__} got multiple values for argument {key!r}")
            kwargs[key] = value
        reduction = kwargs.pop("reduction", "sum_over_batch_size")
        name = kwargs.pop("name", default_name)
        kwargs.pop("dtype", None)
        unknown = sorted(set(kwargs) - set(params))
        if unknown:
            raise TypeError(f"{type(self).__name__} got unexpected arguments {unknown}; it accepts {order}")
        Loss.__init__(self, fn, name=name, reduction=reduction, **kwargs)

    doc = f"Keras's {class_name or _class_name(fn.__name__)}: reduces `{fn.__name__}` (see its docstring)."
    return type(class_name or _class_name(fn.__name__), (Loss,), {"__init__": __init__, "__doc__": doc})


def _class_name(name):
    return "".join(p.capitalize() for p in name.split("_"))


MeanSquaredError = _loss_class(mean_squared_error, "mean_squared_error")
MeanAbsoluteError = _loss_class(mean_absolute_error, "mean_absolute_error")
MeanAbsolutePercentageError = _loss_class(mean_absolute_percentage_error, "mean_absolute_percentage_error")
MeanSquaredLogarithmicError = _loss_class(mean_squared_logarithmic_error, "mean_squared_logarithmic_error")
Huber = _loss_class(huber, "huber_loss", "Huber", params=("delta",))
LogCosh = _loss_class(log_cosh, "log_cosh")
KLDivergence = _loss_class(kl_divergence, "kl_divergence", "KLDivergence")
Poisson = _loss_class(poisson, "poisson")
CosineSimilarity = _loss_class(cosine_similarity, "cosine_similarity", params=("axis",))
Hinge = _loss_class(hinge, "hinge")
SquaredHinge = _loss_class(squared_hinge, "squared_hinge")
CategoricalHinge = _loss_class(categorical_hinge, "categorical_hinge")
CategoricalCrossentropy = _loss_class(categorical_crossentropy, "categorical_crossentropy",
                                      params=("from_logits", "label_smoothing", "axis"))
SparseCategoricalCrossentropy = _loss_class(sparse_categorical_crossentropy, "sparse_categorical_crossentropy",
                                            params=("from_logits", "ignore_class", "axis"))
BinaryCrossentropy = _loss_class(binary_crossentropy, "binary_crossentropy",
                                 params=("from_logits", "label_smoothing", "axis"))
BinaryFocalCrossentropy = _loss_class(
    binary_focal_crossentropy, "binary_focal_crossentropy",
    params=("apply_class_balancing", "alpha", "gamma", "from_logits", "label_smoothing", "axis"))
CategoricalFocalCrossentropy = _loss_class(
    categorical_focal_crossentropy, "categorical_focal_crossentropy",
    params=("alpha", "gamma", "from_logits", "label_smoothing", "axis"))

_ALL_FUNCTIONS = (mean_squared_error, mean_absolute_error, mean_absolute_percentage_error,
                  mean_squared_logarithmic_error, huber, log_cosh, kl_divergence, poisson, cosine_similarity, hinge,
                  squared_hinge, categorical_hinge, categorical_crossentropy, sparse_categorical_crossentropy,
                  binary_crossentropy, binary_focal_crossentropy, categorical_focal_crossentropy)
_FUNCTIONS = {fn.__name__: fn for fn in _ALL_FUNCTIONS}
_FUNCTIONS.update({
    "mse": mean_squared_error, "MSE": mean_squared_error, "mae": mean_absolute_error, "MAE": mean_absolute_error,
    "mape": mean_absolute_percentage_error, "MAPE": mean_absolute_percentage_error,
    "msle": mean_squared_logarithmic_error, "MSLE": mean_squared_logarithmic_error,
    "kld": kl_divergence, "KLD": kl_divergence, "bce": binary_crossentropy, "BCE": binary_crossentropy,
    "logcosh": log_cosh,  # tf.keras spelling
})
_CLASSES = {c.__name__: c for c in (
    MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredLogarithmicError, Huber, LogCosh,
    KLDivergence, Poisson, CosineSimilarity, Hinge, SquaredHinge, CategoricalHinge, CategoricalCrossentropy,
    SparseCategoricalCrossentropy, BinaryCrossentropy, BinaryFocalCrossentropy, CategoricalFocalCrossentropy)}


def register(name, fn, cls=None):
    """Adds a loss function (and its class) to the names `get` resolves."""
    _FUNCTIONS[name] = fn
    if cls is not None:
        _CLASSES[cls.__name__] = cls


def get(identifier):
    """A Loss object for a name, a Loss instance, a class name config, or a function."""
    if identifier is None:
        return None
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str):
        fn = _FUNCTIONS.get(identifier)
        if fn is None:
            cls = _CLASSES.get(identifier)
            if cls is not None:
                return cls()
            raise ValueError(f"Unknown loss function: {identifier!r}. Known losses: {sorted(_FUNCTIONS)}")
        return Loss(fn, name=identifier)
    if isinstance(identifier, dict):
        cls = _CLASSES.get(identifier.get("class_name"))
        if cls is None:
            raise ValueError(f"Unknown loss config: {identifier!r}")
        return cls(**identifier.get("config", {}))
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if callable(identifier):
        return Loss(identifier, name=getattr(identifier, "__name__", "loss"))
    raise ValueError(f"Could not interpret loss identifier: {identifier!r}")
