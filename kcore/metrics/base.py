"""Metric base classes: running (weighted) means and sums, as Keras 3 accumulates them (NumPy, float64)."""
import numpy as np

from kcore.losses.loss import squeeze_or_expand as match_ranks
from kcore.utils.registry import FunctionWrapperConfig, NamedObject


def _snake(name):
    from kcore.utils.naming import to_snake_case

    return to_snake_case(name)


def _numpy(x, dtype=np.float64):
    """A NumPy view of a Tensor, array or nested list."""
    if type(x) is np.ndarray and (dtype is None or x.dtype == dtype):
        return x
    if hasattr(x, "numpy") and not isinstance(x, np.ndarray):
        x = x.numpy()
    return np.asarray(x, dtype=dtype)


def _compute_dtype(dtype):
    """A dtype's name, or a dtype policy's compute dtype (Keras's metrics take either)."""
    from kcore import dtype_policies

    return dtype_policies.get(dtype).compute_dtype


class Metric(NamedObject):
    """A stateful metric: `update_state` accumulates over batches, `result` reads the value, `reset_state`
    clears it (Keras 3 API). Subclasses set `_direction` to "up" (larger is better) or "down"."""

    _direction = None

    def __init__(self, name=None, dtype=None):
        self.name = name or _snake(type(self).__name__)
        self.dtype = "float32" if dtype is None else _compute_dtype(dtype)
        self._variables = []
        self.reset_state()

    def add_variable(self, shape=(), initializer="zeros", dtype=None, aggregation="sum", name=None):
        """A state variable (kcore Variable, not trainable) that `reset_state` sets back to `initializer`, for
        metrics written the Keras 3 way (`self.total.assign_add(...)` in update_state, `return self.total`)."""
        from kcore import initializers
        from kcore.backend.tensor import Variable

        init = initializers.get(initializer)
        variable = Variable(init, shape=tuple(shape), dtype=dtype or self.dtype, trainable=False, name=name)
        self._variables.append((variable, init))
        return variable

    add_weight = add_variable

    @property
    def variables(self):
        return [variable for variable, _ in self._variables]

    def reset_state(self):
        """Puts the state variables back to their initial values (subclasses with other state override this)."""
        for variable, init in self._variables:
            variable.assign(init(tuple(variable.shape), dtype=variable.dtype))

    def update_state(self, *args, **kwargs):
        raise NotImplementedError

    def result(self):
        raise NotImplementedError

    def __call__(self, *args, **kwargs):
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self):
        """name and dtype (subclasses add their arguments)."""
        return {"name": self.name, "dtype": self.dtype}

    reset_states = reset_state


def samplewise(values, sample_weight, owner, reduce=np.mean, mask=None):
    """(per-sample values, per-sample weights or None), reduced as Keras's Mean/Sum do: `values` loses the axes
    the weights lack (by `reduce`), the weights are broadcast onto what remains, then both are reduced to one
    entry per sample. `mask` (values' Keras mask) zeroes the weights of masked entries."""
    values = _numpy(values)
    if sample_weight is None:
        w = None  # as in Keras, the values' own mask only matters together with weights
    else:
        w = apply_mask(_numpy(sample_weight), mask, owner)
        values, w = match_ranks(values, w)
        if values.ndim > w.ndim:
            values = reduce(values, axis=tuple(range(w.ndim, values.ndim)))
        w = _broadcast(w, values.shape, owner, values.shape)
        values = values * w
        if w.ndim > 1:
            w = reduce(w, axis=tuple(range(1, w.ndim)))
    if values.ndim > 1:
        values = reduce(values, axis=tuple(range(1, values.ndim)))
    return values, w


def apply_mask(sample_weight, mask, owner):
    """The sample weights with masked-out entries set to 0 (the mask itself as weights when there are none);
    per-sample weights spread over the mask's trailing axes."""
    if mask is None:
        return sample_weight
    mask = _numpy(mask)
    if sample_weight is None:
        return mask
    mask, w = match_ranks(mask, _numpy(sample_weight))
    return _broadcast(w.reshape(w.shape + (1,) * max(0, mask.ndim - w.ndim)), mask.shape, owner, mask.shape) * mask


