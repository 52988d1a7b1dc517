"""Recurrent layers: SimpleRNN, LSTM, GRU and the Bidirectional wrapper.

Each layer runs its whole sequence in one native call (kcore.ops.rnn); weights follow
Keras 3 (names kernel / recurrent_kernel / bias under `<layer>/<cell>/`, gate orders
LSTM i,f,c,o and GRU z,r,h), so get_weights / set_weights interoperate with Keras.
"""
import numpy as np

from kcore import activations, constraints, initializers, ops, regularizers
from kcore.backend.tensor import Tensor, convert_to_tensor
from kcore.layers.layer import InputSpec, Layer
from kcore.ops.rnn import activation_code

_NATIVE_ACTIVATIONS = ("tanh", "relu", "sigmoid", "linear", "hard_sigmoid", "hard_sigmoid_k2")


def _activation_name(identifier, argument):
    """Recurrent kernels apply activations natively, so they are kept by name."""
    if identifier is None:
        return "linear"
    name = identifier if isinstance(identifier, str) else activations.serialize(identifier)
    if name not in _NATIVE_ACTIVATIONS:
        raise ValueError(f"Recurrent layers support {argument} in {list(_NATIVE_ACTIVATIONS)}; got {identifier!r}")
    activation_code(name)
    return name


class _UnitForgetBias(initializers.Initializer):
    """LSTM bias with the forget gate's quarter set to one (unit_forget_bias=True)."""

    def __init__(self, base, units):
        self.base, self.units = base, units

    def __call__(self, shape, dtype=None):
        u = self.units
        parts = [self.base((u,), dtype), np.ones((u,), dtype=dtype or "float32"), self.base((2 * u,), dtype)]
        return np.concatenate([np.asarray(p) for p in parts]).astype(dtype or "float32")


