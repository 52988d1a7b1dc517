"""Bidirectional: runs a recurrent layer forwards and a copy backwards, then merges the two outputs."""
import numpy as np

from kcore import ops
from kcore.layers.layer import InputSpec, Layer
from kcore.layers.rnn.rnn import RNN
from kcore.layers.rnn.stacked_rnn_cells import StackedRNNCells

_MERGE_MODES = ("concat", "sum", "mul", "ave", None)


class Bidirectional(Layer):
    """Runs a recurrent layer forwards and a copy backwards, then merges the two outputs.

    Takes any RNN layer (SimpleRNN, LSTM, GRU, RNN over cells, ConvLSTM1D/2D/3D): inputs are
    (batch, time, features) or, for a ConvLSTM, (batch, time, *spatial, channels). Weights are the
    forward layer's then the backward layer's; merge_mode concat joins on the last axis.
    """

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs):
        if not isinstance(layer, RNN):
            raise ValueError(f"Bidirectional needs a recurrent layer (SimpleRNN, LSTM, GRU, ConvLSTM1D/2D/3D, "
                             f"RNN), got {layer!r}")
        if merge_mode not in _MERGE_MODES:
            raise ValueError(f"Invalid merge mode. Received: {merge_mode!r}. Merge mode should be one of "
                             f"{list(_MERGE_MODES)}")
        super().__init__(**kwargs)
        if layer._batch_input_shape is not None and self._batch_input_shape is None:
            self._batch_input_shape = layer._batch_input_shape
        base_name = _strip_prefix(layer.name)
        self.forward_layer = _copy_layer(layer, "forward_" + base_name, layer.go_backwards)
        if backward_layer is None:
            self.backward_layer = _copy_layer(layer, "backward_" + base_name, not layer.go_backwards)
        else:
            if not isinstance(backward_layer, RNN) or backward_layer.go_backwards == layer.go_backwards:
                raise ValueError("Bidirectional: backward_layer must be a recurrent layer with go_backwards set "
                                 "opposite to the forward layer's")
            if (backward_layer.return_sequences, backward_layer.return_state) != (layer.return_sequences,
                                                                                  layer.return_state):
                raise ValueError("Bidirectional: forward and backward layers need the same return_sequences and "
                                 "return_state")
            self.backward_layer = _copy_layer(backward_layer, "backward_" + _strip_prefix(backward_layer.name),
                                              backward_layer.go_backwards)
        self.merge_mode = merge_mode
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self.supports_masking = True
        self._initial_weights = weights
        # (batch, time, features), or (batch, time, *spatial, channels) for a ConvLSTM
        ndim = layer.input_spec.ndim if layer.input_spec is not None and layer.input_spec.ndim else 3
        self.input_spec = InputSpec(ndim=ndim)

    def build(self, input_shape):
        self.forward_layer._maybe_build(input_shape)
        self.backward_layer._maybe_build(input_shape)
        self.built = True
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    def call(self, inputs, training=None, mask=None, initial_state=None):
        fw_init = bw_init = None
        if initial_state is not None:
            half = len(initial_state) // 2
            fw_init, bw_init = initial_state[:half], initial_state[half:]
        fw = self.forward_layer(inputs, training=training, mask=mask, initial_state=fw_init)
        bw = self.backward_layer(inputs, training=training, mask=mask, initial_state=bw_init)
        fw_states = bw_states = []
        if self.return_state:
            fw, fw_states = fw[0], fw[1:]
            bw, bw_states = bw[0], bw[1:]
        if self.return_sequences:
            bw = _reverse_time(bw)
        merged = self._merge(fw, bw)
        if self.return_state:
            out = merged if isinstance(merged, list) else [merged]
            return out + list(fw_states) + list(bw_states)
        return merged

    def _merge(self, fw, bw):
        if self.merge_mode == "concat":
            return ops.concatenate([fw, bw], axis=-1)
        if self.merge_mode == "sum":
            return ops.add(fw, bw)
        if self.merge_mode == "mul":
            return ops.multiply(fw, bw)
        if self.merge_mode == "ave":
            return ops.multiply(ops.add(fw, bw), 0.5)
        return [fw, bw]

    def compute_output_shape(self, input_shape):
        fw = self.forward_layer.compute_output_shape(input_shape)
        out, states = (fw[0], fw[1:]) if self.return_state else (fw, [])
        if self.merge_mode == "concat":
            outs = [tuple(out[:-1]) + (out[-1] * 2,)]
        elif self.merge_mode is None:
            outs = [out, out]
        else:
            outs = [out]
        if self.return_state:
            return outs + list(states) * 2
        return outs if self.merge_mode is None else outs[0]

    def compute_mask(self, inputs, mask=None):
        out = mask if self.return_sequences else None
        if self.merge_mode is None:
            out = [out, out]
        if self.return_state:
            n = 2 * len(self.forward_layer._flat_sizes)
            return (out if isinstance(out, list) else [out]) + [None] * n
        return out

    def _saving_children(self):
        return [("forward_layer", self.forward_layer), ("backward_layer", self.backward_layer)]

    def reset_states(self, states=None):
        self.forward_layer.reset_states()
        self.backward_layer.reset_states()

    reset_state = reset_states

    def get_config(self):
        from kcore.saving.serialization import serialize_layer

        config = super().get_config()
        config.update({"merge_mode": self.merge_mode, "layer": serialize_layer(self.forward_layer),
                       "backward_layer": serialize_layer(self.backward_layer)})
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from kcore.saving.serialization import deserialize_layer

        config = dict(config)
        layer = deserialize_layer(config.pop("layer"), custom_objects)
        backward = config.pop("backward_layer", None)
        if backward is not None:
            backward = deserialize_layer(backward, custom_objects)
        return cls(layer, backward_layer=backward, **config)


def _copy_layer(layer, name, go_backwards):
    config = layer.get_config()
    config.pop("batch_input_shape", None)
    # As Keras: masked steps of a returned sequence are zeros, so the two directions merge cleanly.
    config.update({"name": name, "go_backwards": go_backwards, "zero_output_for_mask": layer.return_sequences})
    cell = layer.cell
    cells = cell.cells if isinstance(cell, StackedRNNCells) else [cell]
    known = {type(c).__name__: type(c) for c in cells}  # a user's cell class rebuilds without custom_objects
    return type(layer).from_config(config, custom_objects=known)


def _strip_prefix(name):
    for prefix in ("forward_", "backward_"):
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


def _reverse_time(x):
    """x[:, ::-1] for a (batch, time, ...) tensor of any rank, differentiable."""
    steps = x.shape[1]
    swap = (1, 0) + tuple(range(2, len(x.shape)))  # its own inverse
    flipped = ops.take(ops.transpose(x, swap), np.arange(steps - 1, -1, -1, dtype=np.int64))
    return ops.transpose(flipped, swap)