def _broadcast(w, shape, owner, values_shape):
    try:
        return np.broadcast_to(w, shape)
    except ValueError:
        raise ValueError(f"{owner}: sample_weight of shape {w.shape} cannot be broadcast to the metric values of "
                         f"shape {tuple(values_shape)}") from None


class Mean(Metric):
    """Weighted running mean of the values given to update_state (Keras's `Mean`)."""

    def reset_state(self):
        self.total = 0.0
        self.count = 0.0

    def update_state(self, values, sample_weight=None, mask=None):
        # the common case (one float64 value per sample, no weights) in a few NumPy calls
        if sample_weight is None and type(values) is np.ndarray and values.ndim == 1 \
                and values.dtype == np.float64:
            self.total += float(values.sum())
            self.count += values.shape[0]
            return
        values, w = samplewise(values, sample_weight, type(self).__name__, mask=mask)
        self.total += float(values.sum())
        self.count += float(w.sum()) if w is not None else (values.shape[0] if values.ndim else 1)

    def result(self):
        return self.total / self.count if self.count else 0.0


class Sum(Metric):
    """Weighted running sum of the values given to update_state (Keras's `Sum`)."""

    def reset_state(self):
        self.total = 0.0

    def update_state(self, values, sample_weight=None):
        values, _ = samplewise(values, sample_weight, type(self).__name__, reduce=np.sum)
        self.total += float(values.sum())

    def result(self):
        return self.total


class MeanMetricWrapper(FunctionWrapperConfig, Mean):
    """The weighted mean over samples of fn(y_true, y_pred, **kwargs); fn may return kcore Tensors (a loss
    function) or arrays. Entries a loss masks out (ignore_class) drop out of weighted means, as in Keras."""

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        self._fn = fn
        self._fn_kwargs = kwargs
        super().__init__(name=name or getattr(fn, "__name__", None), dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        in_mask = getattr(y_pred, "_keras_mask", None)  # a masked model output: masked entries do not count
        values = self._fn(_arg(y_true), _arg(y_pred), **self._fn_kwargs)
        if in_mask is not None:
            sample_weight = apply_mask(sample_weight, in_mask, type(self).__name__)
        super().update_state(values, sample_weight, mask=getattr(values, "_keras_mask", None))

    def get_config(self):
        """Keras's keys: name, dtype, the wrapped function (plain wrappers only), its keyword arguments."""
        return {**self._wrapped_fn_config(super().get_config(), self._fn), **self._fn_kwargs}

    _fn_kind = "metric"

    @classmethod
    def _fn_table(cls):
        from kcore import metrics

        return metrics.FUNCTIONS


MeanMetricWrapper._wrapper_base = MeanMetricWrapper


def _arg(x):
    """Tensors pass through (a loss keeps its logits link); anything else becomes a NumPy array."""
    if type(x) is np.ndarray:
        return x
    return x if hasattr(x, "numpy") else np.asarray(x)


class FunctionMetric(MeanMetricWrapper):
    """Base of the built-in function metrics: a subclass sets `spec = (fn, default name, {kwarg: default})` and
    gets Keras's constructor (name, dtype, then fn's keyword arguments)."""

    spec = None

    def __init__(self, name=None, dtype=None, **kwargs):
        fn, default_name, defaults = self.spec
        unknown = sorted(set(kwargs) - set(defaults))
        if unknown:
            raise TypeError(f"{type(self).__name__} got unexpected arguments {unknown}; "
                            f"it accepts name, dtype{''.join(', ' + k for k in defaults)}")
        super().__init__(fn, name=name or default_name, dtype=dtype, **{**defaults, **kwargs})


def function_metric(class_name, fn, name=None, doc=None, **defaults):
    """A FunctionMetric class: the sample-weighted mean of fn(y_true, y_pred, **defaults), named `name` (fn's
    name by default). Every built-in function metric is declared this way."""
    doc = doc or f"Mean of `losses.{fn.__name__}` over samples."
    return type(class_name, (FunctionMetric,), {"spec": (fn, name or fn.__name__, defaults), "__doc__": doc,
                                                "__module__": "kcore.metrics"})  # where users find them
