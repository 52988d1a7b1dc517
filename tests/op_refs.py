"""NumPy references of the spatial ops, written as plain loops (readable, not fast).

Used by the op table (tests/op_rows_nn.py) and by the special-case tests in test_conv.py / test_pool.py.
"""
import itertools

import numpy as np

from kcore.ops.conv import _transpose_padding, conv_transpose_length, padding_amounts


def reference_conv(x, w, strides, dilation, padding):
    """Keras's conv written as plain loops over output cells and kernel taps (channels_last).

    A kernel with fewer input channels than x is grouped: one reference conv per channel/filter block.
    """
    groups = x.shape[-1] // w.shape[-2]
    if groups > 1:
        cg, fg = w.shape[-2], w.shape[-1] // groups
        return np.concatenate([reference_conv(x[..., i * cg:(i + 1) * cg], w[..., i * fg:(i + 1) * fg], strides,
                                              dilation, padding) for i in range(groups)], axis=-1)
    rank = w.ndim - 2
    before, after = padding_amounts(padding, x.shape[1:-1], w.shape[:rank], strides, dilation)
    xp = np.pad(x, [(0, 0)] + list(zip(before, after)) + [(0, 0)])
    outs = [(xp.shape[1 + i] - ((w.shape[i] - 1) * dilation[i] + 1)) // strides[i] + 1 for i in range(rank)]
    y = np.zeros((x.shape[0], *outs, w.shape[-1]))
    for o in itertools.product(*[range(n) for n in outs]):
        for tap in itertools.product(*[range(n) for n in w.shape[:rank]]):
            idx = tuple(o[i] * strides[i] + tap[i] * dilation[i] for i in range(rank))
            y[(slice(None),) + o] += xp[(slice(None),) + idx] @ w[tap]
    return y


def reference_conv_transpose(x, w, strides, padding, output_padding=None):
    """Scatter form: every input cell adds kernel * value at stride offsets, then the padding is cropped."""
    rank = w.ndim - 2
    ks, ones = w.shape[:rank], (1,) * rank
    ops_ = output_padding or (None,) * rank
    out = [conv_transpose_length(n, k, s, 1, padding, p) for n, k, s, p in zip(x.shape[1:-1], ks, strides, ops_)]
    before, _ = _transpose_padding(padding, x.shape[1:-1], out, ks, strides, ones)
    full = [(n - 1) * s + k + o for n, s, k, o in zip(x.shape[1:-1], strides, ks, out)]
    y = np.zeros((x.shape[0], *full, w.shape[-2]))
    for i in itertools.product(*[range(n) for n in x.shape[1:-1]]):
        for tap in itertools.product(*[range(k) for k in ks]):
            pos = tuple(a * s + t for a, s, t in zip(i, strides, tap))
            y[(slice(None),) + pos] += x[(slice(None),) + i] @ w[tap].T
    return y[(slice(None),) + tuple(slice(b, b + o) for b, o in zip(before, out))]


def reference_pool(x, pool, strides, padding, mode):
    """TF/Keras pooling as loops: windows clipped to real cells (padding never counted)."""
    rank = x.ndim - 2
    before, after = padding_amounts(padding, x.shape[1:-1], pool, strides, (1,) * rank)
    outs = [(x.shape[1 + i] + before[i] + after[i] - pool[i]) // strides[i] + 1 for i in range(rank)]
    y = np.zeros((x.shape[0], *outs, x.shape[-1]))
    for o in itertools.product(*[range(n) for n in outs]):
        window = tuple(slice(max(0, o[i] * strides[i] - before[i]),
                             min(x.shape[1 + i], o[i] * strides[i] - before[i] + pool[i])) for i in range(rank))
        cells = x[(slice(None),) + window]
        cells = cells.reshape(x.shape[0], int(np.prod(cells.shape[1:-1])), x.shape[-1])
        y[(slice(None),) + o] = cells.max(axis=1) if mode == "max" else cells.mean(axis=1)
    return y


def reference_depthwise(x, w, strides, dilation, padding):
    """Output channel c * M + m is channel c convolved with w[..., c, m] (Keras/TF order)."""
    c_in, mult = w.shape[-2:]
    return np.concatenate([reference_conv(x[..., c:c + 1], w[..., c:c + 1, m:m + 1], strides, dilation, padding)
                           for c in range(c_in) for m in range(mult)], axis=-1)


def reference_conv_lstm(x, w, u, b, h0, c0, strides, dilation, padding, mask=None, go_backwards=False,
                        activation=np.tanh, recurrent_activation=None, rec_mask=None):
    """Keras's ConvLSTM (gates i, f, c, o) step by step, channels_last: returns (outputs, h, c).

    The input convolution uses `strides`/`dilation`/`padding`; the recurrent one is 'same' with stride 1.
    A masked step repeats the previous output and keeps the states."""
    rec = recurrent_activation or (lambda z: 1.0 / (1.0 + np.exp(-z)))
    rank = w.ndim - 2
    ones = (1,) * rank
    inputs = [reference_conv(x[:, t], w, strides, dilation, padding) for t in range(x.shape[1])]
    h, c = h0, c0
    out_prev, outputs = np.zeros_like(h0), []
    for t in (reversed(range(x.shape[1])) if go_backwards else range(x.shape[1])):
        z = inputs[t] + reference_conv(h if rec_mask is None else h * rec_mask, u, ones, ones, "same") + b
        zi, zf, zc, zo = np.split(z, 4, axis=-1)
        c_new = rec(zf) * c + rec(zi) * activation(zc)
        h_new = rec(zo) * activation(c_new)
        keep = np.ones(len(x), bool) if mask is None else np.asarray(mask[:, t], bool)
        keep = keep.reshape((-1,) + (1,) * (h.ndim - 1))
        out_prev = np.where(keep, h_new, out_prev)
        h, c = np.where(keep, h_new, h), np.where(keep, c_new, c)
        outputs.append(out_prev)
    return np.stack(outputs, axis=1), h, c
