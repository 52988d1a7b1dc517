"""The Loss base class (Keras 3 API) and Keras's reductions of weighted per-sample values."""
import functools

import numpy as np

from kcore import ops
from kcore.backend.config import floatx
from kcore.backend.tensor import Tensor, convert_to_tensor, tensor_from_array
from kcore.distribution._context import current_batch
from kcore.ops.core import mean as _mean  # unwrapped: this runs every training step
from kcore.utils.registry import FunctionWrapperConfig, NamedObject

REDUCTIONS = ("sum_over_batch_size", "sum", None, "none", "mean", "mean_with_sample_weight")


def standardize_reduction(reduction):
    """The reduction if Keras accepts it, else a ValueError listing the accepted ones."""
    if reduction not in REDUCTIONS:
        raise ValueError(f"Invalid value for argument `reduction`. Expected one of {REDUCTIONS}. "
                         f"Received: reduction={reduction!r}")
    return reduction


class Loss(NamedObject):
    """Base of every loss: subclasses implement `call(y_true, y_pred)` returning per-sample values with kcore
    ops; `__call__` converts both inputs to kcore tensors of the loss's dtype (float32 by default), calls it,
    and reduces the result with `sample_weight` and `reduction`:

    - "sum_over_batch_size" / "mean" (default): sum(values * weights) / number of values (of unmasked values
      when the values carry a mask, e.g. from ignore_class),
    - "mean_with_sample_weight": sum(values * weights) / sum(weights),
    - "sum": sum(values * weights); "none" / None: the weighted values themselves.
    """

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        from kcore.utils.naming import to_snake_case

        self.name = name or to_snake_case(type(self).__name__)
        self.reduction = standardize_reduction(reduction)
        self._dtype = dtype

    @property
    def dtype(self):
        return _dtype_name(self._dtype or floatx())

    def __call__(self, y_true, y_pred, sample_weight=None):
        dtype = self.dtype
        in_mask = _mask_of(y_pred)  # e.g. padded timesteps of a masked sequence model's output
        values = self.call(_as_tensor(y_true, dtype), _as_tensor(y_pred, dtype))
        out_mask = _mask_of(values)  # e.g. ignore_class
        mask = in_mask if out_mask is None else out_mask if in_mask is None else _both(in_mask, out_mask)
        if mask is None and sample_weight is None and isinstance(values, Tensor):
            return _reduce(values, None, self.reduction)  # nothing to weigh: skip to the reduction
        return reduce_weighted_values(values, sample_weight, mask=mask, reduction=self.reduction)

    def call(self, y_true, y_pred):
        raise NotImplementedError(f"{type(self).__name__} must implement call(y_true, y_pred)")

    def get_config(self):
        """name and reduction (subclasses add their arguments)."""
        return {"name": self.name, "reduction": self.reduction}


def _mask_of(x):
    mask = getattr(x, "_keras_mask", None)
    if mask is None:
        return None
    return np.asarray(mask.numpy() if isinstance(mask, Tensor) else mask).astype(bool)


def _both(a, b):
    a, b = squeeze_or_expand(a, b)
    return a & b


@functools.cache
def _dtype_name(dtype):
    """The dtype a loss computes in: a dtype's name, or a dtype policy's compute dtype (as Keras)."""
    from kcore import dtype_policies

    return dtype_policies.get(dtype).compute_dtype


def _as_tensor(x, dtype):
    if isinstance(x, Tensor):
        return x if x.dtype == dtype else ops.cast(x, dtype)
    if hasattr(x, "numpy") and not isinstance(x, np.ndarray):
        x = x.numpy()
    if dtype in ("float32", "float64"):  # the common case, without convert_to_tensor's checks
        return tensor_from_array(np.asarray(x, dtype=dtype, order="C"))
    return convert_to_tensor(np.asarray(x), dtype)


class LossFunctionWrapper(FunctionWrapperConfig, Loss):
    """A Loss around a function fn(y_true, y_pred, **kwargs) returning per-sample values."""

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        super().__init__(name=name or getattr(fn, "__name__", None), reduction=reduction, dtype=dtype)
        self.fn = fn
        self._fn_kwargs = kwargs

    @property
    def fn_kwargs(self):
        return self._fn_kwargs

    def call(self, y_true, y_pred):
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self):
        return self._wrapped_fn_config({**super().get_config(), **self._fn_kwargs}, self.fn)

    _fn_kind = "loss"

    @classmethod
    def _fn_table(cls):
        from kcore import losses

        return dict(losses._REGISTRY.items())

    def __repr__(self):
        return f"<LossFunctionWrapper({self.fn.__name__}, kwargs={self._fn_kwargs})>"


