"""Convolution layers: one BaseConv parameterised by rank, and thin Conv1D / Conv2D / Conv3D.

The argument handling, input-channel check and output shape shared with the depthwise and
separable layers (kcore/layers/depthwise.py) live in the helpers below.
"""
import numpy as np

from kcore import activations, constraints, initializers, ops, regularizers
from kcore.layers.layer import InputSpec, Layer
from kcore.ops.conv import (
    conv_transpose_length, normalize_data_format, normalize_padding, normalize_tuple, output_length,
)

_AXIS_NAMES = {1: "steps", 2: "rows, cols", 3: "dim1, dim2, dim3"}


def expected_layout(rank, data_format):
    spatial = _AXIS_NAMES[rank]
    return f"(batch, channels, {spatial})" if data_format == "channels_first" else f"(batch, {spatial}, channels)"


def check_input_rank(layer, input_shape, rank):
    """A clear error for inputs of the wrong rank, before any weight is created."""
    shape = tuple(input_shape)
    if len(shape) == rank + 2:
        return
    hint = ""
    if len(shape) == rank + 1:
        hint = (" It looks like one axis is missing: add the batch axis (x[None] or x.reshape(1, ...)) for a "
                "single sample, or the channel axis (x[..., None]) for single-channel data.")
    raise ValueError(f"Input 0 of layer '{layer.name}' ({type(layer).__name__}) is incompatible with the layer: "
                     f"expected ndim={rank + 2} {expected_layout(rank, layer.data_format)}, found ndim={len(shape)}. "
                     f"Full shape received: {shape}.{hint}")


def positive_int(layer_name, name, value):
    """value as an int; a clear ValueError unless it is a positive integer (bools rejected)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{layer_name}: {name} must be a positive integer, got {value!r}")
    return int(value)


def init_conv_geometry(layer, rank, kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                       allow_causal, stride_with_dilation=False):
    """Sets and checks the arguments every conv layer shares (rank, kernel_size, strides, padding...).

    strides > 1 with dilation_rate > 1 is an error unless `stride_with_dilation` (Keras 3's depthwise
    and separable layers accept it)."""
    name = type(layer).__name__
    layer.rank = rank
    layer.kernel_size = normalize_tuple(kernel_size, rank, "kernel_size", name)
    layer.strides = normalize_tuple(strides, rank, "strides", name)
    layer.dilation_rate = normalize_tuple(dilation_rate, rank, "dilation_rate", name)
    if not stride_with_dilation and max(layer.strides) > 1 and max(layer.dilation_rate) > 1:
        raise ValueError(f"{name}: strides > 1 not supported in conjunction with dilation_rate > 1. Received: "
                         f"strides={layer.strides} and dilation_rate={layer.dilation_rate}")
    layer.padding = normalize_padding(padding, name, allow_causal=allow_causal)
    layer.data_format = normalize_data_format(data_format)
    if layer.padding == "causal" and layer.data_format == "channels_first":
        raise ValueError(f"{name}: causal padding is only supported with data_format='channels_last'")
    layer.activation = activations.get(activation)
    layer.use_bias = bool(use_bias)
    layer.activity_regularizer = regularizers.get(layer.activity_regularizer)  # names like "l2" too
    layer.input_spec = InputSpec(min_ndim=rank + 2)


def geometry_config(layer):
    """The config entries init_conv_geometry reads back."""
    return {"kernel_size": layer.kernel_size, "strides": layer.strides, "padding": layer.padding,
            "data_format": layer.data_format, "dilation_rate": layer.dilation_rate,
            "activation": activations.serialize(layer.activation), "use_bias": layer.use_bias,
            "activity_regularizer": regularizers.serialize(layer.activity_regularizer)}


def channel_axis(layer):
    return 1 if layer.data_format == "channels_first" else -1


def input_channels(layer, input_shape):
    """The (known) channel count of a conv layer's input, after the rank check."""
    check_input_rank(layer, input_shape, layer.rank)
    channels = input_shape[channel_axis(layer)]
    if channels is None:
        raise ValueError(f"Layer '{layer.name}': the channel dimension of the inputs must be known, got input "
                         f"shape {tuple(input_shape)}")
    return int(channels)


