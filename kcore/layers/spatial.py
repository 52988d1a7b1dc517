"""One base for the spatial layers (convolutions, poolings, padding, cropping, upsampling).

`SpatialLayer` owns what they all share: the rank, `data_format` and with it the spatial and channel axes,
the input-rank check with its error message, and output shapes built from a per-axis size rule (the ops'
`output_length` / `conv_transpose_length` for convolutions and poolings), so no layer recomputes them.
"""
from kcore.layers.layer import InputSpec, Layer
from kcore.ops.conv import normalize_data_format

_AXIS_NAMES = {1: "steps", 2: "rows, cols", 3: "dim1, dim2, dim3"}


def expected_layout(rank, data_format):
    """The input layout a rank-`rank` spatial layer expects, in words: '(batch, rows, cols, channels)'."""
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


class SpatialLayer(Layer):
    """Base of layers over `rank` spatial axes plus a batch and a channel axis laid out by `data_format`
    ('channels_last' or 'channels_first'; None means `kcore.backend.image_data_format()`)."""

    def __init__(self, rank, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.rank = rank
        self.data_format = normalize_data_format(data_format)
        self.input_spec = InputSpec(ndim=rank + 2)

    @property
    def channel_axis(self):
        """1 for channels_first, -1 for channels_last."""
        return 1 if self.data_format == "channels_first" else -1

    def spatial_axes(self):
        """The positions of the spatial axes in the input."""
        start = 2 if self.data_format == "channels_first" else 1
        return list(range(start, start + self.rank))

    def check_input_rank(self, input_shape):
        """Raises a ValueError naming the layer and the expected layout unless the input has rank + 2 axes."""
        check_input_rank(self, input_shape, self.rank)

    def build(self, input_shape):
        self.check_input_rank(input_shape)
        self.built = True

    def spatial_output_shape(self, input_shape, size, channels=None):
        """input_shape with spatial size n at spatial axis i replaced by `size(i, n)` (unknown sizes stay None)
        and, when given, the channel count replaced by `channels`; the rank is checked first."""
        self.check_input_rank(input_shape)
        shape = list(input_shape)
        for i, axis in enumerate(self.spatial_axes()):
            shape[axis] = None if shape[axis] is None else size(i, shape[axis])
        if channels is not None:
            shape[self.channel_axis] = channels
        return tuple(shape)
