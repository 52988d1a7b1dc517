"""Keras 3 recurrent cells: SimpleRNNCell, LSTMCell and GRUCell.

A cell holds the weights of one step (names kernel / recurrent_kernel / bias, Keras 3 layouts
and gate orders LSTM i,f,c,o and GRU z,r,h). `cell(x_t, states)` computes one step; it runs
the same native kernel as whole sequences (a sequence of length one), so a step and a fused
sequence share one implementation. `RNN` over these cells (and LSTM / GRU / SimpleRNN, which
are RNNs over them) hands the whole sequence to `_sequence`: one native call for all steps.
"""
import numpy as np

from kcore import initializers, ops
from kcore.backend.tensor import convert_to_tensor
from kcore.layers.layer import Layer
from kcore.layers.rnn._common import (
    activation_name,
    dropout_mask,
    positive_units,
    rate,
    set_weight_options,
    weight_options_config,
)


class DropoutRNNCell:
    """Dropout masks of a cell, drawn once per sequence and reused at every step (as Keras).

    `get_dropout_mask(step_input)` / `get_recurrent_dropout_mask(state)` return the cached
    (batch, features) / (batch, units) mask, drawing it on first use; `reset_dropout_mask()` and
    `reset_recurrent_dropout_mask()` drop it so the next sequence draws a fresh one.
    """

    _dropout_mask = None
    _recurrent_dropout_mask = None

    def _draw_mask(self, like, rate_value):
        shape = tuple(like.shape)
        return dropout_mask(shape, rate_value, self._next_seed(), self.compute_dtype)

    def _next_seed(self):
        rng = getattr(self, "_rng", None)
        return int(rng.integers(0, 2**63 - 1)) if rng is not None else None

    def _cached_mask(self, attribute, like, rate_value):
        if not rate_value:
            return None
        cached = getattr(self, attribute)
        if cached is None or tuple(cached.shape) != tuple(like.shape):
            cached = self._draw_mask(like, rate_value)
            setattr(self, attribute, cached)
        return cached

    def get_dropout_mask(self, step_input):
        """The input mask of this sequence (None when dropout is 0)."""
        return self._cached_mask("_dropout_mask", step_input, self.dropout)

    def get_recurrent_dropout_mask(self, state):
        """The mask on h_{t-1} of this sequence (None when recurrent_dropout is 0)."""
        return self._cached_mask("_recurrent_dropout_mask", state, self.recurrent_dropout)

    def reset_dropout_mask(self):
        self._dropout_mask = None

    def reset_recurrent_dropout_mask(self):
        self._recurrent_dropout_mask = None


class _UnitForgetBias(initializers.Initializer):
    """LSTM bias with the forget gate's quarter set to one (unit_forget_bias=True)."""

    def __init__(self, base, units):
        self.base, self.units = base, units

    def __call__(self, shape, dtype=None):
        u = self.units
        parts = [self.base((u,), dtype), np.ones((u,), dtype=dtype or "float32"), self.base((2 * u,), dtype)]
        return np.concatenate([np.asarray(p) for p in parts]).astype(dtype or "float32")