def conv_output_shape(layer, input_shape, channels_out):
    """Keras's output shape of a (non-transposed) conv layer with `channels_out` output channels."""
    check_input_rank(layer, input_shape, layer.rank)
    shape = tuple(input_shape)
    spatial = shape[2:] if layer.data_format == "channels_first" else shape[1:-1]
    out = tuple(output_length(n, k, s, d, layer.padding)
                for n, k, s, d in zip(spatial, layer.kernel_size, layer.strides, layer.dilation_rate))
    for o in out:
        if o is not None and o <= 0:
            raise ValueError(f"Layer '{layer.name}': computed output size would be negative or zero for input "
                             f"shape {shape} with kernel_size={layer.kernel_size}, strides={layer.strides}, "
                             f"dilation_rate={layer.dilation_rate}, padding='{layer.padding}'")
    if layer.data_format == "channels_first":
        return (shape[0], channels_out) + out
    return (shape[0],) + out + (channels_out,)


class BaseConv(Layer):
    """N-d convolution layer: y = activation(conv(x, kernel) + bias).

    kernel (*kernel_size, in_channels / groups, filters) and bias (filters,), as in Keras: with
    groups > 1, filter block i sees only input-channel block i (both split evenly into groups).
    """

    activation = activations.ActivationAttribute()

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 groups=1, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        name = type(self).__name__
        self.filters = positive_int(name, "filters", filters)
        self.groups = positive_int(name, "groups", groups)
        if self.filters % self.groups:
            raise ValueError(f"{name}: the number of filters must be evenly divisible by the number of groups. "
                             f"Received: groups={groups}, filters={filters}")
        init_conv_geometry(self, rank, kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                           allow_causal=rank == 1)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)

    def build(self, input_shape):
        channels = input_channels(self, input_shape)
        if channels % self.groups:
            raise ValueError(f"Layer '{self.name}' ({type(self).__name__}): the number of input channels must be "
                             f"evenly divisible by the number of groups. Received groups={self.groups}, but the "
                             f"input has {channels} channels (full input shape is {tuple(input_shape)})")
        self.kernel = self.add_weight("kernel", self.kernel_size + (channels // self.groups, self.filters),
                                      self.kernel_initializer, regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.bias = (self.add_weight("bias", (self.filters,), self.bias_initializer, regularizer=self.bias_regularizer,
                                     constraint=self.bias_constraint) if self.use_bias else None)
        self.input_spec = InputSpec(ndim=self.rank + 2, axes={channel_axis(self): channels})
        self.built = True

    def call(self, inputs):
        y = ops.conv(inputs, self.kernel, self.strides, self.padding, self.data_format, self.dilation_rate,
                     bias=self.bias)
        return self.activation(y)

    def compute_output_shape(self, input_shape):
        return conv_output_shape(self, input_shape, self.filters)

    def get_config(self):
        config = super().get_config()
        config.update({"filters": self.filters, "groups": self.groups, **geometry_config(self)})
        config.update({
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
        })
        return config


class Conv1D(BaseConv):
    """1-D convolution over (batch, steps, channels); padding 'valid', 'same' or 'causal'.

    Keras 2's `input_dim=` / `input_length=` on a first Conv1D mean input_shape=(input_length, input_dim).
    """

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1, groups=1,
                 activation=None, use_bias=True, **kwargs):
        if "input_dim" in kwargs and "input_shape" not in kwargs and "batch_input_shape" not in kwargs:
            kwargs["input_shape"] = (kwargs.pop("input_length", None), kwargs.pop("input_dim"))
        super().__init__(1, filters, kernel_size, strides, padding, data_format, dilation_rate, groups, activation,
                         use_bias, **kwargs)


class Conv2D(BaseConv):
    """2-D convolution over (batch, rows, cols, channels)."""

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None, dilation_rate=(1, 1),
                 groups=1, activation=None, use_bias=True, **kwargs):
        super().__init__(2, filters, kernel_size, strides, padding, data_format, dilation_rate, groups, activation,
                         use_bias, **kwargs)


