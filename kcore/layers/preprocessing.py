"""Preprocessing and simple normalization layers as Keras 3 has them: Normalization (with `adapt`), Rescaling,
UnitNormalization and Identity."""
import math

import numpy as np

from kcore import ops
from kcore.backend.tensor import Tensor
from kcore.layers.layer import Layer


class Identity(Layer):
    """Returns its input unchanged (masks pass through)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape


class Rescaling(Layer):
    """inputs * scale + offset, computed in the layer's compute dtype (e.g. `Rescaling(1. / 255)` for images).

    `scale` and `offset` are numbers or arrays broadcastable to the inputs (per channel, channels last)."""

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        for name, value in (("scale", scale), ("offset", offset)):
            values = np.asarray(value)
            if values.dtype.kind not in "biuf" or values.dtype == bool:
                raise TypeError(f"Rescaling: `{name}` must be a number or an array of numbers, got {value!r}")
        self.scale, self.offset = scale, offset
        self.supports_masking = True

    def call(self, inputs):
        dtype = self.compute_dtype
        x = ops.cast(inputs, dtype)
        scale = np.asarray(self.scale, dtype=np.float64)
        offset = np.asarray(self.offset, dtype=np.float64)
        return ops.add(ops.multiply(x, ops.cast(scale, dtype)), ops.cast(offset, dtype))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        def plain(value):
            return value.tolist() if isinstance(value, np.ndarray) else value
        return {**super().get_config(), "scale": plain(self.scale), "offset": plain(self.offset)}


class UnitNormalization(Layer):
    """Scales each sample to unit L2 norm over `axis` (an int or a list of ints): x * min(1 / ||x||, 1e12)."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)):
            axis = list(axis)
        elif not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
            raise TypeError(f"UnitNormalization: invalid axis {axis!r}: expected an int or a list of ints")
        self.axis = axis
        self.supports_masking = True

    def call(self, inputs):
        x = ops.cast(inputs, self.compute_dtype) if inputs.dtype != self.compute_dtype else inputs
        axes = tuple(self.axis) if isinstance(self.axis, list) else self.axis
        square_sum = ops.sum(ops.square(x), axis=axes, keepdims=True)
        inverse = ops.minimum(ops.reciprocal(ops.sqrt(square_sum)), 1e12)
        return ops.multiply(x, inverse)

    def compute_output_shape(self, input_shape):
        rank = len(input_shape)
        for a in self.axis if isinstance(self.axis, list) else [self.axis]:
            if not -rank <= a < rank:
                raise ValueError(f"Layer '{self.name}': axis {a} is out of bounds for input shape "
                                 f"{tuple(input_shape)}")
        return input_shape

    _config_attrs = ("axis",)


