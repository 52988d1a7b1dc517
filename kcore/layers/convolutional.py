"""Convolution layers: one BaseConv parameterised by rank, and thin Conv1D / Conv2D / Conv3D.

The argument handling, input-channel check and output shape shared with the depthwise and
separable layers (kcore/layers/depthwise.py) live in the helpers below.
"""
import numpy as np

from kcore import activations, ops, regularizers
from kcore.layers.layer import InputSpec
from kcore.layers.spatial import SpatialLayer, check_input_rank  # noqa: F401 (check_input_rank re-exported)
from kcore.layers.weight_options import set_weight_options, weight_options_config
from kcore.ops.conv import conv_transpose_length, normalize_padding, normalize_tuple, output_length


def positive_int(layer_name, name, value):
    """value as an int; a clear ValueError unless it is a positive integer (bools rejected)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{layer_name}: {name} must be a positive integer, got {value!r}")
    return int(value)


class ConvGeometry(SpatialLayer):
    """What every convolution layer shares: kernel_size, strides, padding (validated here, once),
    dilation_rate, activation and use_bias; the input-channel check; the output shape by `output_length`.

    strides > 1 with dilation_rate > 1 is an error unless `stride_with_dilation` (Keras 3's depthwise
    and separable layers accept it); 'causal' padding only where `allow_causal`."""

    activation = activations.ActivationAttribute()

    def __init__(self, rank, kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                 allow_causal, stride_with_dilation=False, **kwargs):
        super().__init__(rank, data_format, **kwargs)
        name = type(self).__name__
        self.kernel_size = normalize_tuple(kernel_size, rank, "kernel_size", name)
        self.strides = normalize_tuple(strides, rank, "strides", name)
        self.dilation_rate = normalize_tuple(dilation_rate, rank, "dilation_rate", name)
        if not stride_with_dilation and max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(f"{name}: strides > 1 not supported in conjunction with dilation_rate > 1. Received: "
                             f"strides={self.strides} and dilation_rate={self.dilation_rate}")
        self.padding = normalize_padding(padding, name, allow_causal=allow_causal)
        if self.padding == "causal" and self.data_format == "channels_first":
            raise ValueError(f"{name}: causal padding is only supported with data_format='channels_last'")
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.activity_regularizer = regularizers.get(self.activity_regularizer)  # names like "l2" too
        self.input_spec = InputSpec(min_ndim=rank + 2)

    def geometry_config(self):
        """The config entries ConvGeometry reads back."""
        return {"kernel_size": self.kernel_size, "strides": self.strides, "padding": self.padding,
                "data_format": self.data_format, "dilation_rate": self.dilation_rate,
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                "activity_regularizer": regularizers.serialize(self.activity_regularizer)}

    def input_channels(self, input_shape):
        """The (known) channel count of the input, after the rank check."""
        self.check_input_rank(input_shape)
        channels = input_shape[self.channel_axis]
        if channels is None:
            raise ValueError(f"Layer '{self.name}': the channel dimension of the inputs must be known, got input "
                             f"shape {tuple(input_shape)}")
        return int(channels)

    def _lock_channels(self, channels):
        """After build: inputs must keep `channels` channels."""
        self.input_spec = InputSpec(ndim=self.rank + 2, axes={self.channel_axis: channels})

    def _add_bias(self, size):
        return (self.add_weight("bias", (size,), self.bias_initializer, regularizer=self.bias_regularizer,
                                constraint=self.bias_constraint) if self.use_bias else None)

    _conv_op = None  # ops.conv or ops.depthwise_conv: (inputs, kernel, strides, padding, format, dilation, bias=)

    def call(self, inputs):
        y = self._conv_op(inputs, self.kernel, self.strides, self.padding, self.data_format, self.dilation_rate,
                          bias=self.bias)
        return self.activation(y)

    def _output_channels(self, input_shape):
        """The output channel count for this input (`filters` unless a subclass says otherwise)."""
        return self.filters

    def compute_output_shape(self, input_shape):
        return self.conv_output_shape(input_shape, self._output_channels(input_shape))

    def conv_output_shape(self, input_shape, channels_out):
        """Keras's output shape of a (non-transposed) conv with `channels_out` output channels."""
        shape = self.spatial_output_shape(
            input_shape, lambda i, n: output_length(n, self.kernel_size[i], self.strides[i], self.dilation_rate[i],
                                                    self.padding), channels_out)
        if any(o is not None and o <= 0 for o in (shape[a] for a in self.spatial_axes())):
            raise ValueError(f"Layer '{self.name}': computed output size would be negative or zero for input "
                             f"shape {tuple(input_shape)} with kernel_size={self.kernel_size}, strides={self.strides}, "
                             f"dilation_rate={self.dilation_rate}, padding='{self.padding}'")
        return shape


