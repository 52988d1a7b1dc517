"""Regularization layers (Keras 3): SpatialDropout1D/2D/3D, GaussianNoise, GaussianDropout, AlphaDropout,
ActivityRegularization. The random ones act only in training; at inference they return their input."""
import math

import numpy as np

from kcore import ops, regularizers
from kcore.layers.layer import InputSpec, Layer
from kcore.ops.random import dropout_mask, uniform_like
from kcore.utils.rng import next_seed


def _unit_rate(value, name, layer):
    if value is None or not 0 <= value <= 1:
        raise ValueError(f"{layer}: invalid value received for argument `{name}`. Expected a float value between 0 "
                         f"and 1. Received: {name}={value!r}")
    return float(value)


class _Random(Layer):
    """A layer drawing fresh noise each training call: from its own seeded stream, or kcore's global one."""

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self._rng = np.random.default_rng(seed) if seed is not None else None
        self.supports_masking = True

    def _next_seed(self):
        return next_seed(int(self._rng.integers(0, 2**63 - 1)) if self._rng is not None else None)

    def _normal(self, like, mean, stddev):
        """Normal noise shaped like `like`, drawn natively (Box-Muller over two uniform draws)."""
        shape = list(like.shape)
        u1 = uniform_like(shape, self._next_seed(), like)
        u2 = uniform_like(shape, self._next_seed(), like)
        radius = ops.sqrt(ops.multiply(ops.log(ops.subtract(1.0, u1)), -2.0))  # 1 - u1 lies in (0, 1]
        z = ops.multiply(radius, ops.cos(ops.multiply(u2, 2.0 * math.pi)))
        return ops.add(ops.multiply(z, stddev), mean)

    def compute_output_shape(self, input_shape):
        return input_shape


class _SpatialDropout(_Random):
    """Drops whole feature maps: one draw per (sample, channel), shared over the other axes."""

    _rank = None

    def __init__(self, rate, data_format=None, seed=None, name=None, dtype=None, **kwargs):
        super().__init__(seed=seed, name=name, dtype=dtype, **kwargs)
        from kcore.backend.config import image_data_format

        self.rate = _unit_rate(rate, "rate", type(self).__name__)
        fmt = data_format or image_data_format()
        if fmt not in ("channels_last", "channels_first"):
            raise ValueError(f"{type(self).__name__}: data_format must be 'channels_last' or 'channels_first', "
                             f"got {data_format!r}")
        self.data_format = fmt
        self.input_spec = InputSpec(ndim=self._rank)

    def call(self, inputs, training=None):
        if not training or self.rate == 0:
            return inputs
        if self.rate == 1:
            return ops.multiply(inputs, 0.0)
        shape = list(inputs.shape)
        channel = 1 if self.data_format == "channels_first" else len(shape) - 1
        noise = [shape[0]] + [shape[i] if i == channel else 1 for i in range(1, len(shape))]
        return ops.dropout(inputs, self.rate, noise, self._next_seed())

    def get_config(self):
        # Keras's spatial dropouts take only these (no `trainable`; the dtype is the variable dtype's name)
        config = {"rate": self.rate, "seed": self.seed, "name": self.name, "dtype": self.variable_dtype}
        if self._rank > 3:
            config["data_format"] = self.data_format
        return config


class SpatialDropout1D(_SpatialDropout):
    """Dropout of whole channels of (batch, steps, channels) inputs."""

    _rank = 3

    def __init__(self, rate, seed=None, name=None, dtype=None, **kwargs):
        super().__init__(rate, data_format="channels_last", seed=seed, name=name, dtype=dtype, **kwargs)


class SpatialDropout2D(_SpatialDropout):
    """Dropout of whole 2-D feature maps (NHWC, or NCHW with data_format='channels_first')."""

    _rank = 4


class SpatialDropout3D(_SpatialDropout):
    """Dropout of whole 3-D feature maps (NDHWC, or NCDHW with data_format='channels_first')."""

    _rank = 5


class GaussianNoise(_Random):
    """Adds zero-mean normal noise of standard deviation `stddev` in training."""

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.stddev = _unit_rate(stddev, "stddev", "GaussianNoise")

    def call(self, inputs, training=None):
        if not training or self.stddev == 0:
            return inputs
        return ops.add(inputs, self._normal(inputs, 0.0, self.stddev))

    _config_attrs = ("stddev", "seed")


class GaussianDropout(_Random):
    """Multiplies by normal noise of mean 1 and standard deviation sqrt(rate / (1 - rate)) in training."""

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.rate = _unit_rate(rate, "rate", "GaussianDropout")

    def call(self, inputs, training=None):
        if not training or self.rate == 0:
            return inputs
        return ops.multiply(inputs, self._normal(inputs, 1.0, math.sqrt(self.rate / (1.0 - self.rate))))

    _config_attrs = ("rate", "seed")


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


class AlphaDropout(_Random):
    """Dropout that keeps SELU's self-normalisation: dropped units take SELU's negative saturation,
    then an affine map restores the mean and variance."""

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.rate = _unit_rate(rate, "rate", "AlphaDropout")
        self.noise_shape = None if noise_shape is None else list(noise_shape)

    def call(self, inputs, training=None):
        if not training or self.rate == 0:
            return inputs
        shape = list(inputs.shape)
        if self.noise_shape is not None:
            if len(self.noise_shape) != len(shape):
                raise ValueError(f"Layer '{self.name}': noise_shape {self.noise_shape} must have the rank of the "
                                 f"input shape {tuple(shape)}")
            shape = [s if d is None else int(d) for s, d in zip(shape, self.noise_shape)]
        rate = self.rate
        if rate >= 1:
            raise ValueError(f"Layer '{self.name}': AlphaDropout with rate=1 drops every unit; its rescaling "
                             "(1 - rate) ** -0.5 is undefined")
        # 1 where kept, 0 where dropped (the sign of an inverted-dropout mask)
        kept = ops.sign(dropout_mask(shape, rate, self._next_seed(), inputs))
        alpha_p = -_SELU_ALPHA * _SELU_SCALE
        a = ((1 - rate) * (1 + rate * alpha_p ** 2)) ** -0.5
        b = -a * alpha_p * rate
        x = ops.add(ops.multiply(inputs, kept), ops.multiply(ops.subtract(1.0, kept), alpha_p))
        return ops.add(ops.multiply(x, a), b)

    _config_attrs = ("rate", "seed", "noise_shape")


class ActivityRegularization(Layer):
    """Returns its input unchanged and adds l1 * sum|x| + l2 * sum x^2 (per sample) to the training loss."""

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        kwargs.pop("activity_regularizer", None)
        super().__init__(activity_regularizer=regularizers.L1L2(l1=l1, l2=l2), **kwargs)
        self.l1, self.l2 = float(l1), float(l2)
        self.supports_masking = True

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    _config_attrs = ("l1", "l2")

    def get_config(self):
        config = super().get_config()
        config.pop("activity_regularizer", None)  # implied by l1 / l2 (as Keras)
        return config