class Normalization(Layer):
    """Standardizes features: (x - mean) / max(sqrt(variance), 1e-7), per position of the kept `axis` (an int, a
    tuple of ints, or None for one mean over everything); `invert=True` maps standardized values back.

    The mean and variance come from the constructor, or from `adapt(data)` (a NumPy array, a tensor, or an
    iterable of batches), which stores them in the non-trainable weights mean, variance and count, as Keras does.
    """

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        if axis is None:
            axis = ()
        elif isinstance(axis, (int, np.integer)) and not isinstance(axis, bool):
            axis = (int(axis),)
        else:
            axis = tuple(axis)
        self.axis, self.invert = axis, bool(invert)
        if (mean is None) != (variance is None):
            raise ValueError(f"Normalization: when setting values directly, both `mean` and `variance` must be set. "
                             f"Received: mean={mean} and variance={variance}")
        if mean is not None:
            if np.shape(mean) != np.shape(variance):
                raise ValueError(f"Normalization: `mean` and `variance` must have the same shape. Received: mean "
                                 f"shape {np.shape(mean)} and variance shape {np.shape(variance)}")
            if np.ndim(mean) > len(self.axis):
                raise ValueError(f"Normalization: the rank of `mean` must be less than or equal to the number of axes "
                                 f"({len(self.axis)}). Received: mean shape {np.shape(mean)} for axis {self.axis}")
        self.input_mean, self.input_variance = mean, variance
        self._constants = None  # (mean, variance) broadcast over the input, when given in the constructor
        self.supports_masking = True

    def build(self, input_shape):
        rank = len(input_shape)
        if any(not -rank <= a < rank for a in self.axis):
            raise ValueError(f"Layer '{self.name}': all `axis` values must be in the range [-ndim, ndim). Received "
                             f"inputs with ndim={rank}, while axis={self.axis}")
        self._keep = tuple(sorted(a % rank for a in self.axis))
        if any(input_shape[d] is None for d in self._keep):
            raise ValueError(f"Layer '{self.name}': all `axis` values to be kept must have a known size. Received "
                             f"axis={self.axis}, inputs.shape={tuple(input_shape)}")
        self._reduce = tuple(d for d in range(rank) if d not in self._keep)
        self._broadcast = [input_shape[d] if d in self._keep else 1 for d in range(rank)]
        self._input_shape = tuple(input_shape)
        kept = tuple(input_shape[d] for d in self._keep)
        if self.input_mean is None:
            self.adapt_mean = self.add_weight("mean", kept, "zeros", trainable=False)
            self.adapt_variance = self.add_weight("variance", kept, "ones", trainable=False)
            self.count = self.add_weight("count", (), "zeros", dtype="int64", trainable=False)
        else:
            self._constants = tuple(self._broadcast_given(v, rank) for v in (self.input_mean, self.input_variance))
        self.built = True

    def _broadcast_given(self, value, rank):
        """A constructor mean/variance laid over the kept axes from the right, broadcast to the input's rank."""
        value = np.asarray(value, dtype=np.float64)
        shape = [1] * rank
        for i in range(1, value.ndim + 1):
            shape[self._keep[-i]] = value.shape[-i]
        try:
            return np.broadcast_to(value.reshape(shape), self._broadcast)
        except ValueError:
            raise ValueError(f"Layer '{self.name}': mean/variance of shape {value.shape} cannot be broadcast to the "
                             f"kept axes {self._keep} of inputs of shape {self._input_shape}") from None

    def adapt(self, data):
        """Sets the mean and variance from `data`: an array or tensor (statistics over the reduced axes), or an
        iterable of batches (merged batch by batch as Keras merges them)."""
        batches = None
        if isinstance(data, Tensor):
            data = data.numpy()
        if isinstance(data, np.ndarray):
            data = _batch_array(data)
            shape = data.shape
        elif hasattr(data, "__iter__") and not isinstance(data, (str, bytes)):
            iterator = iter(data)
            first = next(iterator, None)
            if first is None:
                raise ValueError("Normalization.adapt: received an empty iterable (no batches)")
            first = _batch_array(first)
            shape, batches = first.shape, _chain(first, iterator)
        else:
            raise TypeError(f"Normalization.adapt: unsupported data of type {type(data).__name__}; pass a NumPy "
                            f"array, a tensor or an iterable of batches")
        if not self.built:
            self._maybe_build(tuple(shape))
        self._check_kept(shape)
        if self.input_mean is not None:
            raise ValueError(f"Layer '{self.name}': adapt() cannot change a mean and variance given to the constructor")
        if batches is None:
            values = np.asarray(data, dtype=np.float64)
            if values.size == 0:
                raise ValueError(f"Layer '{self.name}': adapt() got no samples (data of shape {values.shape})")
            mean, variance = values.mean(axis=self._reduce), values.var(axis=self._reduce)
        else:
            mean, variance = self._merged_statistics(batches)
        self.adapt_mean.assign(np.asarray(mean, dtype=self.adapt_mean.dtype))
        self.adapt_variance.assign(np.asarray(variance, dtype=self.adapt_variance.dtype))

    def _check_kept(self, shape):
        if len(shape) != len(self._input_shape) or any(shape[d] != self._input_shape[d] for d in self._keep):
            raise ValueError(f"Layer '{self.name}': the layer was built with input_shape={self._input_shape}, but "
                             f"adapt() got data with an incompatible shape {tuple(shape)}")

    def _merged_statistics(self, batches):
        mean = variance = 0.0
        count = 0
        for batch in batches:
            batch = np.asarray(_batch_array(batch), dtype=np.float64)
            self._check_kept(batch.shape)
            batch_count = math.prod(batch.shape[d] for d in self._reduce) if self._reduce else 1
            if batch_count == 0:
                continue
            count += batch_count
            weight = batch_count / count
            batch_mean, batch_var = batch.mean(axis=self._reduce), batch.var(axis=self._reduce)
            new_mean = mean * (1.0 - weight) + batch_mean * weight
            variance = (variance + (mean - new_mean) ** 2) * (1.0 - weight) + \
                (batch_var + (batch_mean - new_mean) ** 2) * weight
            mean = new_mean
        if count == 0:
            raise ValueError(f"Layer '{self.name}': adapt() got no samples (every batch was empty)")
        return mean, variance

    def call(self, inputs):
        dtype = self.compute_dtype
        x = ops.cast(inputs, dtype) if inputs.dtype != dtype else inputs
        if self._constants is not None:
            mean, variance = (ops.cast(v, dtype) for v in self._constants)
        else:
            mean = ops.reshape(ops.cast(self.adapt_mean, dtype), self._broadcast)
            variance = ops.reshape(ops.cast(self.adapt_variance, dtype), self._broadcast)
        scale = ops.maximum(ops.sqrt(variance), 1e-7)
        if self.invert:
            return ops.add(mean, ops.multiply(x, scale))
        return ops.divide(ops.subtract(x, mean), scale)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        def plain(value):
            return np.asarray(value).tolist() if value is not None else None
        return {**super().get_config(), "axis": self.axis, "invert": self.invert, "mean": plain(self.input_mean),
                "variance": plain(self.input_variance)}


def _batch_array(batch):
    """The inputs of one batch (the first item of an (x, y, ...) tuple) as a NumPy array of numbers."""
    if isinstance(batch, (tuple, list)) and batch and not np.isscalar(batch[0]):
        batch = batch[0]
    values = batch.numpy() if isinstance(batch, Tensor) else np.asarray(batch)
    if values.dtype.kind not in "biuf" and values.dtype.name != "bfloat16":
        raise TypeError(f"Normalization.adapt: expected numeric data, got an array of dtype {values.dtype}")
    return values


def _chain(first, rest):
    yield first
    yield from rest