LossFunctionWrapper._wrapper_base = LossFunctionWrapper


def squeeze_or_expand(x, y):
    """Keras's rank matching of two arrays (kcore tensors or NumPy): when the ranks differ by one and the longer
    one ends in a 1, the shorter one (if rank 1) gains a trailing axis, otherwise the longer one loses it."""
    if x.ndim == y.ndim + 1 and x.shape[-1] == 1:
        return (x, _expand(y)) if y.ndim == 1 else (_squeeze(x), y)
    if y.ndim == x.ndim + 1 and y.shape[-1] == 1:
        return (_expand(x), y) if x.ndim == 1 else (x, _squeeze(y))
    return x, y


def _expand(a):
    return ops.expand_dims(a, -1) if isinstance(a, Tensor) else a[..., None]


def _squeeze(a):
    return ops.squeeze(a, -1) if isinstance(a, Tensor) else a[..., 0]


def reduce_weighted_values(values, sample_weight=None, mask=None, reduction="sum_over_batch_size"):
    """Keras's reduction of loss values: the mask (given, or set on `values` by the loss) and the sample weights
    become one weight array, multiplied in; then `reduction` applies (see `Loss`)."""
    reduction = standardize_reduction(reduction)
    values = values if isinstance(values, Tensor) else convert_to_tensor(np.asarray(values, np.float32))
    if mask is None:
        mask = _mask_of(values)
    weights = None if sample_weight is None else np.asarray(
        sample_weight.numpy() if isinstance(sample_weight, Tensor) else sample_weight, dtype=values.dtype)
    if mask is not None:
        mask = np.asarray(mask, dtype=bool)
        if reduction in ("mean", "sum_over_batch_size"):  # masked-out entries leave the count too
            size, valid = mask.size, mask.sum()
            batch = current_batch()  # a distributed step: the mean runs over the global batch's kept values
            if batch is not None:
                size, valid = batch.global_counts(size, valid)
            mask_weights = np.where(mask, size / valid if valid else 0.0, 0.0).astype(values.dtype)
        else:
            mask_weights = mask.astype(values.dtype)
        if weights is None:
            weights = mask_weights
        else:
            mask_weights, weights = squeeze_or_expand(mask_weights, weights)
            weights = _left_broadcast(weights, mask_weights.ndim) * mask_weights
    if weights is not None:
        values, weights = squeeze_or_expand(values, weights)
        if weights.ndim > values.ndim:
            what = "sample_weight" if mask is None else "sample_weight combined with the mask"
            raise ValueError(f"loss reduction: {what} of shape {weights.shape} has more axes than the loss values "
                             f"of shape {tuple(values.shape)}")
        values = ops.multiply(values, _left_broadcast(weights, values.ndim))
    return _reduce(values, weights, reduction)


def _left_broadcast(weights, ndim):
    """Per-sample weights (N,) gain trailing axes so they multiply values (N, ...) sample by sample."""
    return weights.reshape(weights.shape + (1,) * max(0, ndim - weights.ndim))


def _reduce(values, weights, reduction):
    if reduction in (None, "none") or tuple(values.shape) in ((), (0,)):
        return values
    batch = current_batch()  # a distributed step: this rank holds part of the global batch
    if batch is None and weights is None and values.size and reduction in ("mean", "sum_over_batch_size"):
        return _mean(values)  # the common case, one native reduction
    total = ops.sum(values)
    if reduction == "sum":
        return total if batch is None or not batch.dummy else ops.multiply(total, 0.0)
    if reduction == "mean_with_sample_weight" and weights is not None:
        divisor = float(np.sum(weights))
        if batch is not None:  # the ranks' SUM of local sums / the global weight is the global result
            divisor = batch.global_counts(0.0, divisor)[1]
            total = ops.multiply(total, 0.0) if batch.dummy else total
        return ops.divide(total, divisor) if divisor else ops.multiply(total, 0.0)
    mean = ops.divide(total, float(values.size)) if values.size else ops.multiply(total, 0.0)
    # distributed: local mean * local/global rows = local sum / global count; the ranks' SUM is the global mean
    return mean if batch is None else ops.multiply(mean, batch.fraction)


def reduce_loss(values, sample_weight=None, reduction="sum_over_batch_size"):
    """Kept for callers of the old name: see `reduce_weighted_values`."""
    return reduce_weighted_values(values, sample_weight, reduction=reduction)
