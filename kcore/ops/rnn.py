"""Whole-sequence recurrent ops: SimpleRNN, LSTM and GRU over all time steps in one native call.

Each op returns the output of every processed step (batch, timesteps, units) and the final
states. `recurrent_dropout_mask` (batch, units), already scaled (0 or 1/(1-rate)), multiplies h_{t-1}
where it enters the recurrent products (Keras recurrent_dropout: one mask per sequence).
One autodiff node covers the whole sequence: its backward is one native call that
returns the gradients of the inputs, the initial states and the three weights.

Weights use Keras 3 layouts and gate orders (LSTM i,f,c,o; GRU z,r,h); see csrc/ops/rnn.h.
"""
import numpy as np

from kcore.backend.autodiff import attach_outputs
from kcore.backend.device import to_device
from kcore.backend.native import _C
from kcore.backend.tensor import Tensor, convert_to_tensor
from kcore.ops.core import _float

# name -> native code, generated from the C++ list (KCORE_RNN_ACTIVATIONS in csrc/ops/rnn.h)
ACTIVATIONS = dict(_C.RnnActivation.__members__)


def activation_code(activation):
    """The native code of an activation given by name (or a function with that name); None = linear."""
    if activation is None:
        return _C.RnnActivation.linear
    name = activation if isinstance(activation, str) else getattr(activation, "__name__", None)
    code = ACTIVATIONS.get(name)
    if code is None:
        raise ValueError(f"Recurrent layers support the activations {sorted(ACTIVATIONS)} natively; "
                         f"got {activation!r}")
    return code


def simple_rnn(inputs, kernel, recurrent_kernel, bias=None, initial_state=None, mask=None, activation="tanh",
               go_backwards=False, recurrent_dropout_mask=None):
    """h_t = act(x_t W + b + h_{t-1} U). Returns (outputs (B, T, U), final h)."""
    outputs, (h,) = _sequence(_C.RnnCell.simple, inputs, kernel, recurrent_kernel, bias, initial_state, mask,
                              activation, "sigmoid", go_backwards, True, recurrent_dropout_mask)
    return outputs, h


def lstm(inputs, kernel, recurrent_kernel, bias=None, initial_state=None, mask=None, activation="tanh",
         recurrent_activation="sigmoid", go_backwards=False, recurrent_dropout_mask=None):
    """Keras LSTM over a whole sequence. initial_state = (h0, c0) or None. Returns (outputs, h, c)."""
    outputs, (h, c) = _sequence(_C.RnnCell.lstm, inputs, kernel, recurrent_kernel, bias, initial_state, mask,
                                activation, recurrent_activation, go_backwards, True, recurrent_dropout_mask)
    return outputs, h, c


def gru(inputs, kernel, recurrent_kernel, bias=None, initial_state=None, mask=None, activation="tanh",
        recurrent_activation="sigmoid", go_backwards=False, reset_after=True, recurrent_dropout_mask=None):
    """Keras GRU over a whole sequence (bias (2, 3U) when reset_after). Returns (outputs, h)."""
    outputs, (h,) = _sequence(_C.RnnCell.gru, inputs, kernel, recurrent_kernel, bias, initial_state, mask,
                              activation, recurrent_activation, go_backwards, bool(reset_after),
                              recurrent_dropout_mask)
    return outputs, h


# -- implementation -----------------------------------------------------------------------


def _sequence(cell, inputs, kernel, recurrent_kernel, bias, initial_state, mask, activation, recurrent_activation,
              go_backwards, reset_after, recurrent_dropout_mask=None):
    kernel, recurrent_kernel = _float(kernel), _float(recurrent_kernel)
    dtype = kernel.dtype
    x = _as_dtype(inputs, dtype)
    if x.ndim != 3:
        hint = " (a time axis is missing: reshape to (batch, 1, features) for one step)" if x.ndim == 2 else ""
        raise ValueError(f"{_name(cell)}: inputs must be 3-D (batch, timesteps, features), got shape "
                         f"{tuple(x.shape)}{hint}")
    bias = None if bias is None else _as_dtype(bias, dtype)
    n_states = 2 if cell == _C.RnnCell.lstm else 1
    states = _initial_states(initial_state, n_states, dtype, cell)
    mask_value = None if mask is None else _mask(mask, x.shape[:2], cell, x.value.device)

    seq_v, h_v, c_v, saved = _C.rnn_forward(
        cell, reset_after, activation_code(activation), activation_code(recurrent_activation), bool(go_backwards),
        x.value, kernel.value, recurrent_kernel.value, None if bias is None else bias.value,
        states[0].value if states[0] is not None else None,
        states[1].value if n_states == 2 and states[1] is not None else None, mask_value,
        None if recurrent_dropout_mask is None else _as_dtype(recurrent_dropout_mask, dtype).value)

    diff_inputs = [x, kernel, recurrent_kernel] + ([bias] if bias is not None else [])
    diff_inputs += [s for s in states if s is not None]
    kv, rkv = kernel.value, recurrent_kernel.value

    def backward(grads):  # grads: one per output (sequence, h[, c]), None where none arrived
        g, gh, gc = (list(grads) + [None])[:3]
        dx, dh0, dc0, dk, drk, db = _C.rnn_backward(saved, kv, rkv, g, gh, gc, x.requires_grad)
        out = [dx, dk, drk] + ([db] if bias is not None else [])
        out += [d for s, d in zip(states, (dh0, dc0)) if s is not None]
        return out

    outs = [Tensor(v) for v in [seq_v, h_v, c_v][:1 + n_states]]
    attach_outputs(outs, tuple(diff_inputs), backward)
    return outs[0], outs[1:]


def _as_dtype(t, dtype):
    return convert_to_tensor(t, dtype=dtype)


def _initial_states(initial_state, n, dtype, cell):
    if initial_state is None:
        return [None] * n
    states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
    if len(states) != n:
        raise ValueError(f"{_name(cell)}: expected {n} initial state tensor(s), got {len(states)}")
    return [None if s is None else _as_dtype(s, dtype) for s in states]


def _mask(mask, batch_time, cell, device):
    m = mask.numpy() if isinstance(mask, Tensor) else np.asarray(mask)
    if m.shape != tuple(batch_time):
        raise ValueError(f"{_name(cell)}: mask must have shape {tuple(batch_time)} (batch, timesteps), "
                         f"got {m.shape}")
    return to_device(_C.from_numpy(np.ascontiguousarray(m != 0, dtype=np.int32)), device)


def _name(cell):
    return {_C.RnnCell.simple: "SimpleRNN", _C.RnnCell.lstm: "LSTM", _C.RnnCell.gru: "GRU"}[cell]
