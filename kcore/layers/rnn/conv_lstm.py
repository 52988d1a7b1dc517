"""ConvLSTM1D / ConvLSTM2D / ConvLSTM3D: LSTMs whose input and recurrent transforms are convolutions.

Keras 3 weights and names (`conv_lstm2d/conv_lstm_cell/kernel` of shape (*kernel_size, channels,
4 * filters), gate order i, f, c, o). On the CPU, with built-in activations, the whole sequence
runs in one fused native call forward and one backward (kcore.ops.conv_lstm). Otherwise (a
user's activation or cell subclass, another device) the input convolution of every step runs as
one native convolution over (batch * time) frames before the time loop, and each step runs one
native 'same' recurrent convolution plus the gates, recorded by autodiff. Dropout draws one input
mask and one recurrent mask per sequence (Keras draws one per gate).
"""
import numpy as np

from kcore import activations, ops
from kcore.backend.tensor import convert_to_tensor
from kcore.layers.layer import InputSpec, Layer
from kcore.layers.rnn._common import rate, set_weight_options, weight_options_config
from kcore.layers.rnn.cells import DropoutRNNCell, _UnitForgetBias
from kcore.layers.rnn.layers import FlatCellConfig, delegate_to_cell
from kcore.layers.rnn.rnn import RNN
from kcore.ops.conv import normalize_data_format, normalize_padding, normalize_tuple, output_length
from kcore.ops.conv_lstm import conv_lstm, native_activation


