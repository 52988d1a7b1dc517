"""SimpleRNN, LSTM and GRU: RNN layers over their built-in cell, as Keras 3 builds them.

Each layer owns `.cell` (a SimpleRNNCell / LSTMCell / GRUCell named simple_rnn_cell /
lstm_cell / gru_cell), so weights are `lstm/lstm_cell/kernel` and sit under `cell/` in
.weights.h5 files; the whole sequence runs in one native call per layer. Their config is
Keras's flat one (the cell's arguments next to the RNN's, no nested cell).
"""
from kcore.layers.layer import InputSpec
from kcore.layers.rnn.cells import GRUCell, LSTMCell, SimpleRNNCell
from kcore.layers.rnn.rnn import RNN

_LAYER_KEYS = ("name", "trainable", "dtype", "input_shape", "batch_input_shape", "batch_size", "input_dim",
               "input_length", "activity_regularizer", "implementation", "use_cudnn", "time_major")
_CELL_PROPERTIES = ("units", "activation", "recurrent_activation", "use_bias", "kernel_initializer",
                    "recurrent_initializer", "bias_initializer", "kernel_regularizer", "recurrent_regularizer",
                    "bias_regularizer", "kernel_constraint", "recurrent_constraint", "bias_constraint", "dropout",
                    "recurrent_dropout", "unit_forget_bias", "reset_after", "seed")


class FlatCellConfig:
    """Keras's config for RNN layers built from their own arguments: the cell's entries next to the
    RNN's, no nested cell (LSTM, GRU, SimpleRNN, ConvLSTM*D)."""

    def get_config(self):
        from kcore import regularizers

        config = super().get_config()
        del config["cell"]
        cell_config = self.cell.get_config()
        for key in ("name", "trainable", "dtype"):
            cell_config.pop(key, None)
        config.update(cell_config)
        config["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)  # None included (Keras)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from kcore.saving.serialization import filter_config

        return cls(**filter_config(cls, config, f"{cls.__name__}.from_config"))


def delegate_to_cell(cls, names):
    """Read-only properties of cls returning the cell's attributes of those names (Keras's LSTM.units & co)."""
    for name in names:
        setattr(cls, name, property(lambda self, n=name: getattr(self.cell, n), doc=f"The cell's `{name}`."))


class _CellRNN(FlatCellConfig, RNN):
    """An RNN whose cell is built from the layer's own arguments (Keras's LSTM(units, ...) style)."""

    _cell_class = None
    _cell_name = None

    def __init__(self, units, activation="tanh", use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros", kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, seed=None,
                 return_sequences=False, return_state=False, go_backwards=False, stateful=False, unroll=False,
                 zero_output_for_mask=False, **kwargs):
        layer_kwargs = {k: v for k, v in kwargs.items() if k in _LAYER_KEYS}
        cell_kwargs = {k: v for k, v in kwargs.items() if k not in _LAYER_KEYS}  # recurrent_activation & co
        dtype = layer_kwargs.get("dtype")
        cell = self._cell_class(
            units, activation=activation, use_bias=use_bias, kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint, dropout=dropout,
            recurrent_dropout=recurrent_dropout, seed=seed, name=self._cell_name,
            trainable=layer_kwargs.get("trainable", True), dtype=dtype,
            **cell_kwargs)
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll,
                         zero_output_for_mask=zero_output_for_mask, **layer_kwargs)
        self.input_spec = InputSpec(ndim=3)


delegate_to_cell(_CellRNN, _CELL_PROPERTIES)


class SimpleRNN(_CellRNN):
    """Fully-connected RNN: h_t = activation(x_t W + b + h_{t-1} U)."""

    _cell_class = SimpleRNNCell
    _cell_name = "simple_rnn_cell"

    def __init__(self, units, activation="tanh", **kwargs):
        kwargs.pop("recurrent_activation", None)
        super().__init__(units, activation=activation, **kwargs)

    def get_config(self):
        config = super().get_config()
        config.pop("seed", None)  # Keras 3 leaves it out of SimpleRNN's config (not of LSTM's, GRU's or the cell's)
        return config


class LSTM(_CellRNN):
    """Long short-term memory (Hochreiter 1997), Keras gate order i, f, c, o."""

    _cell_class = LSTMCell
    _cell_name = "lstm_cell"

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", unit_forget_bias=True, **kwargs):
        super().__init__(units, activation=activation, recurrent_activation=recurrent_activation,
                         unit_forget_bias=unit_forget_bias, **kwargs)


class GRU(_CellRNN):
    """Gated recurrent unit (Cho 2014), Keras gate order z, r, h; reset_after=True is the Keras 3 default."""

    _cell_class = GRUCell
    _cell_name = "gru_cell"

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", reset_after=True, **kwargs):
        super().__init__(units, activation=activation, recurrent_activation=recurrent_activation,
                         reset_after=reset_after, **kwargs)
