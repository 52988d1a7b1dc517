"""RNN: runs a cell over the time axis of a sequence.

Over a built-in cell (SimpleRNNCell, LSTMCell, GRUCell) or a StackedRNNCells of them, the whole
sequence goes through the fused native kernels, one call per cell (as LSTM / GRU / SimpleRNN,
which are RNNs over those cells). Over any other cell (a Layer with `state_size` and
`call(inputs, states)`), RNN steps through time in Python and autodiff records every step,
so a user's cell trains like any layer.
"""
import numpy as np

from kcore import ops
from kcore.backend.tensor import Tensor, convert_to_tensor
from kcore.layers.keras_tensor import any_symbolic
from kcore.layers.layer import InputSpec, Layer
from kcore.layers.rnn._common import (
    check_sequence_rank,
    flatten_states,
    legacy_sequence_shape,
    mask_array,
    nest_like,
    set_weight_paths,
)
from kcore.layers.rnn.cells import NativeRNNCell
from kcore.layers.rnn.stacked_rnn_cells import StackedRNNCells, _cell_output_size, check_cell


def zero_states(state_size, batch, dtype):
    """Zero tensors shaped like state_size (an int -> one tensor; a list -> a list)."""
    if isinstance(state_size, (list, tuple)):
        return [zero_states(s, batch, dtype) for s in state_size]
    return convert_to_tensor(np.zeros((batch, state_size)), dtype)


def _native_cells(cell):
    """The built-in cells the fused path runs one after the other, or None when a step must be Python's."""
    cells = cell.cells if isinstance(cell, StackedRNNCells) else [cell]
    for c in cells:
        # a subclass that redefines the step is the user's own cell: it goes step by step
        if not isinstance(c, NativeRNNCell) or type(c).call is not NativeRNNCell.call:
            return None
    return cells


