"""Pooling layers: Max/AveragePooling1D/2D/3D (native kernels) and the global poolings (reductions)."""
from kcore import ops
from kcore.layers.spatial import SpatialLayer
from kcore.ops.conv import normalize_padding, normalize_tuple, output_length


class BasePooling(SpatialLayer):
    """Max or average pooling over `rank` spatial axes; strides default to pool_size."""

    mode = None  # "max" or "average"
    _rank = None  # the number of spatial axes
    _prefix = ""  # of the generated class names

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(self._rank, data_format, **kwargs)
        name = type(self).__name__
        self.pool_size = normalize_tuple(pool_size, self.rank, "pool_size", name)
        self.strides = self.pool_size if strides is None else normalize_tuple(strides, self.rank, "strides", name)
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


def _pooling(base, mode, rank, doc):
    """The pooling layer class of one (base, mode, rank): e.g. MaxPooling2D, GlobalAveragePooling3D."""
    name = f"{base._prefix}{'Max' if mode == 'max' else 'Average'}Pooling{rank}D"
    return type(name, (base,), {"mode": mode, "_rank": rank, "__doc__": doc, "__module__": __name__})


_WINDOWS = {1: "windows of pool_size steps", 2: "pool_size windows of rows and cols",
            3: "pool_size windows of the three spatial axes"}
MaxPooling1D, MaxPooling2D, MaxPooling3D = (
    _pooling(BasePooling, "max", r, f"Max over {_WINDOWS[r]}.") for r in (1, 2, 3))
AveragePooling1D, AveragePooling2D, AveragePooling3D = (
    _pooling(BasePooling, "average", r, f"Average over {_WINDOWS[r]} (padded cells are not counted).")
    for r in (1, 2, 3))


class BaseGlobalPooling(SpatialLayer):
    """Max or mean over all spatial axes: (batch, C), or ones in the spatial axes with keepdims."""

    mode = None
    _rank = None
    _prefix = "Global"

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(self._rank, data_format, **kwargs)
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


_SPATIAL = {1: "the steps axis", 2: "rows and cols", 3: "the three spatial axes"}
GlobalMaxPooling1D, GlobalMaxPooling2D, GlobalMaxPooling3D = (
    _pooling(BaseGlobalPooling, "max", r, f"Max over {_SPATIAL[r]}.") for r in (1, 2, 3))
GlobalAveragePooling2D, GlobalAveragePooling3D = (
    _pooling(BaseGlobalPooling, "average", r, f"Mean over {_SPATIAL[r]}.") for r in (2, 3))


class GlobalAveragePooling1D(BaseGlobalPooling):
    """Mean over steps; with a mask (batch, steps) only unmasked steps are averaged."""

    mode, _rank = "average", 1

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(data_format, keepdims, **kwargs)
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


MaxPool1D, MaxPool2D, MaxPool3D = MaxPooling1D, MaxPooling2D, MaxPooling3D
AvgPool1D, AvgPool2D, AvgPool3D = AveragePooling1D, AveragePooling2D, AveragePooling3D
GlobalMaxPool1D, GlobalMaxPool2D, GlobalMaxPool3D = GlobalMaxPooling1D, GlobalMaxPooling2D, GlobalMaxPooling3D
GlobalAvgPool1D, GlobalAvgPool2D, GlobalAvgPool3D = (GlobalAveragePooling1D, GlobalAveragePooling2D,
                                                     GlobalAveragePooling3D)
