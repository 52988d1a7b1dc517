"""Spatial reshaping layers: ZeroPadding1D/2D/3D, Cropping1D/2D/3D, UpSampling1D/2D/3D."""
from kcore import ops
from kcore.backend.sizes import check_int64
from kcore.layers.spatial import SpatialLayer
from kcore.ops.conv import normalize_tuple, upsample_nearest, zero_pad
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


class _SpatialEdges(SpatialLayer):
    """Shared by padding and cropping: (before, after) cell counts per spatial axis."""

    def __init__(self, rank, edges, data_format=None, **kwargs):
        super().__init__(rank, data_format, **kwargs)
        self.edges = _pad_pairs(edges, rank, type(self).__name__)

    def _spatial_start(self):
        return self.spatial_axes()[0]

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
        return self.spatial_output_shape(input_shape, lambda i, n: n + sum(self.padding[i]))

    _config_attrs = ("padding", "data_format")


class ZeroPadding1D(BaseZeroPadding):
    """Pads the steps axis of (batch, steps, channels); padding int or (left, right)."""

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(1, padding, data_format, **kwargs)

    def get_config(self):
        config = super().get_config()
        config["padding"] = self.padding[0]
        return config


class ZeroPadding2D(BaseZeroPadding):
    """Pads rows and cols with zeros; padding int, (rows, cols) or ((top, bottom), (left, right))."""

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(2, padding, data_format, **kwargs)


class ZeroPadding3D(BaseZeroPadding):
    """Pads the three spatial axes with zeros (int, one int per axis, or (before, after) pairs)."""

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
        def cropped(i, n):
            if sum(self.cropping[i]) >= n:
                raise ValueError(f"Layer '{self.name}': cropping {self.cropping} leaves nothing of an input of "
                                 f"shape {tuple(input_shape)}")
            return n - sum(self.cropping[i])

        return self.spatial_output_shape(input_shape, cropped)

    _config_attrs = ("cropping", "data_format")


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
    """Crops rows and cols; cropping int, (rows, cols) or ((top, bottom), (left, right))."""

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(2, cropping, data_format, **kwargs)


class Cropping3D(BaseCropping):
    """Crops the three spatial axes (int, one int per axis, or (start, end) pairs)."""

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(3, cropping, data_format, **kwargs)


class BaseUpSampling(SpatialLayer):
    """Scales each spatial axis by an integer factor (`size`), nearest or by `interpolation`."""

    def __init__(self, rank, size, data_format=None, interpolation="nearest", **kwargs):
        super().__init__(rank, data_format, **kwargs)
        name = type(self).__name__
        self.size = normalize_tuple(size, rank, "size", name)
        self.interpolation = interpolation_method(interpolation, name)

    def call(self, inputs):
        if self.interpolation == "nearest":  # each cell repeated, as Keras does for every rank
            return upsample_nearest(inputs, self.size, self.spatial_axes())
        axes = self.spatial_axes()
        sizes = [inputs.shape[a] * s for a, s in zip(axes, self.size)]
        return resize_axes(inputs, sizes, axes, self.interpolation)

    def compute_output_shape(self, input_shape):
        return self.spatial_output_shape(input_shape, lambda i, n: n * self.size[i])


class UpSampling1D(BaseUpSampling):
    """Repeats each step `size` times: (batch, steps, C) -> (batch, steps * size, C)."""

    def __init__(self, size=2, **kwargs):
        super().__init__(1, size, "channels_last", "nearest", **kwargs)

    def get_config(self):
        config = super().get_config()
        config["size"] = self.size[0]
        return config


class UpSampling2D(BaseUpSampling):
    """Repeats rows and cols size[0] and size[1] times (nearest), or resizes bilinearly."""

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(2, size, data_format, interpolation, **kwargs)

    _config_attrs = ("size", "data_format", "interpolation")


class UpSampling3D(BaseUpSampling):
    """Repeats each cell size[i] times along the three spatial axes (nearest neighbour)."""

    def __init__(self, size=(2, 2, 2), data_format=None, **kwargs):
        super().__init__(3, size, data_format, "nearest", **kwargs)

    _config_attrs = ("size", "data_format")