class RNN(Layer):
    """Base recurrent layer: `RNN(cell, return_sequences, return_state, go_backwards, stateful, unroll)`.

    `cell` is an RNN cell (or a list of cells, stacked). Call with inputs (batch, timesteps,
    ...), optional `initial_state` (a list of tensors, nested like the cell's state_size) and
    `mask` (batch, timesteps); masked steps carry the previous output and states over.
    `unroll` is accepted: the computed numbers are the same either way.
    """

    def __init__(self, cell, return_sequences=False, return_state=False, go_backwards=False, stateful=False,
                 unroll=False, zero_output_for_mask=False, **kwargs):
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(cell)
        check_cell(cell, type(self).__name__)
        for legacy in ("implementation", "use_cudnn", "time_major", "quantization_config"):
            kwargs.pop(legacy, None)
        legacy_sequence_shape(kwargs)
        super().__init__(**kwargs)
        self.cell = cell
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.single_state = isinstance(cell.state_size, int)
        self.state_size = [cell.state_size] if self.single_state else list(cell.state_size)
        self._flat_sizes = flatten_states(self.state_size)
        self.states = None
        self.supports_masking = True
        self.input_spec = InputSpec(min_ndim=3)

    @property
    def _native(self):
        return _native_cells(self.cell)

    # -- building ------------------------------------------------------------------------------
    def __call__(self, inputs, *args, **kwargs):
        initial_state = kwargs.get("initial_state")
        if initial_state is not None and any_symbolic(initial_state):
            # symbolic initial states join the inputs, so the functional graph sees them (Keras 2's way)
            kwargs.pop("initial_state")
            inputs = [inputs] + flatten_states(initial_state)
        return super().__call__(inputs, *args, **kwargs)

    @staticmethod
    def _node_arguments(inputs, kwargs):
        """For saving a functional graph: [sequence, *states] inputs back to Keras's initial_state keyword."""
        if isinstance(inputs, (list, tuple)):
            return inputs[0], dict(kwargs, initial_state=list(inputs[1:]))
        return inputs, kwargs

    def build(self, input_shape):
        if _is_shape_list(input_shape):  # [sequence shape, *initial state shapes]
            input_shape = input_shape[0]
        self._build_shape = tuple(input_shape)  # Keras's build_config holds the sequence shape only
        check_sequence_rank(self, input_shape, exact=self._native is not None)
        step_shape = (input_shape[0],) + tuple(input_shape[2:])
        if isinstance(self.cell, Layer):
            self.cell._maybe_build(step_shape)
            set_weight_paths(self.cell, self.name)
        if self._native is not None:
            self.input_spec = InputSpec(ndim=3, axes={-1: input_shape[-1]})
        self.built = True

    def _saving_children(self):
        """Keras 3 .weights.h5 layout: the cell's weights live under 'cell/'."""
        return [("cell", self.cell)] if isinstance(self.cell, Layer) else []

    # -- calling ---------------------------------------------------------------------------------
    def call(self, inputs, training=None, mask=None, initial_state=None):
        if isinstance(inputs, (list, tuple)):  # [sequence, *initial states] (see __call__)
            inputs, initial_state = inputs[0], list(inputs[1:])
        cells = self._native
        check_sequence_rank(self, inputs.shape, exact=cells is not None)
        batch = inputs.shape[0]
        mask = mask_array(mask)
        if mask is not None and mask.shape != tuple(inputs.shape[:2]):
            raise ValueError(f"Layer '{self.name}': the mask must have shape {tuple(inputs.shape[:2])} (batch, "
                             f"timesteps), got {mask.shape}")
        states = self._initial_states(initial_state, batch)
        for c in (cells or [self.cell]):  # every call draws fresh dropout masks
            getattr(c, "reset_dropout_mask", lambda: None)()
            getattr(c, "reset_recurrent_dropout_mask", lambda: None)()
        if cells is not None:
            outputs, finals = self._run_native(cells, inputs, states, mask, training)
            last = None
        else:
            outputs, last, finals = self._run_steps(inputs, states, mask, training)
        if self.stateful:
            self.states = [Tensor(s.value) for s in finals]
        if self.return_sequences:
            if self.zero_output_for_mask and mask is not None:
                outputs = self._zero_masked(outputs, mask)
            result = outputs
        else:
            if last is None and outputs.shape[1] == 0:  # Keras fails here too: there is no last step to return
                raise ValueError(f"Layer '{self.name}': the input has 0 time steps (shape {tuple(inputs.shape)}); "
                                 "a recurrent layer needs at least one to return its last output")
            result = last if last is not None else ops.getitem(outputs, (slice(None), -1))
        if self.return_state:
            if self.return_sequences and mask is not None:  # the base class only tags single outputs
                result._keras_mask = mask
            return [result] + nest_like(self.state_size, finals)
        return result

    def _run_native(self, cells, inputs, states, mask, training):
        """Each built-in cell over the whole sequence in one native call; the next cell reads its outputs."""
        x, finals, pos = inputs, [], 0
        for i, cell in enumerate(cells):
            n = cell._num_states
            init = None if states is None else states[pos:pos + n]
            pos += n
            if training:
                drop = cell.get_dropout_mask(ops.getitem(x, (slice(None), 0)))
                if drop is not None:  # one mask per sequence, before the input GEMM
                    x = ops.multiply(x, ops.expand_dims(drop, 1))
            rec = None
            if training and cell.recurrent_dropout:
                rec = cell.get_recurrent_dropout_mask(convert_to_tensor(np.zeros((x.shape[0], cell.units)),
                                                                        cell.compute_dtype))
            # the first cell reverses time; the later ones read its outputs, already in processed order
            backwards = self.go_backwards and i == 0
            step_mask = mask[:, ::-1] if (mask is not None and self.go_backwards and i > 0) else mask
            x, cell_finals = cell._sequence(x, init, step_mask, backwards, rec)
            finals.extend(cell_finals)
        return x, finals

    def _run_steps(self, inputs, states, mask, training):
        """The user's cell, one step at a time; masked steps keep the previous output and states."""
        if states is None:
            states = flatten_states(self.get_initial_state(inputs.shape[0]))
        steps = inputs.shape[1]
        if not steps:
            raise ValueError(f"Layer '{self.name}' received a sequence with no time steps: shape "
                             f"{tuple(inputs.shape)}")
        inputs = self._prepare_steps(inputs, training)
        order = range(steps - 1, -1, -1) if self.go_backwards else range(steps)
        outputs, prev = [], None
        for t in order:
            x_t = ops.getitem(inputs, (slice(None), t))
            out, new = self._cell_step(x_t, states, training)
            self._check_step(out, new, inputs.shape[0])
            if mask is not None:
                keep = mask[:, t].astype(out.dtype).reshape((-1,) + (1,) * (len(out.shape) - 1))
                keep = convert_to_tensor(keep)
                prev = ops.zeros_like(out) if prev is None else prev
                out = _select(keep, out, prev)
                new = [_select(keep, n, s) for n, s in zip(new, states)]
            outputs.append(out)
            prev, states = out, new
        sequence = ops.stack(outputs, axis=1) if self.return_sequences else None
        return sequence, outputs[-1], states

    def _prepare_steps(self, inputs, training):
        """Work done once for all steps before the loop (subclasses hoist input projections here)."""
        return inputs

    def _cell_step(self, x_t, flat_states, training):
        """One call of the cell: (output, flat list of new states)."""
        nested = nest_like(self.state_size, flat_states)
        if isinstance(self.cell, Layer):
            out, new = self.cell(x_t, nested, training=training)
        else:
            out, new = self.cell.call(x_t, nested)
        return out, flatten_states(new if isinstance(new, (list, tuple)) else [new])

    def _check_step(self, out, new, batch):
        shapes = [tuple(getattr(s, "shape", ())) for s in new]
        want = self._state_shapes(batch)
        cell_name = getattr(self.cell, "name", type(self.cell).__name__)
        if shapes != want:
            raise ValueError(f"Layer '{self.name}': cell '{cell_name}' declares state_size {self.cell.state_size} "
                             f"(states of shapes {want}), but its call returned {len(new)} state(s) of shapes "
                             f"{shapes}")
        expected = self._step_output_shape(batch)
        if tuple(out.shape) != expected:
            raise ValueError(f"Layer '{self.name}': cell '{cell_name}' returned an output of shape "
                             f"{tuple(out.shape)}, but its output_size (or first state size) gives {expected}")

    def _state_shapes(self, batch):
        """The shape of every (flat) state for a batch."""
        return [(batch, size) for size in self._flat_sizes]

    def _step_output_shape(self, batch):
        return (batch, self._output_size())

    def _zero_masked(self, outputs, mask):
        m = mask.astype(outputs.dtype)
        if self.go_backwards:
            m = m[:, ::-1]
        m = m.reshape(m.shape + (1,) * (len(outputs.shape) - 2))  # (batch, time, 1, ...): any frame rank
        return ops.multiply(outputs, convert_to_tensor(np.ascontiguousarray(m)))

    # -- states ----------------------------------------------------------------------------------
    def get_initial_state(self, batch_size):
        """The cell's initial states (its get_initial_state, else zeros), nested like state_size."""
        fn = getattr(self.cell, "get_initial_state", None)
        if fn is None:
            return zero_states(self.state_size, batch_size, self.compute_dtype)
        states = fn(batch_size=batch_size)
        return list(states) if isinstance(states, (list, tuple)) else [states]

    def _initial_states(self, initial_state, batch):
        """A flat list of state tensors, or None for zeros."""
        if initial_state is not None:
            flat = flatten_states(initial_state if isinstance(initial_state, (list, tuple)) else [initial_state])
            if len(flat) != len(self._flat_sizes):
                raise ValueError(f"Layer '{self.name}' expects {len(self._flat_sizes)} initial state tensor(s) "
                                 f"(state_size {self.state_size}), got {len(flat)}")
            flat = [convert_to_tensor(s, dtype=self.compute_dtype) for s in flat]
            for s, shape in zip(flat, self._state_shapes(batch)):
                if tuple(s.shape) != shape:
                    raise ValueError(f"Layer '{self.name}': an initial state must have shape {shape}, got "
                                     f"{tuple(s.shape)}")
            return flat
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
        return [convert_to_tensor(np.zeros(shape), self.compute_dtype) for shape in self._state_shapes(batch)]

    def reset_states(self, states=None):
        """Stateful layers: sets the carried states to zeros (or to the given arrays)."""
        if not self.stateful:
            raise AttributeError(f"Layer '{self.name}' is not stateful (construct it with stateful=True)")
        if states is not None:
            arrays = flatten_states(list(states) if isinstance(states, (list, tuple)) else [states])
            if len(arrays) != len(self._flat_sizes):
                raise ValueError(f"Layer '{self.name}' has {len(self._flat_sizes)} state(s), got {len(arrays)}")
            self.states = [convert_to_tensor(np.asarray(s, dtype=np.float32), self.compute_dtype) for s in arrays]
            return
        batch = self.states[0].shape[0] if self.states else (self._batch_input_shape or (None,))[0]
        self.states = None if batch is None else self._zero_states(batch)  # None: zeros at the next call

    reset_state = reset_states

    # -- shapes, masks, config --------------------------------------------------------------------
    def _output_size(self):
        return _cell_output_size(self.cell)

    def compute_output_shape(self, input_shape):
        if _is_shape_list(input_shape):
            input_shape = input_shape[0]
        check_sequence_rank(self, input_shape, exact=self._native is not None)
        batch, steps = input_shape[0], input_shape[1]
        size = self._output_size()
        out = (batch, steps, size) if self.return_sequences else (batch, size)
        if self.return_state:  # symbolic outputs are flat: [output, *every state]
            return [out] + [(batch, s) for s in self._flat_sizes]
        return out

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        out = mask if self.return_sequences else None
        return [out] + [None] * len(self._flat_sizes) if self.return_state else out

    def get_config(self):
        from kcore.saving.serialization import serialize_layer

        config = super().get_config()
        config.update({"return_sequences": self.return_sequences, "return_state": self.return_state,
                       "go_backwards": self.go_backwards, "stateful": self.stateful, "unroll": self.unroll,
                       "zero_output_for_mask": self.zero_output_for_mask, "cell": serialize_layer(self.cell)})
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from kcore.saving.serialization import deserialize_layer, filter_config

        config = dict(config)
        cell = deserialize_layer(config.pop("cell"), custom_objects)
        return cls(cell, **filter_config(cls, config, f"{cls.__name__}.from_config"))


def _is_shape_list(shape):
    return isinstance(shape, (list, tuple)) and bool(shape) and isinstance(shape[0], (list, tuple))


def _select(keep, new, old):
    """new where keep (batch, 1) is 1, old where it is 0 (exact for 0/1 masks)."""
    return ops.add(ops.multiply(new, keep), ops.multiply(old, ops.subtract(1.0, keep)))
