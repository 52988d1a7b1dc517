"""TimeDistributed: applies one layer to every time step of a (batch, time, ...) input."""
from kcore import ops
from kcore.layers.layer import Layer, _signature_flags
from kcore.layers.rnn._common import mask_array, set_weight_paths


class TimeDistributed(Layer):
    """Applies `layer` to each slice [:, t] of the input; the weights are shared by all steps.

    Steps run together: (batch, time, ...) is folded into (batch * time, ...), the layer runs
    once, and the result is unfolded. A layer that computes statistics over its batch
    (BatchNormalization in training) or takes a mask runs step by step instead, as in Keras 3.
    """

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(f"Please initialize `TimeDistributed` layer with a `kcore.layers.Layer` instance. "
                             f"Received: {layer!r}")
        super().__init__(**kwargs)
        self.layer = layer
        self.supports_masking = True

    def _child_shape(self, input_shape):
        if not isinstance(input_shape, (tuple, list)) or len(input_shape) < 3:
            raise ValueError(f"TimeDistributed layer '{self.name}' needs inputs with at least 3 dimensions "
                             f"(batch, time, ...); received input shape {input_shape}")
        return (input_shape[0],) + tuple(input_shape[2:])

    def _inner_error(self, error, input_shape):
        return ValueError(f"TimeDistributed layer '{self.name}': the wrapped layer '{self.layer.name}' "
                          f"({type(self.layer).__name__}) cannot take the per-step input shape "
                          f"{self._child_shape(input_shape)} (TimeDistributed input shape {tuple(input_shape)}): "
                          f"{error}")

    def build(self, input_shape):
        child = self._child_shape(input_shape)
        try:
            self.layer._maybe_build(child)
        except (ValueError, TypeError) as e:
            raise self._inner_error(e, input_shape) from e
        set_weight_paths(self.layer, self.name)
        self.built = True

    def compute_output_shape(self, input_shape):
        child = self._child_shape(input_shape)
        try:
            out = self.layer.compute_output_shape(child)
        except (ValueError, TypeError) as e:
            raise self._inner_error(e, input_shape) from e
        return (out[0], input_shape[1]) + tuple(out[1:])

    def _per_step(self, mask, training):
        from kcore.layers.normalization import BatchNormalization

        takes_mask = _signature_flags(type(self.layer))[1]
        return (mask is not None and takes_mask) or (training and isinstance(self.layer, BatchNormalization))

    def call(self, inputs, training=None, mask=None):
        shape = tuple(inputs.shape)
        self._child_shape(shape)
        mask = mask_array(mask)
        if mask is not None and mask.shape[:2] != shape[:2]:
            raise ValueError(f"TimeDistributed layer '{self.name}': the mask of shape {mask.shape} does not match "
                             f"the (batch, time) axes of the input shape {shape}")
        try:
            if self._per_step(mask, training):
                steps = []
                for t in range(shape[1]):
                    kwargs = {"training": training}
                    if mask is not None and _signature_flags(type(self.layer))[1]:
                        kwargs["mask"] = mask[:, t]
                    steps.append(self.layer(ops.getitem(inputs, (slice(None), t)), **kwargs))
                return ops.stack(steps, axis=1)
            folded = ops.reshape(inputs, (shape[0] * shape[1],) + shape[2:])
            out = self.layer(folded, training=training)
        except (ValueError, TypeError) as e:
            if str(e).startswith(f"TimeDistributed layer '{self.name}'"):
                raise
            raise self._inner_error(e, shape) from e
        return ops.reshape(out, shape[:2] + tuple(out.shape[1:]))

    def _saving_children(self):
        """Keras 3 .weights.h5 layout: the wrapped layer's weights live under 'layer/'."""
        return [("layer", self.layer)]

    def get_config(self):
        from kcore.saving.serialization import serialize_layer

        config = super().get_config()
        config["layer"] = serialize_layer(self.layer)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from kcore.saving.serialization import deserialize_layer, filter_config

        config = dict(config)
        layer = deserialize_layer(config.pop("layer"), custom_objects)
        return cls(layer, **filter_config(cls, config, "TimeDistributed.from_config"))