class Conv3D(BaseConv):
    """3-D convolution over (batch, dim1, dim2, dim3, channels)."""

    def __init__(self, filters, kernel_size, strides=(1, 1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1, 1), groups=1, activation=None, use_bias=True, **kwargs):
        super().__init__(3, filters, kernel_size, strides, padding, data_format, dilation_rate, groups, activation,
                         use_bias, **kwargs)


class BaseConvTranspose(BaseConv):
    """N-d transposed convolution: kernel (*kernel_size, filters, in_channels), bias (filters,)."""

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid", output_padding=None,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True, **kwargs):
        super().__init__(rank, filters, kernel_size, strides, padding, data_format, dilation_rate, 1, activation,
                         use_bias, **kwargs)
        if self.padding == "causal":
            raise ValueError(f"{type(self).__name__}: padding must be 'valid' or 'same', got 'causal'")
        self.output_padding = None if output_padding is None else normalize_tuple(
            output_padding, rank, "output_padding", type(self).__name__, allow_zero=True)
        if self.output_padding is not None and any(p >= s for p, s in zip(self.output_padding, self.strides)):
            raise ValueError(f"{type(self).__name__}: output_padding {self.output_padding} must be smaller than "
                             f"strides {self.strides}")

    def build(self, input_shape):
        channels = input_channels(self, input_shape)
        self.kernel = self.add_weight("kernel", self.kernel_size + (self.filters, channels), self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.bias = (self.add_weight("bias", (self.filters,), self.bias_initializer, regularizer=self.bias_regularizer,
                                     constraint=self.bias_constraint) if self.use_bias else None)
        self.input_spec = InputSpec(ndim=self.rank + 2, axes={channel_axis(self): channels})
        self.built = True

    def call(self, inputs):
        y = ops.conv_transpose(inputs, self.kernel, self.strides, self.padding, self.output_padding,
                               self.data_format, self.dilation_rate, bias=self.bias)
        return self.activation(y)

    def compute_output_shape(self, input_shape):
        check_input_rank(self, input_shape, self.rank)
        shape = tuple(input_shape)
        first = self.data_format == "channels_first"
        spatial = shape[2:] if first else shape[1:-1]
        pads = self.output_padding or (None,) * self.rank
        out = tuple(conv_transpose_length(n, k, s, d, self.padding, p)
                    for n, k, s, d, p in zip(spatial, self.kernel_size, self.strides, self.dilation_rate, pads))
        return (shape[0], self.filters) + out if first else (shape[0],) + out + (self.filters,)

    def get_config(self):
        config = super().get_config()
        config.pop("groups", None)
        config["output_padding"] = self.output_padding
        return config


class Conv1DTranspose(BaseConvTranspose):
    def __init__(self, filters, kernel_size, strides=1, padding="valid", output_padding=None, data_format=None,
                 dilation_rate=1, activation=None, use_bias=True, **kwargs):
        super().__init__(1, filters, kernel_size, strides, padding, output_padding, data_format, dilation_rate,
                         activation, use_bias, **kwargs)


class Conv2DTranspose(BaseConvTranspose):
    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", output_padding=None, data_format=None,
                 dilation_rate=(1, 1), activation=None, use_bias=True, **kwargs):
        super().__init__(2, filters, kernel_size, strides, padding, output_padding, data_format, dilation_rate,
                         activation, use_bias, **kwargs)


class Conv3DTranspose(BaseConvTranspose):
    def __init__(self, filters, kernel_size, strides=(1, 1, 1), padding="valid", output_padding=None,
                 data_format=None, dilation_rate=(1, 1, 1), activation=None, use_bias=True, **kwargs):
        super().__init__(3, filters, kernel_size, strides, padding, output_padding, data_format, dilation_rate,
                         activation, use_bias, **kwargs)


Convolution1D, Convolution2D, Convolution3D = Conv1D, Conv2D, Conv3D
Convolution2DTranspose, Convolution3DTranspose = Conv2DTranspose, Conv3DTranspose