class NativeRNNCell(DropoutRNNCell, Layer):
    """Shared machinery of the built-in cells: arguments, weights, one step, whole sequences."""

    _gates = 1
    _num_states = 1

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, seed=None,
                 **kwargs):
        kwargs.pop("implementation", None)
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.units = positive_units(units, owner)
        self.activation = activation_name(activation, "activation", owner)
        self.recurrent_activation = activation_name(recurrent_activation, "recurrent_activation", owner)
        self.use_bias = bool(use_bias)
        set_weight_options(self, locals())
        self.dropout = rate(dropout, "dropout")
        self.recurrent_dropout = rate(recurrent_dropout, "recurrent_dropout")
        self.seed = seed
        self._rng = np.random.default_rng(seed) if seed is not None else None
        self.state_size = [self.units] * 2 if self._num_states == 2 else self.units
        self.output_size = self.units

    # -- weights -----------------------------------------------------------------------------
    def _bias_shape(self):
        return (self._gates * self.units,)

    def _bias_init(self):
        return self.bias_initializer

    def build(self, input_shape):
        features = input_shape[-1]
        if features is None:
            raise ValueError(f"Layer '{self.name}': the feature (last) axis of the input must be known, got "
                             f"{tuple(input_shape)}")
        width = self._gates * self.units
        self.kernel = self.add_weight(name="kernel", shape=(features, width), initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight(
            name="recurrent_kernel", shape=(self.units, width), initializer=self.recurrent_initializer,
            regularizer=self.recurrent_regularizer, constraint=self.recurrent_constraint)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=self._bias_shape(), initializer=self._bias_init(),
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        self.built = True

    # -- one step ------------------------------------------------------------------------------
    def call(self, inputs, states, training=None):
        """One step: (output, new states). States come back as a list when given as a list."""
        nested = isinstance(states, (list, tuple))
        states = list(states) if nested else [states]
        if len(inputs.shape) != 2:
            raise ValueError(f"{type(self).__name__} '{self.name}': a step input is (batch, features), got shape "
                             f"{tuple(inputs.shape)}; use RNN(cell) for whole sequences")
        if len(states) != self._num_states:
            raise ValueError(f"{type(self).__name__} '{self.name}' has {self._num_states} state(s) (state_size "
                             f"{self.state_size}), got {len(states)}")
        states = [convert_to_tensor(s, dtype=self.compute_dtype) for s in states]
        x = inputs
        if training:
            mask = self.get_dropout_mask(x)
            x = x if mask is None else ops.multiply(x, mask)
        rec_mask = self.get_recurrent_dropout_mask(states[0]) if training else None
        _, finals = self._sequence(ops.expand_dims(x, 1), states, None, False, rec_mask)
        h = finals[0]
        if self._num_states == 1:
            return h, ([h] if nested else h)
        return h, finals

    def get_initial_state(self, batch_size=None):
        """Zero states, one (batch, units) tensor per state."""
        zeros = [convert_to_tensor(np.zeros((batch_size, self.units)), self.compute_dtype)
                 for _ in range(self._num_states)]
        return zeros

    # -- whole sequences ------------------------------------------------------------------------
    def _sequence(self, inputs, states, mask, go_backwards, recurrent_mask):
        """Every step natively: (outputs (batch, steps, units) in processed order, [final states])."""
        raise NotImplementedError

    def _native_kwargs(self, mask, go_backwards, recurrent_mask):
        return {"mask": mask, "go_backwards": go_backwards, "activation": self.activation,
                "recurrent_dropout_mask": recurrent_mask}

    def get_config(self):
        config = super().get_config()
        config.update({"units": self.units, "activation": self.activation, "use_bias": self.use_bias,
                       **weight_options_config(self), "dropout": self.dropout,
                       "recurrent_dropout": self.recurrent_dropout, "seed": self.seed})
        return config


class SimpleRNNCell(NativeRNNCell):
    """One step of a fully-connected RNN: h_t = activation(x_t W + b + h_{t-1} U)."""

    def __init__(self, units, activation="tanh", **kwargs):
        kwargs.pop("recurrent_activation", None)
        super().__init__(units, activation=activation, **kwargs)

    def _sequence(self, inputs, states, mask, go_backwards, recurrent_mask):
        outputs, h = ops.simple_rnn(inputs, self.kernel, self.recurrent_kernel, self.bias, states,
                                    **self._native_kwargs(mask, go_backwards, recurrent_mask))
        return outputs, [h]


class LSTMCell(NativeRNNCell):
    """One step of a long short-term memory (gate order i, f, c, o); states [h, c]."""

    _gates = 4
    _num_states = 2

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", unit_forget_bias=True, **kwargs):
        super().__init__(units, activation=activation, recurrent_activation=recurrent_activation, **kwargs)
        self.unit_forget_bias = bool(unit_forget_bias)

    def _bias_init(self):
        if self.unit_forget_bias:
            return _UnitForgetBias(self.bias_initializer, self.units)
        return self.bias_initializer

    def _sequence(self, inputs, states, mask, go_backwards, recurrent_mask):
        outputs, h, c = ops.lstm(inputs, self.kernel, self.recurrent_kernel, self.bias, states,
                                 recurrent_activation=self.recurrent_activation,
                                 **self._native_kwargs(mask, go_backwards, recurrent_mask))
        return outputs, [h, c]

    def get_config(self):
        config = super().get_config()
        config.update({"recurrent_activation": self.recurrent_activation, "unit_forget_bias": self.unit_forget_bias})
        return config


class GRUCell(NativeRNNCell):
    """One step of a gated recurrent unit (gate order z, r, h); reset_after=True (bias (2, 3U)) is Keras 3's default."""

    _gates = 3

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", reset_after=True, **kwargs):
        super().__init__(units, activation=activation, recurrent_activation=recurrent_activation, **kwargs)
        self.reset_after = bool(reset_after)

    def _bias_shape(self):
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def _sequence(self, inputs, states, mask, go_backwards, recurrent_mask):
        outputs, h = ops.gru(inputs, self.kernel, self.recurrent_kernel, self.bias, states,
                             recurrent_activation=self.recurrent_activation, reset_after=self.reset_after,
                             **self._native_kwargs(mask, go_backwards, recurrent_mask))
        return outputs, [h]

    def get_config(self):
        config = super().get_config()
        config.update({"recurrent_activation": self.recurrent_activation, "reset_after": self.reset_after})
        return config