class BaseRNN(Layer):
    """Shared machinery of SimpleRNN / LSTM / GRU: weights, options, states, masks."""

    _cell_name = None
    _gates = 1
    _num_states = 1

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, seed=None,
                 return_sequences=False, return_state=False, go_backwards=False, stateful=False, unroll=False,
                 zero_output_for_mask=False, **kwargs):
        for legacy in ("implementation", "use_cudnn", "time_major", "quantization_config"):
            kwargs.pop(legacy, None)
        _legacy_sequence_shape(kwargs)
        super().__init__(**kwargs)
        if not isinstance(units, (int, np.integer)) or isinstance(units, bool) or units <= 0:
            raise ValueError(f"Received an invalid value for argument `units`, expected a positive integer, got "
                             f"{units!r}")
        self.units = int(units)
        self.activation = _activation_name(activation, "activation")
        self.recurrent_activation = _activation_name(recurrent_activation, "recurrent_activation")
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = _rate(dropout, "dropout")
        self.recurrent_dropout = _rate(recurrent_dropout, "recurrent_dropout")
        self.seed = seed
        self._rng = np.random.default_rng(seed) if seed is not None else None
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)  # accepted; the native loop computes the same numbers
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.states = None
        self._rec_mask = None
        self.supports_masking = True
        self.input_spec = InputSpec(ndim=3)

    # -- weights -----------------------------------------------------------------------
    def _bias_shape(self):
        return (self._gates * self.units,)

    def _bias_initializer(self):
        return self.bias_initializer

    def build(self, input_shape):
        _check_rank(self, input_shape)
        features = input_shape[-1]
        if features is None:
            raise ValueError(f"Layer '{self.name}': the feature (last) axis of the input must be known, got "
                             f"{tuple(input_shape)}")
        width = self._gates * self.units
        self.kernel = self._weight("kernel", (features, width), self.kernel_initializer, self.kernel_regularizer,
                                   self.kernel_constraint)
        self.recurrent_kernel = self._weight("recurrent_kernel", (self.units, width), self.recurrent_initializer,
                                             self.recurrent_regularizer, self.recurrent_constraint)
        self.bias = (self._weight("bias", self._bias_shape(), self._bias_initializer(), self.bias_regularizer,
                                  self.bias_constraint) if self.use_bias else None)
        self.input_spec = InputSpec(ndim=3, axes={-1: features})
        self.built = True

    def _saving_groups(self):
        """Keras 3 .weights.h5 layout: the weights live in the cell's group."""
        return {"vars": [], "cell/vars": list(self._weights)}

    def _weight(self, name, shape, initializer, regularizer, constraint):
        var = self.add_weight(name=name, shape=shape, initializer=initializer, regularizer=regularizer,
                              constraint=constraint)
        var.path = f"{self.name}/{self._cell_name}/{name}"
        return var

    # -- calling -------------------------------------------------------------------------
    def call(self, inputs, training=None, mask=None, initial_state=None):
        _check_rank(self, inputs.shape)
        batch = inputs.shape[0]
        if self.dropout and training:  # one mask per sequence, before the input GEMM
            inputs = ops.dropout(inputs, self.dropout, [batch, 1, inputs.shape[2]], self._next_seed())
        self._rec_mask = None
        if 0.0 < self.recurrent_dropout and training:  # one mask on h_{t-1} per sequence, applied natively
            self._rec_mask = _dropout_mask((batch, self.units), self.recurrent_dropout, self._next_seed(), self.dtype)
        states = self._initial_states(initial_state, batch)
        outputs, finals = self._run(inputs, states, _mask_array(mask))
        if self.stateful:
            self.states = [Tensor(s.value) for s in finals]
        if self.return_sequences:
            if self.zero_output_for_mask and mask is not None:
                outputs = self._zero_masked(outputs, mask)
            result = outputs
        else:
            if outputs.shape[1] == 0:  # Keras fails here too: there is no last step to return
                raise ValueError(f"Layer '{self.name}': the input has 0 time steps (shape {tuple(inputs.shape)}); "
                                 "a recurrent layer needs at least one to return its last output")
            result = ops.getitem(outputs, (slice(None), -1))
        if self.return_state:
            if self.return_sequences and mask is not None:  # the base class only tags single outputs
                result._keras_mask = mask
            return [result] + list(finals)
        return result

    def _run(self, inputs, states, mask):
        raise NotImplementedError

    def _native_kwargs(self, mask):
        return {"mask": mask, "go_backwards": self.go_backwards, "activation": self.activation,
                "recurrent_dropout_mask": self._rec_mask}

    def _next_seed(self):
        return int(self._rng.integers(0, 2**63 - 1)) if self._rng is not None else None

    def _zero_masked(self, outputs, mask):
        m = _mask_array(mask).astype(outputs.dtype)
        if self.go_backwards:
            m = m[:, ::-1]
        return ops.multiply(outputs, convert_to_tensor(np.ascontiguousarray(m[:, :, None])))

    def _initial_states(self, initial_state, batch):
        if initial_state is not None:
            states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
            if len(states) != self._num_states:
                raise ValueError(f"Layer '{self.name}' expects {self._num_states} initial state tensor(s), got "
                                 f"{len(states)}")
            return [convert_to_tensor(s, dtype=self.dtype) for s in states]
        if not self.stateful:
            return None
        if self.states is None:
            self.states = self._zero_states(batch)
        if self.states[0].shape[0] != batch:
            raise ValueError(f"Stateful layer '{self.name}' holds states for batch size {self.states[0].shape[0]}, "
                             f"but received a batch of {batch}; stateful RNNs need a fixed batch size "
                             "(batch_size= on the input, and the same batch size in every call)")
        return self.states

    def _zero_states(self, batch):
        return [convert_to_tensor(np.zeros((batch, self.units), self.dtype)) for _ in range(self._num_states)]

    def reset_states(self, states=None):
        """Stateful layers: sets the carried states to zeros (or to the given arrays)."""
        if not self.stateful:
            raise AttributeError(f"Layer '{self.name}' is not stateful (construct it with stateful=True)")
        if states is not None:
            arrays = list(states) if isinstance(states, (list, tuple)) else [states]
            if len(arrays) != self._num_states:
                raise ValueError(f"Layer '{self.name}' has {self._num_states} state(s), got {len(arrays)}")
            self.states = [convert_to_tensor(np.asarray(s, dtype=self.dtype)) for s in arrays]
            return
        batch = self.states[0].shape[0] if self.states else (self._batch_input_shape or (None,))[0]
        self.states = None if batch is None else self._zero_states(batch)  # None: zeros at the next call

    reset_state = reset_states

    # -- shapes, masks, config --------------------------------------------------------------
    def compute_output_shape(self, input_shape):
        _check_rank(self, input_shape)
        batch, steps = input_shape[0], input_shape[1]
        out = (batch, steps, self.units) if self.return_sequences else (batch, self.units)
        if self.return_state:
            return [out] + [(batch, self.units)] * self._num_states
        return out

    def compute_mask(self, inputs, mask=None):
        out = mask if self.return_sequences else None
        return [out] + [None] * self._num_states if self.return_state else out

    def get_config(self):
        config = super().get_config()
        config.update({
            "units": self.units, "activation": self.activation, "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "recurrent_regularizer": regularizers.serialize(self.recurrent_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "recurrent_constraint": constraints.serialize(self.recurrent_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout, "seed": self.seed,
            "return_sequences": self.return_sequences, "return_state": self.return_state,
            "go_backwards": self.go_backwards, "stateful": self.stateful, "unroll": self.unroll,
            "zero_output_for_mask": self.zero_output_for_mask,
        })
        return config


class SimpleRNN(BaseRNN):
    """Fully-connected RNN: h_t = activation(x_t W + b + h_{t-1} U)."""

    _cell_name = "simple_rnn_cell"

    def __init__(self, units, activation="tanh", **kwargs):
        kwargs.pop("recurrent_activation", None)
        super().__init__(units, activation=activation, **kwargs)

    def _run(self, inputs, states, mask):
        outputs, h = ops.simple_rnn(inputs, self.kernel, self.recurrent_kernel, self.bias, states,
                                    **self._native_kwargs(mask))
        return outputs, [h]


