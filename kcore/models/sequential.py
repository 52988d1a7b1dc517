"""Sequential: a linear stack of layers."""
from kcore.layers.input_layer import InputLayer
from kcore.layers.keras_tensor import KerasTensor
from kcore.layers.layer import Layer
from kcore.models.model import Model
from kcore.utils import naming


class Sequential(Model):
    """A model made of a stack of layers, each feeding the next."""

    _inputs_in_variable_dtype = True  # as Keras: each layer casts to its compute dtype

    def __init__(self, layers=None, name=None, trainable=True):
        super().__init__(name=name or naming.unique_name("sequential"), trainable=trainable)
        self._input_batch_shape = None
        for layer in layers or []:
            self.add(layer)

    @property
    def layers(self):
        return list(self._layers)

    def add(self, layer):
        if isinstance(layer, KerasTensor) and isinstance(layer._keras_history[0], InputLayer):
            layer = layer._keras_history[0]
        if isinstance(layer, InputLayer):
            if self._layers:
                raise ValueError("Sequential: an Input can only be added as the first layer")
            self._input_batch_shape = layer.batch_shape
            return
        if not isinstance(layer, Layer):
            raise TypeError(f"The added layer must be an instance of class Layer. Received: layer={layer!r} of type "
                            f"{type(layer).__name__}")
        if any(layer is known for known in self._layers):
            raise ValueError(f"Layer '{layer.name}' is already in this Sequential model")
        if not self._layers and self._input_batch_shape is None and layer._batch_input_shape is not None:
            self._input_batch_shape = layer._batch_input_shape
        self._layers.append(layer)
        self.built = False
        if self._input_batch_shape is not None:
            self.build(self._input_batch_shape)

    def pop(self):
        if not self._layers:
            raise TypeError("There are no layers in the model.")
        layer = self._layers.pop()
        if self._layers and self._input_batch_shape is not None:
            self._output_shape = self._layers[-1]._output_shape
        return layer

    def build(self, input_shape=None):
        shape = tuple(input_shape if input_shape is not None else self._input_batch_shape or ())
        if not shape:
            raise ValueError("Sequential.build needs an input shape, e.g. build((None, 784))")
        self._input_batch_shape = shape
        self._build_shape = shape
        for layer in self._layers:
            layer._maybe_build(shape)
            if layer.input_spec is not None:
                layer.input_spec.check(layer, shape)
            shape = layer.compute_output_shape(shape)
            layer._output_shape = shape
        self._output_shape = shape
        self.built = True

    def call(self, inputs, training=None, mask=None):
        x = inputs
        for layer in self._layers:
            x = layer(x, training=training)
        return x

    def compute_output_shape(self, input_shape):
        shape = input_shape
        for layer in self._layers:
            shape = layer.compute_output_shape(shape)
        return shape

    @property
    def output_names(self):
        return [self._layers[-1].name] if self._layers else ["output"]

    def get_config(self):
        from kcore import dtype_policies
        from kcore.saving.serialization import serialize_layer

        layers = []
        if self._input_batch_shape is not None:
            layers.append({"module": "keras.layers", "class_name": "InputLayer", "registered_name": None,
                           "config": {"batch_shape": list(self._input_batch_shape), "dtype": self.dtype,
                                      "name": f"{self.name}_input"}})
        layers.extend(serialize_layer(layer) for layer in self._layers)
        return {"name": self.name, "trainable": self.trainable, "dtype": dtype_policies.serialize(self.dtype_policy),
                "layers": layers}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from kcore.saving.serialization import sequential_from_config

        return sequential_from_config(cls, config, custom_objects)
