"""Spatial reshaping layers: ZeroPadding1D/2D/3D, Cropping1D/2D/3D, UpSampling1D/2D/3D."""
from kcore import ops
from kcore.backend.sizes import check_int64
from kcore.layers.convolutional import check_input_rank
from kcore.layers.layer import InputSpec, Layer
from kcore.ops.conv import normalize_data_format, normalize_tuple, upsample_nearest, zero_pad
from kcore.ops.image import interpolation_method, resize_axes


def _pad_pairs(padding, rank, name):
    """Keras's padding argument: int, one int per axis (symmetric), or one (before, after) per axis."""
    if isinstance(padding, int) and not isinstance(padding, bool):
        pairs = ((padding, padding),) * rank
    elif rank == 1 and isinstance(padding, (tuple, list)) and len(padding) == 2 and \
            all(isinstance(p, int) for p in padding):
        pairs = (tuple(padding),)
    elif isinstance(padding, (tuple, list)) and len(padding) == rank:
        pairs = tuple((p, p) if isinstance(p, int) else tuple(p) for p in padding)
    else:
        raise ValueError(f"{name}: expected an int, a tuple of {rank} ints or a tuple of {rank} "
                         f"(before, after) pairs, got {padding!r}")
    for pair in pairs:
        if len(pair) != 2 or any(isinstance(v, bool) or not isinstance(v, int) or v < 0 for v in pair):
            raise ValueError(f"{name}: values must be non-negative ints, got {padding!r}")
        check_int64(name, "padding/cropping", pair)
    return pairs


class _SpatialEdges(Layer):
    """Shared by padding and cropping: (before, after) cell counts per spatial axis."""

    def __init__(self, rank, edges, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.rank = rank
        self.edges = _pad_pairs(edges, rank, type(self).__name__)
        self.data_format = normalize_data_format(data_format)
        self.input_spec = InputSpec(ndim=rank + 2)

    def _spatial_start(self):
        return 2 if self.data_format == "channels_first" else 1

    def build(self, input_shape):
        self.compute_output_shape(input_shape)  # checks the rank (and, for cropping, what is left)
        self.built = True


class BaseZeroPadding(_SpatialEdges):
    @property
    def padding(self):
        return self.edges

    def call(self, inputs):
        start = self._spatial_start()
        pads = [(0, 0)] * inputs.ndim
        for i, pair in enumerate(self.padding):
            pads[start + i] = pair
        return zero_pad(inputs, pads)

    def compute_output_shape(self, input_shape):
        check_input_rank(self, input_shape, self.rank)
        shape = list(input_shape)
        start = self._spatial_start()
        for i, (a, b) in enumerate(self.padding):
            if shape[start + i] is not None:
                shape[start + i] += a + b
        return tuple(shape)

    def get_config(self):
        config = super().get_config()
        config.update({"padding": self.padding, "data_format": self.data_format})
        return config


class ZeroPadding1D(BaseZeroPadding):
    """Pads the steps axis of (batch, steps, channels); padding int or (left, right)."""

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(1, padding, data_format, **kwargs)

    def get_config(self):
        config = super().get_config()
        config["padding"] = self.padding[0]
        return config


class ZeroPadding2D(BaseZeroPadding):
    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(2, padding, data_format, **kwargs)


class ZeroPadding3D(BaseZeroPadding):
    def __init__(self, padding=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(3, padding, data_format, **kwargs)


class BaseCropping(_SpatialEdges):
    """Removes cells from the start and end of each spatial axis (Keras's cropping argument forms)."""

    @property
    def cropping(self):
        return self.edges

    def call(self, inputs):
        key = [slice(None)] * inputs.ndim
        start = self._spatial_start()
        for i, (a, b) in enumerate(self.cropping):
            key[start + i] = slice(a, inputs.shape[start + i] - b)
        return ops.getitem(inputs, tuple(key))

    def compute_output_shape(self, input_shape):
        check_input_rank(self, input_shape, self.rank)
        shape = list(input_shape)
        start = self._spatial_start()
        for i, (a, b) in enumerate(self.cropping):
            n = shape[start + i]
            if n is not None:
                if a + b >= n:
                    raise ValueError(f"Layer '{self.name}': cropping {self.cropping} leaves nothing of an input of "
                                     f"shape {tuple(input_shape)}")
                shape[start + i] = n - a - b
        return tuple(shape)

    def get_config(self):
        config = super().get_config()
        config.update({"cropping": self.cropping, "data_format": self.data_format})
        return config


class Cropping1D(BaseCropping):
    """Crops the steps axis of (batch, steps, channels); cropping int or (start, end)."""

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(1, cropping, "channels_last", **kwargs)

    def get_config(self):
        config = super().get_config()
        config["cropping"] = self.cropping[0]
        config.pop("data_format")
        return config


class Cropping2D(BaseCropping):
    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(2, cropping, data_format, **kwargs)


class Cropping3D(BaseCropping):
    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(3, cropping, data_format, **kwargs)


class BaseUpSampling(Layer):
    def __init__(self, rank, size, data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        name = type(self).__name__
        self.rank = rank
        self.size = normalize_tuple(size, rank, "size", name)
        self.data_format = normalize_data_format(data_format)
        self.interpolation = interpolation_method(interpolation, name)
        self.input_spec = InputSpec(ndim=rank + 2)

    def _axes(self):
        start = 2 if self.data_format == "channels_first" else 1
        return list(range(start, start + self.rank))

    def build(self, input_shape):
        check_input_rank(self, input_shape, self.rank)
        self.built = True

    def call(self, inputs):
        if self.interpolation == "nearest":  # each cell repeated, as Keras does for every rank
            return upsample_nearest(inputs, self.size, self._axes())
        axes = self._axes()
        sizes = [inputs.shape[a] * s for a, s in zip(axes, self.size)]
        return resize_axes(inputs, sizes, axes, self.interpolation)

    def compute_output_shape(self, input_shape):
        check_input_rank(self, input_shape, self.rank)
        shape = list(input_shape)
        for axis, s in zip(self._axes(), self.size):
            if shape[axis] is not None:
                shape[axis] *= s
        return tuple(shape)


class UpSampling1D(BaseUpSampling):
    """Repeats each step `size` times: (batch, steps, C) -> (batch, steps * size, C)."""

    def __init__(self, size=2, **kwargs):
        super().__init__(1, size, "channels_last", "nearest", **kwargs)

    def get_config(self):
        config = super().get_config()
        config["size"] = self.size[0]
        return config


class UpSampling2D(BaseUpSampling):
    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(2, size, data_format, interpolation, **kwargs)

    def get_config(self):
        config = super().get_config()
        config.update({"size": self.size, "data_format": self.data_format, "interpolation": self.interpolation})
        return config


class UpSampling3D(BaseUpSampling):
    """Repeats each cell size[i] times along the three spatial axes (nearest neighbour)."""

    def __init__(self, size=(2, 2, 2), data_format=None, **kwargs):
        super().__init__(3, size, data_format, "nearest", **kwargs)

    def get_config(self):
        config = super().get_config()
        config.update({"size": self.size, "data_format": self.data_format})
        return config
