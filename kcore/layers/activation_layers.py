"""Activation layers (Keras 3): ReLU, LeakyReLU, PReLU, ELU and Softmax."""
import warnings

import numpy as np

from kcore import activations, constraints, initializers, ops, regularizers
from kcore.backend.tensor import Tensor, convert_to_tensor
from kcore.layers.layer import InputSpec, Layer


class _Elementwise(Layer):
    """An activation layer: any input shape, output of the same shape, masks pass through."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def compute_output_shape(self, input_shape):
        return input_shape


def _non_negative(value, name, layer, allow_none=False):
    if value is None and allow_none:
        return None
    if value is None or value < 0:
        raise ValueError(f"{layer}: `{name}` cannot be None or a negative value. Received: {name}={value!r}")
    return float(value)


class ReLU(_Elementwise):
    """Rectified linear unit with Keras's options.

    f(x) = max_value for x >= max_value, x for threshold <= x < max_value,
    negative_slope * (x - threshold) otherwise.
    """

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        self.max_value = _non_negative(max_value, "max_value", "ReLU", allow_none=True)
        self.negative_slope = _non_negative(negative_slope, "negative_slope", "ReLU")
        self.threshold = _non_negative(threshold, "threshold", "ReLU")

    def call(self, inputs):
        return activations.relu(inputs, negative_slope=self.negative_slope, max_value=self.max_value,
                                threshold=self.threshold)

    _config_attrs = ("max_value", "negative_slope", "threshold")


class LeakyReLU(_Elementwise):
    """f(x) = x for x >= 0, negative_slope * x otherwise (Keras 3 default slope 0.3; `alpha` is the old name)."""

    def __init__(self, negative_slope=0.3, **kwargs):
        if "alpha" in kwargs:
            negative_slope = kwargs.pop("alpha")
            warnings.warn("LeakyReLU: argument `alpha` is deprecated. Use `negative_slope` instead.", stacklevel=2)
        super().__init__(**kwargs)
        self.negative_slope = _non_negative(negative_slope, "negative_slope", "LeakyReLU")

    def call(self, inputs):
        return activations.leaky_relu(inputs, negative_slope=self.negative_slope)

    _config_attrs = ("negative_slope",)


class ELU(_Elementwise):
    """Exponential linear unit: x for x > 0, alpha * (exp(x) - 1) otherwise."""

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = float(alpha)

    def call(self, inputs):
        return activations.elu(inputs, alpha=self.alpha)

    _config_attrs = ("alpha",)


class PReLU(_Elementwise):
    """Parametric ReLU: f(x) = x for x >= 0, alpha * x otherwise, with a learned `alpha`.

    alpha has the input's shape without the batch axis; `shared_axes` (1-based, e.g. [1, 2] for
    images) share one alpha along those axes.
    """

    def __init__(self, alpha_initializer="Zeros", alpha_regularizer=None, alpha_constraint=None, shared_axes=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        self.alpha_constraint = constraints.get(alpha_constraint)
        if shared_axes is None:
            self.shared_axes = None
        else:
            self.shared_axes = [int(a) for a in (shared_axes if isinstance(shared_axes, (list, tuple))
                                                 else [shared_axes])]

    def build(self, input_shape):
        shape = list(input_shape[1:])
        for axis in self.shared_axes or []:
            if not 1 <= axis <= len(shape):
                raise ValueError(f"Layer '{self.name}': shared_axes {self.shared_axes} must name axes 1.."
                                 f"{len(shape)} of the input shape {tuple(input_shape)}")
            shape[axis - 1] = 1
        if any(d is None for d in shape):
            raise ValueError(f"Layer '{self.name}': the input shape {tuple(input_shape)} has unknown axes; share "
                             "them with `shared_axes` or give the full shape")
        self.alpha = self.add_weight(name="alpha", shape=shape, initializer=self.alpha_initializer,
                                     regularizer=self.alpha_regularizer, constraint=self.alpha_constraint)
        axes = {i: input_shape[i] for i in range(1, len(input_shape)) if i not in (self.shared_axes or [])}
        self.input_spec = InputSpec(ndim=len(input_shape), axes=axes)
        self.built = True

    def call(self, inputs):
        negative = ops.relu(ops.negative(inputs))
        return ops.subtract(ops.relu(inputs), ops.multiply(self.alpha, negative))

    def get_config(self):
        config = super().get_config()
        config.update({"alpha_initializer": initializers.serialize(self.alpha_initializer),
                       "alpha_regularizer": regularizers.serialize(self.alpha_regularizer),
                       "alpha_constraint": constraints.serialize(self.alpha_constraint),
                       "shared_axes": self.shared_axes})
        return config


class Softmax(_Elementwise):
    """Softmax over `axis` (an int or a list of ints); masked positions (mask 0) get zero probability."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = list(axis) if isinstance(axis, (list, tuple)) else int(axis)

    def call(self, inputs, mask=None):
        keep = None
        if mask is not None:
            keep = self._mask(mask, inputs)
            # masked logits become -1e9; keep * x is exact for 0/1 masks
            inputs = ops.add(ops.multiply(inputs, keep), ops.multiply(ops.subtract(1.0, keep), -1e9))
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        if len(axes) == 1:
            outputs = activations.softmax(inputs, axis=axes[0])
        else:
            shifted = ops.subtract(inputs, ops.stop_gradient(ops.max(inputs, axis=tuple(axes), keepdims=True)))
            e = ops.exp(shifted)
            outputs = ops.divide(e, ops.sum(e, axis=tuple(axes), keepdims=True))
        if keep is not None:  # an all-masked row is zeros, not a uniform distribution
            outputs = ops.multiply(outputs, keep)
        return outputs

    def _mask(self, mask, inputs):
        m = np.asarray(mask.numpy() if isinstance(mask, Tensor) else mask)
        if m.ndim > inputs.ndim or any(a != 1 and a != b for a, b in zip(m.shape[::-1], inputs.shape[::-1])):
            raise ValueError(f"Layer '{self.name}': the mask must be broadcastable to the inputs (each mask axis 1 or "
                             f"equal to the input's). Received: inputs.shape={tuple(inputs.shape)}, "
                             f"mask.shape={m.shape}")
        keep = (m > 0.5) if m.dtype != bool else m
        return convert_to_tensor(keep.astype(inputs.dtype))

    _config_attrs = ("axis",)