class LSTM(BaseRNN):
    """Long short-term memory (Hochreiter 1997), Keras gate order i, f, c, o."""

    _cell_name = "lstm_cell"
    _gates = 4
    _num_states = 2

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", unit_forget_bias=True, **kwargs):
        super().__init__(units, activation=activation, recurrent_activation=recurrent_activation, **kwargs)
        self.unit_forget_bias = bool(unit_forget_bias)

    def _bias_initializer(self):
        if self.unit_forget_bias:
            return _UnitForgetBias(self.bias_initializer, self.units)
        return self.bias_initializer

    def _run(self, inputs, states, mask):
        outputs, h, c = ops.lstm(inputs, self.kernel, self.recurrent_kernel, self.bias, states,
                                 recurrent_activation=self.recurrent_activation, **self._native_kwargs(mask))
        return outputs, [h, c]

    def get_config(self):
        config = super().get_config()
        config.update({"recurrent_activation": self.recurrent_activation, "unit_forget_bias": self.unit_forget_bias})
        return config


class GRU(BaseRNN):
    """Gated recurrent unit (Cho 2014), Keras gate order z, r, h; reset_after=True is the Keras 3 default."""

    _cell_name = "gru_cell"
    _gates = 3

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", reset_after=True, **kwargs):
        super().__init__(units, activation=activation, recurrent_activation=recurrent_activation, **kwargs)
        self.reset_after = bool(reset_after)

    def _bias_shape(self):
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def _run(self, inputs, states, mask):
        outputs, h = ops.gru(inputs, self.kernel, self.recurrent_kernel, self.bias, states,
                             recurrent_activation=self.recurrent_activation, reset_after=self.reset_after,
                             **self._native_kwargs(mask))
        return outputs, [h]

    def get_config(self):
        config = super().get_config()
        config.update({"recurrent_activation": self.recurrent_activation, "reset_after": self.reset_after})
        return config


# -- Bidirectional ----------------------------------------------------------------------------

_MERGE_MODES = ("concat", "sum", "mul", "ave", None)


class Bidirectional(Layer):
    """Runs a recurrent layer forwards and a copy backwards, then merges the two outputs."""

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs):
        if not isinstance(layer, BaseRNN):
            raise ValueError(f"Bidirectional needs a recurrent layer (SimpleRNN, LSTM, GRU), got {layer!r}")
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
            if not isinstance(backward_layer, BaseRNN) or backward_layer.go_backwards == layer.go_backwards:
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
        self.input_spec = InputSpec(ndim=3)

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
            n = 2 * self.forward_layer._num_states
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
    return type(layer).from_config(config)


def _strip_prefix(name):
    for prefix in ("forward_", "backward_"):
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


def _reverse_time(x):
    """x[:, ::-1] for a (batch, time, features) tensor, differentiable."""
    steps = x.shape[1]
    time_major = ops.transpose(x, (1, 0, 2))
    flipped = ops.take(time_major, np.arange(steps - 1, -1, -1, dtype=np.int64))
    return ops.transpose(flipped, (1, 0, 2))


# -- helpers ------------------------------------------------------------------------------------


def _legacy_sequence_shape(kwargs):
    """Keras 2: LSTM(32, input_dim=64, input_length=10) means batch_input_shape (None, 10, 64)."""
    input_dim, input_length = kwargs.pop("input_dim", None), kwargs.pop("input_length", None)
    if input_dim is not None and not any(k in kwargs for k in ("input_shape", "batch_input_shape")):
        kwargs["batch_input_shape"] = (kwargs.pop("batch_size", None), input_length, int(input_dim))


def _rate(value, name):
    value = float(value)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"Received an invalid value for argument `{name}`, expected a float between 0 and 1, got "
                         f"{value}")
    return value


def _check_rank(layer, shape):
    if len(shape) != 3:
        hint = ""
        if len(shape) == 2:
            hint = (" The time axis is missing: recurrent layers take (batch, timesteps, features); reshape a "
                    "single step to (batch, 1, features), or put an Embedding / Reshape before this layer.")
        raise ValueError(f"Input 0 of layer '{layer.name}' is incompatible with the layer: expected ndim=3 "
                         f"(batch, timesteps, features), found ndim={len(shape)}. Full shape received: "
                         f"{tuple(shape)}.{hint}")


def _dropout_mask(shape, rate, seed, dtype):
    """Inverted-dropout mask: 0 with probability rate, else 1 / (1 - rate)."""
    from kcore.backend.native import _C
    from kcore.utils.rng import next_seed

    if rate >= 1.0:
        return convert_to_tensor(np.zeros(shape, dtype))
    like = convert_to_tensor(np.zeros((1,), dtype))
    return Tensor(_C.dropout_mask(list(shape), rate, next_seed(seed), like.value))


def _mask_array(mask):
    if mask is None:
        return None
    if isinstance(mask, (list, tuple)):
        mask = mask[0]
        if mask is None:
            return None
    return np.asarray(mask.numpy() if isinstance(mask, Tensor) else mask) != 0
