"""Pooling layers: Max/AveragePooling1D/2D/3D (native kernels) and the global poolings (reductions)."""
from kcore import ops
from kcore.layers.spatial import SpatialLayer
from kcore.ops.conv import normalize_padding, normalize_tuple, output_length


class BasePooling(SpatialLayer):
    """Max or average pooling over `rank` spatial axes; strides default to pool_size."""

    mode = None  # "max" or "average"

    def __init__(self, rank, pool_size, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(rank, data_format, **kwargs)
        name = type(self).__name__
        self.pool_size = normalize_tuple(pool_size, rank, "pool_size", name)
        self.strides = self.pool_size if strides is None else normalize_tuple(strides, rank, "strides", name)
        self.padding = normalize_padding(padding, name)

    def call(self, inputs):
        fn = ops.max_pool if self.mode == "max" else ops.average_pool
        return fn(inputs, self.pool_size, self.strides, self.padding, self.data_format)

    def compute_output_shape(self, input_shape):
        shape = self.spatial_output_shape(
            input_shape, lambda i, n: output_length(n, self.pool_size[i], self.strides[i], 1, self.padding))
        if any(o is not None and o <= 0 for o in (shape[a] for a in self.spatial_axes())):
            raise ValueError(f"Layer '{self.name}': input shape {tuple(input_shape)} is smaller than pool_size "
                             f"{self.pool_size} with padding='{self.padding}'")
        return shape

    _config_attrs = ("pool_size", "strides", "padding", "data_format")


class MaxPooling1D(BasePooling):
    """Max over windows of pool_size steps."""

    mode = "max"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(1, pool_size, strides, padding, data_format, **kwargs)


class MaxPooling2D(BasePooling):
    """Max over pool_size windows of rows and cols."""

    mode = "max"

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(2, pool_size, strides, padding, data_format, **kwargs)


class MaxPooling3D(BasePooling):
    """Max over pool_size windows of the three spatial axes."""

    mode = "max"

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(3, pool_size, strides, padding, data_format, **kwargs)


class AveragePooling1D(BasePooling):
    """Average over real cells only ('same' padding is not counted). pool_size defaults to 2 (Keras 2)."""

    mode = "average"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(1, pool_size, strides, padding, data_format, **kwargs)


class AveragePooling2D(BasePooling):
    """Average over pool_size windows of rows and cols (padded cells not counted)."""

    mode = "average"

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(2, pool_size, strides, padding, data_format, **kwargs)


class AveragePooling3D(BasePooling):
    """Average over pool_size windows of the three spatial axes (padded cells not counted)."""

    mode = "average"

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(3, pool_size, strides, padding, data_format, **kwargs)


class BaseGlobalPooling(SpatialLayer):
    """Max or mean over all spatial axes: (batch, C), or ones in the spatial axes with keepdims."""

    mode = None

    def __init__(self, rank, data_format=None, keepdims=False, **kwargs):
        super().__init__(rank, data_format, **kwargs)
        self.keepdims = bool(keepdims)

    def call(self, inputs):
        fn = ops.max if self.mode == "max" else ops.mean
        return fn(inputs, axis=self.spatial_axes(), keepdims=self.keepdims)

    def compute_output_shape(self, input_shape):
        self.check_input_rank(input_shape)
        shape = tuple(input_shape)
        axes = self.spatial_axes()
        if self.keepdims:
            return tuple(1 if i in axes else d for i, d in enumerate(shape))
        return tuple(d for i, d in enumerate(shape) if i not in axes)

    _config_attrs = ("data_format", "keepdims")


class GlobalMaxPooling1D(BaseGlobalPooling):
    """Max over the steps axis."""

    mode = "max"

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(1, data_format, keepdims, **kwargs)


class GlobalMaxPooling2D(BaseGlobalPooling):
    """Max over rows and cols."""

    mode = "max"

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(2, data_format, keepdims, **kwargs)


class GlobalMaxPooling3D(BaseGlobalPooling):
    """Max over the three spatial axes."""

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
        axis = self.spatial_axes()[0]
        weights = ops.cast(mask, inputs.dtype)
        weights = ops.expand_dims(weights, 1 if self.data_format == "channels_first" else -1)
        total = ops.sum(ops.multiply(inputs, weights), axis=axis, keepdims=self.keepdims)
        count = ops.sum(weights, axis=axis, keepdims=self.keepdims)
        return ops.divide(total, count)

    def compute_mask(self, inputs, mask=None):
        return None


class GlobalAveragePooling2D(BaseGlobalPooling):
    """Mean over rows and cols."""

    mode = "average"

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(2, data_format, keepdims, **kwargs)


class GlobalAveragePooling3D(BaseGlobalPooling):
    """Mean over the three spatial axes."""

    mode = "average"

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(3, data_format, keepdims, **kwargs)


MaxPool1D, MaxPool2D, MaxPool3D = MaxPooling1D, MaxPooling2D, MaxPooling3D
AvgPool1D, AvgPool2D, AvgPool3D = AveragePooling1D, AveragePooling2D, AveragePooling3D
GlobalMaxPool1D, GlobalMaxPool2D, GlobalMaxPool3D = GlobalMaxPooling1D, GlobalMaxPooling2D, GlobalMaxPooling3D
GlobalAvgPool1D, GlobalAvgPool2D, GlobalAvgPool3D = (GlobalAveragePooling1D, GlobalAveragePooling2D,
                                                     GlobalAveragePooling3D)
