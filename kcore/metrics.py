"""Stateful metrics: accumulated over an epoch, reset at its start (computed on NumPy views)."""
import numpy as np


class Metric:
    def __init__(self, name=None, dtype=None):
        self.name = name or _snake(type(self).__name__)
        self.reset_state()

    def reset_state(self):
        pass

    def update_state(self, y_true, y_pred, sample_weight=None):
        raise NotImplementedError

    def result(self):
        raise NotImplementedError

    def __call__(self, y_true, y_pred, sample_weight=None):
        self.update_state(y_true, y_pred, sample_weight)
        return self.result()

    def get_config(self):
        return {"name": self.name}

    reset_states = reset_state


def _snake(name):
    from kcore.utils.naming import to_snake_case

    return to_snake_case(name)


class Mean(Metric):
    """Weighted running mean of the values given to update_state."""

    def reset_state(self):
        self.total = 0.0
        self.count = 0.0

    def update_state(self, values, sample_weight=None):
        values = np.asarray(values, dtype=np.float64)
        if sample_weight is None:
            self.total += float(values.sum())
            self.count += values.size
        else:
            w = np.broadcast_to(np.asarray(sample_weight, dtype=np.float64).reshape(
                np.shape(sample_weight) + (1,) * max(0, values.ndim - np.ndim(sample_weight))), values.shape)
            self.total += float((values * w).sum())
            self.count += float(w.sum())

    def result(self):
        return self.total / self.count if self.count else 0.0


class MeanMetricWrapper(Mean):
    """The mean over samples of fn(y_true, y_pred) (one value per sample)."""

    def __init__(self, fn, name=None, dtype=None, **fn_kwargs):
        self._fn = fn
        self._fn_kwargs = fn_kwargs
        super().__init__(name=name or fn.__name__)

    def update_state(self, y_true, y_pred, sample_weight=None):
        super().update_state(self._fn(np.asarray(y_true), np.asarray(y_pred), **self._fn_kwargs), sample_weight)


def _squeeze_labels(y_true, y_pred):
    y_true = np.asarray(y_true)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    return y_true


def binary_accuracy(y_true, y_pred, threshold=0.5):
    y_pred = np.asarray(y_pred)
    y_true = np.asarray(y_true).reshape(y_pred.shape)
    return np.mean((y_pred > threshold) == (y_true > 0.5), axis=-1)


def categorical_accuracy(y_true, y_pred):
    return (np.argmax(y_true, axis=-1) == np.argmax(y_pred, axis=-1)).astype(np.float64)


def sparse_categorical_accuracy(y_true, y_pred):
    y_pred = np.asarray(y_pred)
    labels = _squeeze_labels(y_true, y_pred)
    return (labels.astype(np.int64) == np.argmax(y_pred, axis=-1)).astype(np.float64)


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    return sparse_top_k_categorical_accuracy(np.argmax(y_true, axis=-1), y_pred, k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5):
    y_pred = np.asarray(y_pred)
    labels = _squeeze_labels(y_true, y_pred).astype(np.int64)
    top = np.argsort(-y_pred, axis=-1, kind="stable")[..., :k]
    return np.any(top == labels[..., None], axis=-1).astype(np.float64)


def accuracy(y_true, y_pred):
    return (np.asarray(y_true) == np.asarray(y_pred)).astype(np.float64)


def _mse(y_true, y_pred):
    return np.mean(np.square(np.asarray(y_pred) - np.asarray(y_true).reshape(np.shape(y_pred))), axis=-1)


def _mae(y_true, y_pred):
    return np.mean(np.abs(np.asarray(y_pred) - np.asarray(y_true).reshape(np.shape(y_pred))), axis=-1)


def _wrapper(fn, default_name, **defaults):
    def __init__(self, name=default_name, dtype=None, **kwargs):
        MeanMetricWrapper.__init__(self, fn, name=name, **{**defaults, **kwargs})

    return __init__


class BinaryAccuracy(MeanMetricWrapper):
    __init__ = _wrapper(binary_accuracy, "binary_accuracy", threshold=0.5)


class CategoricalAccuracy(MeanMetricWrapper):
    __init__ = _wrapper(categorical_accuracy, "categorical_accuracy")


class SparseCategoricalAccuracy(MeanMetricWrapper):
    __init__ = _wrapper(sparse_categorical_accuracy, "sparse_categorical_accuracy")


class TopKCategoricalAccuracy(MeanMetricWrapper):
    __init__ = _wrapper(top_k_categorical_accuracy, "top_k_categorical_accuracy", k=5)


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    __init__ = _wrapper(sparse_top_k_categorical_accuracy, "sparse_top_k_categorical_accuracy", k=5)


class Accuracy(MeanMetricWrapper):
    __init__ = _wrapper(accuracy, "accuracy")


class MeanSquaredError(MeanMetricWrapper):
    __init__ = _wrapper(_mse, "mean_squared_error")


class MeanAbsoluteError(MeanMetricWrapper):
    __init__ = _wrapper(_mae, "mean_absolute_error")


class RootMeanSquaredError(Mean):
    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name=name)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = np.asarray(y_pred)
        super().update_state(np.square(y_pred - np.asarray(y_true).reshape(y_pred.shape)), sample_weight)

    def result(self):
        return float(np.sqrt(super().result()))


class AutoAccuracy(MeanMetricWrapper):
    """'accuracy' / 'acc' in compile: binary, sparse or categorical, decided by the shapes (Keras 3)."""

    def __init__(self, name="accuracy"):
        self._chosen = None
        MeanMetricWrapper.__init__(self, self._dispatch, name=name)

    def _dispatch(self, y_true, y_pred):
        if self._chosen is None:
            self._chosen = resolve_accuracy(y_true.shape, y_pred.shape)
        return self._chosen(y_true, y_pred)


def resolve_accuracy(true_shape, pred_shape):
    if len(pred_shape) >= 1 and pred_shape[-1] == 1:
        return binary_accuracy
    if len(true_shape) < len(pred_shape) or (true_shape and true_shape[-1] == 1 and pred_shape[-1] > 1):
        return sparse_categorical_accuracy
    return categorical_accuracy


_BY_NAME = {
    "binary_accuracy": BinaryAccuracy, "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy, "top_k_categorical_accuracy": TopKCategoricalAccuracy,
    "sparse_top_k_categorical_accuracy": SparseTopKCategoricalAccuracy,
    "mean_squared_error": MeanSquaredError, "mse": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError, "mae": MeanAbsoluteError,
    "root_mean_squared_error": RootMeanSquaredError,
}


def register(name, cls):
    _BY_NAME[name] = cls


def get(identifier):
    """A Metric for a name (the name is kept as given, as in Keras logs), instance, class or function."""
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        if identifier in ("accuracy", "acc"):
            return AutoAccuracy(name=identifier)
        cls = _BY_NAME.get(identifier)
        if cls is None:
            raise ValueError(f"Unknown metric function: {identifier!r}. Known: "
                             f"{sorted(['accuracy', 'acc'] + list(_BY_NAME))}")
        metric = cls()
        metric.name = identifier
        return metric
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if callable(identifier):
        return MeanMetricWrapper(identifier, name=getattr(identifier, "__name__", "metric"))
    raise ValueError(f"Could not interpret metric identifier: {identifier!r}")
