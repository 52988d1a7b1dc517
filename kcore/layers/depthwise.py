"""Depthwise and separable convolution layers (Keras 3 arguments, weights and configs).

DepthwiseConv1D/2D: kernel (*kernel_size, in_channels, depth_multiplier) named "kernel" as in
Keras 3 (Keras 2 called it depthwise_kernel; that name is kept as an alias), bias
(in_channels * depth_multiplier,). SeparableConv1D/2D: depthwise_kernel (*kernel_size,
in_channels, depth_multiplier), pointwise_kernel (1, ..., in_channels * depth_multiplier,
filters), bias (filters,). Both run as one grouped native conv (groups = in_channels), the
separable layers then one 1x1 conv. Unlike ConvND, strides > 1 together with dilation_rate > 1
is accepted, as Keras 3 does (its TensorFlow backend computes the same numbers).
"""
from kcore import ops
from kcore.layers.convolutional import ConvGeometry, positive_int
from kcore.layers.weight_options import set_weight_options, weight_options_config


class _DepthwiseBase(ConvGeometry):
    """What the depthwise and separable layers share: the depthwise kernel, its bias rules and geometry."""

    def __init__(self, rank, depth_multiplier, kernel_size, strides, padding, data_format, dilation_rate, activation,
                 use_bias, depthwise_initializer, bias_initializer, depthwise_regularizer, bias_regularizer,
                 depthwise_constraint, bias_constraint, **kwargs):
        super().__init__(rank, kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                         allow_causal=False, stride_with_dilation=True, **kwargs)
        self.depth_multiplier = positive_int(type(self).__name__, "depth_multiplier", depth_multiplier)
        set_weight_options(self, depthwise_initializer=depthwise_initializer, bias_initializer=bias_initializer,
                           depthwise_regularizer=depthwise_regularizer, bias_regularizer=bias_regularizer,
                           depthwise_constraint=depthwise_constraint, bias_constraint=bias_constraint)

    def _add_depthwise_kernel(self, name, input_shape):
        """Checks the input, creates the (*kernel_size, channels, depth_multiplier) kernel; returns channels."""
        channels = self.input_channels(input_shape)
        self.compute_output_shape(input_shape)  # a clear error for inputs smaller than the kernel
        kernel = self.add_weight(name, self.kernel_size + (channels, self.depth_multiplier), self.depthwise_initializer,
                                 regularizer=self.depthwise_regularizer, constraint=self.depthwise_constraint)
        self._lock_channels(channels)
        return kernel, channels

    _config_attrs = ("depth_multiplier",)

    def get_config(self):
        return {**super().get_config(), **self.geometry_config(), **weight_options_config(self, "depthwise", "bias")}


class BaseDepthwiseConv(_DepthwiseBase):
    """N-d depthwise convolution: each input channel convolved with its own depth_multiplier filters.

    Output channel c * depth_multiplier + m is channel c convolved with kernel[..., c, m].
    """

    def __init__(self, rank, depth_multiplier, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, activation=None, use_bias=True, depthwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, bias_regularizer=None,
                 depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(rank, depth_multiplier, kernel_size, strides, padding, data_format, dilation_rate, activation,
                         use_bias, depthwise_initializer, bias_initializer, depthwise_regularizer, bias_regularizer,
                         depthwise_constraint, bias_constraint, **kwargs)

    @property
    def depthwise_kernel(self):
        """Keras 2's name of `kernel`."""
        return self.kernel

    def build(self, input_shape):
        self.kernel, channels = self._add_depthwise_kernel("kernel", input_shape)
        self.bias = self._add_bias(channels * self.depth_multiplier)
        self.built = True

    _conv_op = staticmethod(ops.depthwise_conv)

    def _output_channels(self, input_shape):
        return self.input_channels(input_shape) * self.depth_multiplier


class BaseSeparableConv(_DepthwiseBase):
    """N-d separable convolution: a depthwise conv, then a 1x1 conv to `filters` channels, plus bias."""

    def __init__(self, rank, depth_multiplier, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, activation=None, use_bias=True, depthwise_initializer="glorot_uniform",
                 pointwise_initializer="glorot_uniform", bias_initializer="zeros", depthwise_regularizer=None,
                 pointwise_regularizer=None, bias_regularizer=None, depthwise_constraint=None,
                 pointwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(rank, depth_multiplier, kernel_size, strides, padding, data_format, dilation_rate, activation,
                         use_bias, depthwise_initializer, bias_initializer, depthwise_regularizer, bias_regularizer,
                         depthwise_constraint, bias_constraint, **kwargs)
        self.filters = positive_int(type(self).__name__, "filters", filters)
        set_weight_options(self, pointwise_initializer=pointwise_initializer,
                           pointwise_regularizer=pointwise_regularizer, pointwise_constraint=pointwise_constraint)

    def build(self, input_shape):
        self.depthwise_kernel, channels = self._add_depthwise_kernel("depthwise_kernel", input_shape)
        self.pointwise_kernel = self.add_weight(
            "pointwise_kernel", (1,) * self.rank + (channels * self.depth_multiplier, self.filters),
            self.pointwise_initializer, regularizer=self.pointwise_regularizer, constraint=self.pointwise_constraint)
        self.bias = self._add_bias(self.filters)
        self.built = True

    def call(self, inputs):
        y = ops.separable_conv(inputs, self.depthwise_kernel, self.pointwise_kernel, self.strides, self.padding,
                               self.data_format, self.dilation_rate, bias=self.bias)
        return self.activation(y)

    _config_attrs = ("filters",)

    def get_config(self):
        return {**super().get_config(), **weight_options_config(self, "pointwise")}


class DepthwiseConv1D(BaseDepthwiseConv):
    """1-D depthwise convolution over (batch, steps, channels); padding 'valid' or 'same'."""

    def __init__(self, kernel_size, strides=1, padding="valid", depth_multiplier=1, data_format=None,
                 dilation_rate=1, activation=None, use_bias=True, **kwargs):
        super().__init__(1, depth_multiplier, kernel_size, strides, padding, data_format, dilation_rate, activation,
                         use_bias, **kwargs)


class DepthwiseConv2D(BaseDepthwiseConv):
    """2-D depthwise convolution over (batch, rows, cols, channels); padding 'valid' or 'same'."""

    def __init__(self, kernel_size, strides=(1, 1), padding="valid", depth_multiplier=1, data_format=None,
                 dilation_rate=(1, 1), activation=None, use_bias=True, **kwargs):
        super().__init__(2, depth_multiplier, kernel_size, strides, padding, data_format, dilation_rate, activation,
                         use_bias, **kwargs)


class SeparableConv1D(BaseSeparableConv):
    """1-D separable convolution: depthwise over steps, then pointwise to `filters` channels."""

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 depth_multiplier=1, activation=None, use_bias=True, **kwargs):
        super().__init__(1, depth_multiplier, filters, kernel_size, strides, padding, data_format, dilation_rate,
                         activation, use_bias, **kwargs)


class SeparableConv2D(BaseSeparableConv):
    """2-D separable convolution: depthwise over rows and cols, then pointwise to `filters` channels."""

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None, dilation_rate=(1, 1),
                 depth_multiplier=1, activation=None, use_bias=True, **kwargs):
        super().__init__(2, depth_multiplier, filters, kernel_size, strides, padding, data_format, dilation_rate,
                         activation, use_bias, **kwargs)


SeparableConvolution1D, SeparableConvolution2D = SeparableConv1D, SeparableConv2D