class ConvLSTMCell(DropoutRNNCell, Layer):
    """One ConvLSTM step on a (batch, *spatial, channels) frame (or channels_first); states [h, c]."""

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 activation="tanh", recurrent_activation="sigmoid", use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros", unit_forget_bias=True,
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, seed=None,
                 **kwargs):
        super().__init__(**kwargs)
        op = f"ConvLSTM{rank}D"
        if rank not in (1, 2, 3):
            raise ValueError(f"ConvLSTM supports ranks 1, 2 and 3; got rank={rank}")
        if not isinstance(filters, (int, np.integer)) or isinstance(filters, bool) or filters <= 0:
            raise ValueError(f"{op}: `filters` must be a positive integer, got {filters!r}")
        self.rank, self.filters = rank, int(filters)
        self.kernel_size = normalize_tuple(kernel_size, rank, "kernel_size", op)
        self.strides = normalize_tuple(strides, rank, "strides", op)
        self.padding = normalize_padding(padding, op)
        self.data_format = normalize_data_format(data_format)
        self.dilation_rate = normalize_tuple(dilation_rate, rank, "dilation_rate", op)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(f"{op}: `strides > 1` is not compatible with `dilation_rate > 1`. Received: "
                             f"strides={self.strides} and dilation_rate={self.dilation_rate}")
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = bool(use_bias)
        self.unit_forget_bias = bool(unit_forget_bias)
        set_weight_options(self, locals())
        self.dropout = rate(dropout, "dropout")
        self.recurrent_dropout = rate(recurrent_dropout, "recurrent_dropout")
        self.seed = seed
        self._rng = np.random.default_rng(seed) if seed is not None else None
        self.state_size = [self.filters, self.filters]  # channels of h and c; their full shapes: state_shape
        self.output_size = self.filters
        self.input_spec = InputSpec(ndim=rank + 2)
        self.spatial_dims = None

    @property
    def _channel_axis(self):
        return 1 if self.data_format == "channels_first" else -1

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        spatial = input_shape[2:] if self.data_format == "channels_first" else input_shape[1:-1]
        channels = input_shape[self._channel_axis]
        if len(input_shape) != self.rank + 2 or None in spatial or channels is None:
            raise ValueError(f"ConvLSTM{self.rank}D '{self.name}': each frame must be (batch, {self.rank} spatial "
                             f"axes, channels) with every axis but the batch known; got frame shape {input_shape}")
        self.spatial_dims = tuple(spatial)
        self.input_dim = channels
        self.kernel = self.add_weight(name="kernel", shape=self.kernel_size + (channels, 4 * self.filters),
                                      initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight(
            name="recurrent_kernel", shape=self.kernel_size + (self.filters, 4 * self.filters),
            initializer=self.recurrent_initializer, regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint)
        self.bias = None
        if self.use_bias:
            init = _UnitForgetBias(self.bias_initializer, self.filters) if self.unit_forget_bias else \
                self.bias_initializer
            self.bias = self.add_weight(name="bias", shape=(4 * self.filters,), initializer=init,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        self.built = True

    @property
    def state_shape(self):
        """The shape of h and c without the batch axis."""
        out = tuple(output_length(n, k, s, d, self.padding) for n, k, s, d in
                    zip(self.spatial_dims, self.kernel_size, self.strides, self.dilation_rate))
        return (self.filters,) + out if self.data_format == "channels_first" else out + (self.filters,)

    def project(self, frames):
        """The input convolution (plus bias) of frames (n, *spatial, channels): the 4 gates' input terms."""
        return ops.conv(frames, self.kernel, strides=self.strides, padding=self.padding,
                        data_format=self.data_format, dilation_rate=self.dilation_rate, bias=self.bias)

    def recurrent_step(self, projected, states, training=None):
        """One step from the projected input: gates, new c and h. Returns (h, [h, c])."""
        h, c = states
        if training:
            rec_mask = self.get_recurrent_dropout_mask(h)
            h = h if rec_mask is None else ops.multiply(h, rec_mask)
        z = ops.add(projected, ops.conv(h, self.recurrent_kernel, strides=1, padding="same",
                                        data_format=self.data_format))
        z_i, z_f, z_c, z_o = ops.split(z, 4, axis=self._channel_axis)
        i, f, o = (self.recurrent_activation(g) for g in (z_i, z_f, z_o))
        c = ops.add(ops.multiply(f, c), ops.multiply(i, self.activation(z_c)))
        h = ops.multiply(o, self.activation(c))
        return h, [h, c]

    def call(self, inputs, states, training=None):
        """One step: (h, [h, c]) for a frame and the previous [h, c]."""
        if training:
            mask = self.get_dropout_mask(inputs)
            inputs = inputs if mask is None else ops.multiply(inputs, mask)
        return self.recurrent_step(self.project(inputs), list(states), training)

    def get_initial_state(self, batch_size=None):
        return [convert_to_tensor(np.zeros((batch_size,) + self.state_shape), self.compute_dtype) for _ in range(2)]

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + self.state_shape

    def get_config(self):
        config = super().get_config()
        config.update({
            "filters": self.filters, "kernel_size": self.kernel_size, "strides": self.strides,
            "padding": self.padding, "data_format": self.data_format, "dilation_rate": self.dilation_rate,
            "activation": activations.serialize(self.activation),
            "recurrent_activation": activations.serialize(self.recurrent_activation), "use_bias": self.use_bias,
            "unit_forget_bias": self.unit_forget_bias, **weight_options_config(self),
            "dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout, "seed": self.seed,
        })
        return config


_CELL_PROPERTIES = ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate", "activation",
                    "recurrent_activation", "use_bias", "kernel_initializer", "recurrent_initializer",
                    "bias_initializer", "unit_forget_bias", "kernel_regularizer", "recurrent_regularizer",
                    "bias_regularizer", "kernel_constraint", "recurrent_constraint", "bias_constraint", "dropout",
                    "recurrent_dropout")


class ConvLSTM(FlatCellConfig, RNN):
    """Base of ConvLSTM1D/2D/3D: an RNN over a ConvLSTMCell named conv_lstm_cell."""

    _rank = None

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 activation="tanh", recurrent_activation="sigmoid", use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros", unit_forget_bias=True,
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, seed=None,
                 return_sequences=False, return_state=False, go_backwards=False, stateful=False, **kwargs):
        dtype = kwargs.get("dtype")
        cell = ConvLSTMCell(
            self._rank, filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
            dilation_rate=dilation_rate, activation=activation, recurrent_activation=recurrent_activation,
            use_bias=use_bias, kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer, unit_forget_bias=unit_forget_bias,
            kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint, dropout=dropout,
            recurrent_dropout=recurrent_dropout, seed=seed, name="conv_lstm_cell",
            dtype=dtype, trainable=kwargs.get("trainable", True))
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, **kwargs)
        self.input_spec = InputSpec(ndim=self._rank + 3)

    def build(self, input_shape):
        if isinstance(input_shape, list):  # [sequence shape, *initial state shapes]
            input_shape = input_shape[0]
        if len(input_shape) != self._rank + 3:
            raise ValueError(f"Input 0 of layer '{self.name}' is incompatible with the layer: expected "
                             f"ndim={self._rank + 3} (batch, time, {self._rank} spatial axes, channels), found "
                             f"ndim={len(input_shape)}. Full shape received: {tuple(input_shape)}")
        super().build(input_shape)

    # -- the fused native path ------------------------------------------------------------------
    def _fused(self, inputs):
        """Whether the whole sequence can run in the native kernel (else RNN's step loop runs)."""
        cell = self.cell
        if type(cell).recurrent_step is not ConvLSTMCell.recurrent_step or type(cell).project is not \
                ConvLSTMCell.project or type(self)._cell_step is not ConvLSTM._cell_step or not inputs.shape[1]:
            return False  # a subclass that changes the step is run step by step; so are empty sequences
        if str(inputs.device) != "cpu" or cell.kernel.dtype not in ("float32", "float64", "bfloat16"):
            return False
        return all(native_activation(a)[0] for a in (cell.activation, cell.recurrent_activation))

    def _run_steps(self, inputs, states, mask, training):
        if not self._fused(inputs):
            return super()._run_steps(inputs, states, mask, training)
        cell = self.cell
        if training:
            drop = cell.get_dropout_mask(ops.getitem(inputs, (slice(None), 0)))
            inputs = inputs if drop is None else ops.multiply(inputs, ops.expand_dims(drop, 1))
        rec_mask = None
        if training and cell.recurrent_dropout:
            like = convert_to_tensor(np.zeros((inputs.shape[0],) + cell.state_shape), cell.compute_dtype)
            rec_mask = cell.get_recurrent_dropout_mask(like)
        outputs, h, c = conv_lstm(
            inputs, cell.kernel, cell.recurrent_kernel, cell.bias, states, mask, strides=cell.strides,
            padding=cell.padding, dilation_rate=cell.dilation_rate, data_format=cell.data_format,
            activation=cell.activation, recurrent_activation=cell.recurrent_activation,
            go_backwards=self.go_backwards, recurrent_dropout_mask=rec_mask)
        last = ops.getitem(outputs, (slice(None), -1))
        return (outputs if self.return_sequences else None), last, [h, c]

    # the hooks of RNN's step loop: the input convolution of all steps is hoisted out of it
    def _prepare_steps(self, inputs, training):
        shape = tuple(inputs.shape)
        if training:
            mask = self.cell.get_dropout_mask(ops.getitem(inputs, (slice(None), 0)))
            inputs = inputs if mask is None else ops.multiply(inputs, ops.expand_dims(mask, 1))
        frames = ops.reshape(inputs, (shape[0] * shape[1],) + shape[2:])
        projected = self.cell.project(frames)
        return ops.reshape(projected, shape[:2] + tuple(projected.shape[1:]))

    def _cell_step(self, x_t, flat_states, training):
        return self.cell.recurrent_step(x_t, flat_states, training)

    def _state_shapes(self, batch):
        return [(batch,) + self.cell.state_shape] * 2

    def _step_output_shape(self, batch):
        return (batch,) + self.cell.state_shape

    def get_initial_state(self, batch_size):
        return self.cell.get_initial_state(batch_size)

    def compute_output_shape(self, input_shape):
        if isinstance(input_shape, list):  # [sequence shape, *initial state shapes]
            input_shape = input_shape[0]
        batch, steps = input_shape[0], input_shape[1]
        state = self.cell.state_shape
        out = (batch, steps) + state if self.return_sequences else (batch,) + state
        return [out, (batch,) + state, (batch,) + state] if self.return_state else out


delegate_to_cell(ConvLSTM, _CELL_PROPERTIES)


class ConvLSTM1D(ConvLSTM):
    """ConvLSTM over (batch, time, steps, channels) sequences of 1-D frames."""

    _rank = 1


class ConvLSTM2D(ConvLSTM):
    """ConvLSTM over (batch, time, rows, cols, channels) sequences of images."""

    _rank = 2


class ConvLSTM3D(ConvLSTM):
    """ConvLSTM over (batch, time, depth, rows, cols, channels) sequences of volumes."""

    _rank = 3
