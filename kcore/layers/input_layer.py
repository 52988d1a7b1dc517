"""Input() and InputLayer: the entry points of functional models."""
import numpy as np

from kcore.backend.config import floatx
from kcore.layers.keras_tensor import KerasTensor, Node
from kcore.layers.layer import Layer
from kcore.utils import naming


class InputLayer(Layer):
    """The layer behind `Input`: holds the batch shape and dtype a model starts from."""

    _computes = False

    def __init__(self, shape=None, batch_size=None, dtype=None, batch_shape=None, name=None, input_shape=None,
                 batch_input_shape=None, sparse=None, ragged=None, **kwargs):
        shape = shape if shape is not None else input_shape
        batch_shape = batch_shape if batch_shape is not None else batch_input_shape
        if batch_shape is None:
            if shape is None:
                raise ValueError("Input: provide `shape` (without the batch axis) or `batch_shape`")
            if isinstance(shape, (int, np.integer)):
                shape = (int(shape),)
            batch_shape = (batch_size,) + tuple(shape)
        super().__init__(name=name or naming.unique_name("input"), dtype=dtype or floatx(), **kwargs)
        self.batch_shape = tuple(None if d is None else int(d) for d in batch_shape)
        self._batch_input_shape = self.batch_shape
        self.built = True
        self._build_shape = self.batch_shape
        self._output_shape = self.batch_shape
        tensor = KerasTensor(self.batch_shape, dtype=dtype or floatx(), name=self.name, history=(self, 0, 0))
        self._inbound_nodes.append(Node(self, [], [tensor]))
        self.output = tensor

    def get_config(self):
        return {"batch_shape": self.batch_shape, "dtype": self.dtype, "name": self.name}


def Input(shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None, name=None, tensor=None, **kwargs):
    """A symbolic tensor to start a functional model: `x = Input(shape=(784,))`."""
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, batch_shape=batch_shape, name=name,
                       **kwargs)
    return layer.output
