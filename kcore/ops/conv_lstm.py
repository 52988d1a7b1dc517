"""ConvLSTM over a whole sequence in one native call (csrc/ops/conv_lstm.h), CPU only.

`conv_lstm` runs Keras's ConvLSTM1D/2D/3D recurrence (gate order i, f, c, o) over every step:
the input convolution of all steps, the recurrent 'same' convolution and the gates of each
step, with masks, go_backwards, initial states and a recurrent dropout mask. One autodiff node
covers the sequence; its backward is one native call (backward through time) returning the
gradients of the inputs, the initial states, both kernels and the bias.
"""
import numpy as np

from kcore.backend.autodiff import attach_outputs
from kcore.backend.device import to_device
from kcore.backend.native import _C, UnaryOp
from kcore.backend.tensor import Tensor, convert_to_tensor
from kcore.ops.conv import normalize_data_format, normalize_padding, normalize_tuple, output_length, padding_amounts
from kcore.ops.core import _float, transpose

_OP = "conv_lstm"


def _gate_table():
    from kcore import activations as a

    return {a.linear: None, a.tanh: UnaryOp.tanh, a.sigmoid: UnaryOp.sigmoid, a.relu: UnaryOp.relu,
            a.hard_sigmoid: UnaryOp.hard_sigmoid, a.hard_sigmoid_k2: UnaryOp.hard_sigmoid_k2, a.elu: UnaryOp.elu,
            a.selu: UnaryOp.selu,
            a.softplus: UnaryOp.softplus, a.softsign: UnaryOp.softsign, a.silu: UnaryOp.silu,
            a.relu6: UnaryOp.relu6, a.exponential: UnaryOp.exp, a.mish: UnaryOp.mish,
            a.log_sigmoid: UnaryOp.log_sigmoid, a.gelu: UnaryOp.gelu}


def native_activation(activation):
    """(True, native code) for an activation the fused kernel computes (code None = linear), else (False, None).

    Only Keras's built-in functions with their default arguments qualify: `activation` may be one of
    them, its name, or None (linear); a user's function (even one named 'tanh') does not.
    """
    if activation is None or isinstance(activation, str):
        from kcore import activations

        try:
            activation = activations.get(activation)
        except ValueError:
            return False, None
    table = _gate_table()
    try:
        return (True, table[activation]) if activation in table else (False, None)
    except TypeError:  # an unhashable callable
        return False, None


