"""Pooling layers: Max/AveragePooling1D/2D/3D (native kernels) and the global poolings (reductions)."""
from kcore import ops
from kcore.layers.convolutional import check_input_rank
from kcore.layers.layer import InputSpec, Layer
from kcore.ops.conv import normalize_data_format, normalize_padding, normalize_tuple, output_length


class BasePooling(Layer):
    """Max or average pooling over `rank` spatial axes; strides default to pool_size."""

    mode = None  # "max" or "average"

    def __init__(self, rank, pool_size, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        name = type(self).__name__
        self.rank = rank
        self.pool_size = normalize_tuple(pool_size, rank, "pool_size", name)
        self.strides = self.pool_size if strides is None else normalize_tuple(strides, rank, "strides", name)
        self.padding = normalize_padding(padding, name)
        self.data_format = normalize_data_format(data_format)
        self.input_spec = InputSpec(ndim=rank + 2)

    def build(self, input_shape):
        check_input_rank(self, input_shape, self.rank)
        self.built = True

    def call(self, inputs):
        fn = ops.max_pool if self.mode == "max" else ops.average_pool
        return fn(inputs, self.pool_size, self.strides, self.padding, self.data_format)

    def compute_output_shape(self, input_shape):
        check_input_rank(self, input_shape, self.rank)
        shape = tuple(input_shape)
        first = self.data_format == "channels_first"
        spatial = shape[2:] if first else shape[1:-1]
        out = tuple(output_length(n, k, s, 1, self.padding) for n, k, s in zip(spatial, self.pool_size, self.strides))
        if any(o is not None and o <= 0 for o in out):
            raise ValueError(f"Layer '{self.name}': input shape {shape} is smaller than pool_size {self.pool_size} "
                             f"with padding='{self.padding}'")
        return (shape[0], shape[1]) + out if first else (shape[0],) + out + (shape[-1],)

    def get_config(self):
        config = super().get_config()
        config.update({"pool_size": self.pool_size, "strides": self.strides, "padding": self.padding,
                       "data_format": self.data_format})
        return config


class MaxPooling1D(BasePooling):
    mode = "max"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(1, pool_size, strides, padding, data_format, **kwargs)


class MaxPooling2D(BasePooling):
    mode = "max"

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(2, pool_size, strides, padding, data_format, **kwargs)


class MaxPooling3D(BasePooling):
    mode = "max"

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(3, pool_size, strides, padding, data_format, **kwargs)


class AveragePooling1D(BasePooling):
    """Average over real cells only ('same' padding is not counted). pool_size defaults to 2 (Keras 2)."""

    mode = "average"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(1, pool_size, strides, padding, data_format, **kwargs)


class AveragePooling2D(BasePooling):
    mode = "average"

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(2, pool_size, strides, padding, data_format, **kwargs)


class AveragePooling3D(BasePooling):
    mode = "average"

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(3, pool_size, strides, padding, data_format, **kwargs)


class BaseGlobalPooling(Layer):
    """Max or mean over all spatial axes: (batch, C), or ones in the spatial axes with keepdims."""

    mode = None

    def __init__(self, rank, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.rank = rank
        self.data_format = normalize_data_format(data_format)
        self.keepdims = bool(keepdims)
        self.input_spec = InputSpec(ndim=rank + 2)

    def _spatial_axes(self):
        start = 2 if self.data_format == "channels_first" else 1
        return list(range(start, start + self.rank))

    def build(self, input_shape):
        check_input_rank(self, input_shape, self.rank)
        self.built = True

    def call(self, inputs):
        fn = ops.max if self.mode == "max" else ops.mean
        return fn(inputs, axis=self._spatial_axes(), keepdims=self.keepdims)

    def compute_output_shape(self, input_shape):
        check_input_rank(self, input_shape, self.rank)
        shape = tuple(input_shape)
        axes = self._spatial_axes()
        if self.keepdims:
            return tuple(1 if i in axes else d for i, d in enumerate(shape))
        return tuple(d for i, d in enumerate(shape) if i not in axes)

    def get_config(self):
        config = super().get_config()
        config.update({"data_format": self.data_format, "keepdims": self.keepdims})
        return config


class GlobalMaxPooling1D(BaseGlobalPooling):
    mode = "max"

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(1, data_format, keepdims, **kwargs)


class GlobalMaxPooling2D(BaseGlobalPooling):
    mode = "max"

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(2, data_format, keepdims, **kwargs)


class GlobalMaxPooling3D(BaseGlobalPooling):
    mode = "max"

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(3, data_format, keepdims, **kwargs)


class GlobalAveragePooling1D(BaseGlobalPooling):
    """Mean over steps; with a mask (batch, steps) only unmasked steps are averaged."""

    mode = "average"

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(1, data_format, keepdims, **kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is None:
            return super().call(inputs)
        axis = self._spatial_axes()[0]
        weights = ops.cast(mask, inputs.dtype)
        weights = ops.expand_dims(weights, 1 if self.data_format == "channels_first" else -1)
        total = ops.sum(ops.multiply(inputs, weights), axis=axis, keepdims=self.keepdims)
        count = ops.sum(weights, axis=axis, keepdims=self.keepdims)
        return ops.divide(total, count)

    def compute_mask(self, inputs, mask=None):
        return None


class GlobalAveragePooling2D(BaseGlobalPooling):
    mode = "average"

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(2, data_format, keepdims, **kwargs)


class GlobalAveragePooling3D(BaseGlobalPooling):
    mode = "average"

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(3, data_format, keepdims, **kwargs)


MaxPool1D, MaxPool2D, MaxPool3D = MaxPooling1D, MaxPooling2D, MaxPooling3D
AvgPool1D, AvgPool2D, AvgPool3D = AveragePooling1D, AveragePooling2D, AveragePooling3D
GlobalMaxPool1D, GlobalMaxPool2D, GlobalMaxPool3D = GlobalMaxPooling1D, GlobalMaxPooling2D, GlobalMaxPooling3D
GlobalAvgPool1D, GlobalAvgPool2D, GlobalAvgPool3D = (GlobalAveragePooling1D, GlobalAveragePooling2D,
                                                     GlobalAveragePooling3D)
