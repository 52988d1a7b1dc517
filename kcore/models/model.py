"""Model: a Layer that trains. `Model(inputs, outputs)` builds a functional graph model;
subclasses define `call` (and create their layers in `__init__`)."""
from kcore.layers.layer import Layer
from kcore.models.summary import print_summary
from kcore.models.trainer import Trainer
from kcore.utils import naming


class Model(Trainer, Layer):
    """Base of models: layers that train (compile / fit / evaluate / predict), save and load; Model(inputs, outputs)
    builds a Functional model."""

    def __new__(cls, *args, **kwargs):
        if cls is Model and (args or "inputs" in kwargs or "outputs" in kwargs):
            from kcore.models.functional import Functional

            return object.__new__(Functional)
        return object.__new__(cls)

    def __init__(self, *args, name=None, trainable=True, dtype=None, **kwargs):
        if args or "inputs" in kwargs:
            raise TypeError("Model(inputs, outputs) builds a functional model; subclasses of Model take no "
                            "inputs/outputs arguments")
        prefix = "model" if type(self) is Model else naming.to_snake_case(type(self).__name__)
        Layer.__init__(self, trainable=trainable, name=name or naming.unique_name(prefix), dtype=dtype, **kwargs)
        self.history = None

    @property
    def layers(self):
        return list(self._layers)

    def get_layer(self, name=None, index=None):
        if index is not None:
            if index >= len(self.layers):
                raise ValueError(f"Was asked to retrieve layer at index {index} but model only has "
                                 f"{len(self.layers)} layers.")
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No such layer: {name}. Existing layers are: {[layer.name for layer in self.layers]}.")

    def build(self, input_shape):
        """Builds a subclassed model by calling it once on zeros of `input_shape`."""
        import numpy as np

        from kcore.backend.autodiff import no_grad

        if self.built:
            return
        shapes = input_shape if isinstance(input_shape, list) else [input_shape]
        dummies = [np.zeros([1 if d is None else d for d in s], dtype=self.dtype) for s in shapes]
        self._build_shape = input_shape
        self.built = True
        with no_grad():
            out = self(dummies[0] if len(dummies) == 1 else dummies, training=False)
        self._output_shape = (None,) + tuple(out.shape[1:]) if hasattr(out, "shape") else None

    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False, show_trainable=False,
                layer_range=None):
        if not self.built:
            raise ValueError(f"This model ({self.name}) has not yet been built. Build the model first by calling "
                             "`build()` or by calling the model on a batch of data, or give the first layer an "
                             "`input_shape` / `input_dim` (or start with kcore.Input).")
        print_summary(self, line_length, positions, print_fn)

    def _summary_rows(self):
        return [(layer, None) for layer in self.layers]

    def save(self, filepath, overwrite=True, **kwargs):
        from kcore.saving import save_model

        save_model(self, filepath, overwrite=overwrite, **kwargs)

    def save_weights(self, filepath, overwrite=True):
        from kcore.saving import save_weights

        save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath, skip_mismatch=False, by_name=None):
        """Loads weights from a .keras, .weights.h5 or Keras 2 .h5 file (by_name / skip_mismatch: .h5 only)."""
        from kcore.saving import load_weights

        load_weights(self, filepath, skip_mismatch=skip_mismatch, by_name=by_name)

    def get_config(self):
        return {"name": self.name, "trainable": self.trainable}
