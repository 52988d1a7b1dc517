"""RepeatVector and Permute (Keras 3 reshaping layers)."""
import numpy as np

from kcore import ops
from kcore.layers.layer import InputSpec, Layer


class RepeatVector(Layer):
    """Repeats a (batch, features) input n times: (batch, n, features)."""

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
            raise TypeError(f"RepeatVector: expected an integer value for `n`, got {type(n).__name__} ({n!r})")
        if n <= 0:
            raise ValueError(f"RepeatVector: argument `n` should be a positive integer. Received: n={n}")
        self.n = int(n)
        self.input_spec = InputSpec(ndim=2)

    def call(self, inputs):
        ones = np.ones((1, self.n, 1), dtype=inputs.dtype)
        return ops.multiply(ops.expand_dims(inputs, 1), ones)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n, input_shape[1])

    _config_attrs = ("n",)


class Permute(Layer):
    """Permutes the non-batch axes: dims=(2, 1) swaps the first two (1-based, as in Keras)."""

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        self.dims = tuple(int(d) for d in dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError(f"Invalid permutation argument `dims` for Permute Layer. The set of indices in `dims` "
                             f"must be consecutive and start from 1. Received dims={tuple(dims)}")
        self.input_spec = InputSpec(ndim=len(self.dims) + 1)

    def call(self, inputs):
        return ops.transpose(inputs, (0,) + self.dims)

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + tuple(input_shape[d] for d in self.dims)

    _config_attrs = ("dims",)