class BaseConv(ConvGeometry):
    """N-d convolution layer: y = activation(conv(x, kernel) + bias).

    kernel (*kernel_size, in_channels / groups, filters) and bias (filters,), as in Keras: with
    groups > 1, filter block i sees only input-channel block i (both split evenly into groups).
    """

    _allow_causal = True  # for rank 1

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 groups=1, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, **kwargs):
        name = type(self).__name__
        filters = positive_int(name, "filters", filters)
        groups = positive_int(name, "groups", groups)
        if filters % groups:
            raise ValueError(f"{name}: the number of filters must be evenly divisible by the number of groups. "
                             f"Received: groups={groups}, filters={filters}")
        super().__init__(rank, kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                         allow_causal=rank == 1 and self._allow_causal, **kwargs)
        self.filters, self.groups = filters, groups
        set_weight_options(self, kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                           kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                           kernel_constraint=kernel_constraint, bias_constraint=bias_constraint)

    def _kernel_shape(self, channels, input_shape):
        """The kernel's shape for inputs with `channels` channels."""
        if channels % self.groups:
            raise ValueError(f"Layer '{self.name}' ({type(self).__name__}): the number of input channels must be "
                             f"evenly divisible by the number of groups. Received groups={self.groups}, but the "
                             f"input has {channels} channels (full input shape is {tuple(input_shape)})")
        return self.kernel_size + (channels // self.groups, self.filters)

    def build(self, input_shape):
        channels = self.input_channels(input_shape)
        self.kernel = self.add_weight("kernel", self._kernel_shape(channels, input_shape), self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.bias = self._add_bias(self.filters)
        self._lock_channels(channels)
        self.built = True

    _conv_op = staticmethod(ops.conv)

    _config_attrs = ("filters", "groups")

    def get_config(self):
        return {**super().get_config(), **self.geometry_config(), **weight_options_config(self, "kernel", "bias")}


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

    _allow_causal = False

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid", output_padding=None,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True, **kwargs):
        super().__init__(rank, filters, kernel_size, strides, padding, data_format, dilation_rate, 1, activation,
                         use_bias, **kwargs)
        self.output_padding = None if output_padding is None else normalize_tuple(
            output_padding, rank, "output_padding", type(self).__name__, allow_zero=True)
        if self.output_padding is not None and any(p >= s for p, s in zip(self.output_padding, self.strides)):
            raise ValueError(f"{type(self).__name__}: output_padding {self.output_padding} must be smaller than "
                             f"strides {self.strides}")

    def _kernel_shape(self, channels, input_shape):
        return self.kernel_size + (self.filters, channels)

    def call(self, inputs):
        y = ops.conv_transpose(inputs, self.kernel, self.strides, self.padding, self.output_padding,
                               self.data_format, self.dilation_rate, bias=self.bias)
        return self.activation(y)

    def compute_output_shape(self, input_shape):
        pads = self.output_padding or (None,) * self.rank
        return self.spatial_output_shape(
            input_shape, lambda i, n: conv_transpose_length(n, self.kernel_size[i], self.strides[i],
                                                            self.dilation_rate[i], self.padding, pads[i]),
            self.filters)

    def get_config(self):
        config = super().get_config()
        config.pop("groups", None)
        config["output_padding"] = self.output_padding
        return config


class Conv1DTranspose(BaseConvTranspose):
    """1-D transposed convolution over (batch, steps, channels)."""

    def __init__(self, filters, kernel_size, strides=1, padding="valid", output_padding=None, data_format=None,
                 dilation_rate=1, activation=None, use_bias=True, **kwargs):
        super().__init__(1, filters, kernel_size, strides, padding, output_padding, data_format, dilation_rate,
                         activation, use_bias, **kwargs)


class Conv2DTranspose(BaseConvTranspose):
    """2-D transposed convolution over (batch, rows, cols, channels)."""

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", output_padding=None, data_format=None,
                 dilation_rate=(1, 1), activation=None, use_bias=True, **kwargs):
        super().__init__(2, filters, kernel_size, strides, padding, output_padding, data_format, dilation_rate,
                         activation, use_bias, **kwargs)


class Conv3DTranspose(BaseConvTranspose):
    """3-D transposed convolution over (batch, dim1, dim2, dim3, channels)."""

    def __init__(self, filters, kernel_size, strides=(1, 1, 1), padding="valid", output_padding=None,
                 data_format=None, dilation_rate=(1, 1, 1), activation=None, use_bias=True, **kwargs):
        super().__init__(3, filters, kernel_size, strides, padding, output_padding, data_format, dilation_rate,
                         activation, use_bias, **kwargs)


Convolution1D, Convolution2D, Convolution3D = Conv1D, Conv2D, Conv3D
Convolution2DTranspose, Convolution3DTranspose = Conv2DTranspose, Conv3DTranspose