def conv_lstm(inputs, kernel, recurrent_kernel, bias=None, initial_state=None, mask=None, strides=1,
              padding="valid", dilation_rate=1, data_format=None, activation="tanh", recurrent_activation="sigmoid",
              go_backwards=False, recurrent_dropout_mask=None) -> tuple[Tensor, Tensor, Tensor]:
    """Keras ConvLSTM over a whole sequence: returns (outputs (batch, steps, *out, filters), h, c).

    inputs (batch, steps, *spatial, channels) (channels_first: (batch, steps, channels, *spatial));
    kernel (*kernel_size, channels, 4 * filters); recurrent_kernel (*kernel_size, filters, 4 * filters);
    bias (4 * filters,) or None. `strides`, `padding` ('valid' / 'same') and `dilation_rate` apply to the
    input convolution; the recurrent one is 'same' with stride 1. initial_state = (h0, c0) or None (zeros);
    mask (batch, steps): masked steps carry the states and the previous output over. Outputs are in
    processed order (reversed with go_backwards). recurrent_dropout_mask (shaped like h, already scaled)
    multiplies h_{t-1} where it enters the recurrent convolution.
    """
    kernel, recurrent_kernel = _float(kernel), _float(recurrent_kernel)
    dtype = kernel.dtype
    rank = kernel.ndim - 2
    x = convert_to_tensor(inputs, dtype=dtype)
    if rank not in (1, 2, 3) or x.ndim != rank + 3:
        raise ValueError(f"{_OP}: a kernel of shape {tuple(kernel.shape)} needs inputs with {rank + 3} axes "
                         f"(batch, steps, {rank} spatial, channels); got inputs of shape {tuple(x.shape)}")
    strides = normalize_tuple(strides, rank, "strides", _OP)
    dilation = normalize_tuple(dilation_rate, rank, "dilation_rate", _OP)
    padding = normalize_padding(padding, _OP)
    ok, act_code = native_activation(activation)
    ok_rec, rec_code = native_activation(recurrent_activation)
    if not (ok and ok_rec):
        raise ValueError(f"{_OP}: activation {activation!r} / recurrent_activation {recurrent_activation!r}: the "
                         "fused kernel supports only Keras's built-in activations (with default arguments)")
    first = normalize_data_format(data_format) == "channels_first"
    to_last, to_first = _layouts(rank)
    if first:
        x = transpose(x, (0, 1) + tuple(a + 1 for a in to_last[1:]))
    bias = None if bias is None else convert_to_tensor(bias, dtype=dtype)
    states = _states(initial_state, dtype, to_last if first else None)
    rec_mask = None
    if recurrent_dropout_mask is not None:
        rec_mask = convert_to_tensor(recurrent_dropout_mask, dtype=dtype)
        rec_mask = transpose(rec_mask, to_last) if first else rec_mask
    before, after = padding_amounts(padding, x.shape[2:-1], kernel.shape[:-2], strides, dilation)
    out_spatial = [output_length(n, k, s, d, padding) for n, k, s, d in
                   zip(x.shape[2:-1], kernel.shape[:-2], strides, dilation)]
    ones = (1,) * rank
    rec_before, rec_after = padding_amounts("same", out_spatial, recurrent_kernel.shape[:-2], ones, ones)

    config = _C.ConvLstmConfig(act_code, rec_code, bool(go_backwards), list(strides), list(dilation), list(before),
                               list(after), list(rec_before), list(rec_after))
    seq_v, h_v, c_v, saved = _C.conv_lstm_forward(
        config, x.value, kernel.value, recurrent_kernel.value, None if bias is None else bias.value,
        *(None if s is None else s.value for s in states), _mask(mask, x.shape[:2], x.device),
        None if rec_mask is None else rec_mask.value)

    diff_inputs = [x, kernel, recurrent_kernel] + ([bias] if bias is not None else [])
    diff_inputs += [s for s in states if s is not None]
    kv, rkv = kernel.value, recurrent_kernel.value

    def backward(grads):  # one gradient per output (sequence, h, c), None where none arrived
        g, gh, gc = grads
        dx, dh0, dc0, dk, drk, db = _C.conv_lstm_backward(saved, kv, rkv, g, gh, gc, x.requires_grad)
        out = [dx, dk, drk] + ([db] if bias is not None else [])
        return out + [d for s, d in zip(states, (dh0, dc0)) if s is not None]

    outputs, h, c = attach_outputs([Tensor(seq_v), Tensor(h_v), Tensor(c_v)], tuple(diff_inputs), backward)
    if first:
        outputs = transpose(outputs, (0, 1) + tuple(a + 1 for a in to_first[1:]))
        h, c = transpose(h, to_first), transpose(c, to_first)
    return outputs, h, c


def _layouts(rank):
    """Axis orders (batch, channels, *spatial) -> channels_last and back, for states of this rank."""
    to_last = (0,) + tuple(range(2, rank + 2)) + (1,)
    to_first = (0, rank + 1) + tuple(range(1, rank + 1))
    return to_last, to_first


def _states(initial_state, dtype, to_last):
    if initial_state is None:
        return [None, None]
    states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
    if len(states) != 2:
        raise ValueError(f"{_OP}: expected 2 initial state tensors (h, c), got {len(states)}")
    states = [None if s is None else convert_to_tensor(s, dtype=dtype) for s in states]
    return [s if s is None or to_last is None else transpose(s, to_last) for s in states]


def _mask(mask, batch_time, device):
    """The (batch, steps) mask as a native int32 tensor on the inputs' device, or None."""
    if mask is None:
        return None
    m = mask.numpy() if isinstance(mask, Tensor) else np.asarray(mask)
    if m.shape != tuple(batch_time):
        raise ValueError(f"{_OP}: mask must have shape {tuple(batch_time)} (batch, steps), got {m.shape}")
    return to_device(_C.from_numpy(np.ascontiguousarray(m != 0, dtype=np.int32)), device)
