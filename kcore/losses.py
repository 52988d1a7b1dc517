"""Losses by Keras name: functions return per-sample values, classes reduce them.

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
    y_pred = _pred(y_pred)
    return ops.mean_squared_error(_target(y_true, y_pred, "mean_squared_error"), y_pred)


def mean_absolute_error(y_true, y_pred):
    y_pred = _pred(y_pred)
    return ops.mean_absolute_error(_target(y_true, y_pred, "mean_absolute_error"), y_pred)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    y_pred = _pred(y_pred)
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
    y_pred = _pred(y_pred)
    if from_logits:
        return ops.sparse_softmax_cross_entropy(y_pred, y_true)
    logits = _logits_of(y_pred, "softmax")
    if logits is not None:
        return ops.sparse_softmax_cross_entropy(logits, y_true)
    p = ops.clip(y_pred, epsilon(), 1.0 - epsilon())
    return ops.sparse_softmax_cross_entropy(ops.log(p), y_true)


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    y_pred = _pred(y_pred)
    y_true = _target(y_true, y_pred, "binary_crossentropy")
    if label_smoothing:
        y_true = ops.add(ops.multiply(y_true, 1.0 - label_smoothing), 0.5 * label_smoothing)
    logits = y_pred if from_logits else _logits_of(y_pred, "sigmoid")
    if logits is not None:
        return ops.mean(ops.sigmoid_cross_entropy(logits, y_true), axis=-1)
    p = ops.clip(y_pred, epsilon(), 1.0 - epsilon())
    ce = ops.add(ops.multiply(y_true, ops.log(p)), ops.multiply(ops.subtract(1.0, y_true), ops.log(ops.subtract(1.0, p))))
    return ops.negative(ops.mean(ce, axis=-1))


def _logits_of(y_pred, activation):
    """The pre-activation tensor when y_pred = activation(logits) on the last axis, else None."""
    produced = y_pred._keras_logits if isinstance(y_pred, Tensor) else None
    if produced is None or produced[0] != activation:
        return None
    return produced[1]


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error


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
        return reduce_loss(values, sample_weight, self.reduction)

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction, **self.fn_kwargs}


def reduce_loss(values, sample_weight=None, reduction="sum_over_batch_size"):
    values = values if isinstance(values, Tensor) else convert_to_tensor(values)
    if sample_weight is not None:
        w = np.asarray(sample_weight, dtype=values.dtype)
        while w.ndim > values.ndim:
            w = w.squeeze(-1)
        values = ops.multiply(values, w.reshape(w.shape + (1,) * (values.ndim - w.ndim)))
    if reduction == "none" or reduction is None:
        return values
    total = ops.sum(values)
    if reduction == "sum":
        return total
    return ops.divide(total, float(max(values.size, 1)))


def _loss_class(fn, default_name):
    def __init__(self, reduction="sum_over_batch_size", name=default_name, **kwargs):
        Loss.__init__(self, fn, name=name, reduction=reduction, **kwargs)

    return type(_class_name(default_name), (Loss,), {"__init__": __init__})


def _class_name(name):
    return "".join(p.capitalize() for p in name.split("_"))


MeanSquaredError = _loss_class(mean_squared_error, "mean_squared_error")
MeanAbsoluteError = _loss_class(mean_absolute_error, "mean_absolute_error")
CategoricalCrossentropy = _loss_class(categorical_crossentropy, "categorical_crossentropy")
SparseCategoricalCrossentropy = _loss_class(sparse_categorical_crossentropy, "sparse_categorical_crossentropy")
BinaryCrossentropy = _loss_class(binary_crossentropy, "binary_crossentropy")

_FUNCTIONS = {
    "mean_squared_error": mean_squared_error, "mse": mean_squared_error, "MSE": mean_squared_error,
    "mean_absolute_error": mean_absolute_error, "mae": mean_absolute_error, "MAE": mean_absolute_error,
    "categorical_crossentropy": categorical_crossentropy,
    "sparse_categorical_crossentropy": sparse_categorical_crossentropy,
    "binary_crossentropy": binary_crossentropy,
}
_CLASSES = {c.__name__: c for c in (MeanSquaredError, MeanAbsoluteError, CategoricalCrossentropy,
                                     SparseCategoricalCrossentropy, BinaryCrossentropy)}


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
