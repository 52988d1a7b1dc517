"""The native bfloat16 paths of matmul/linear, convolution and the recurrent kernels (bfloat16 GEMM,
float32 accumulation) against the float32 kernels on the same bfloat16-rounded operands, forward and
backward, on both GEMM paths (vdpbf16ps where the CPU has it, the float32 emulation everywhere)."""
import numpy as np
import pytest

from kcore import ops
from kcore.backend.native import _C
from kcore.backend.tensor import Tensor

PATHS = ["fallback"] + (["avx512_bf16"] if _C.cpu_features()["avx512_bf16"] else [])


@pytest.fixture(params=PATHS)
def path(request):
    _C._set_bf16_path(request.param)
    yield request.param
    _C._set_bf16_path("auto")


def pair(a):
    """(bfloat16 native tensor, float32 native tensor of the same rounded values)."""
    h = ops.cast(ops.convert_to_tensor(np.asarray(a, np.float32)), "bfloat16").value
    return h, h.astype("float32")


def f32(t):
    return None if t is None else Tensor(t.astype("float32")).numpy()


def close(got, want, rtol=1e-2):
    """bfloat16 results: within rtol of the largest magnitude of the float32 result."""
    got, want = f32(got), f32(want)
    assert got.shape == want.shape
    scale = max(np.abs(want).max(), 1e-6) if want.size else 1.0
    np.testing.assert_allclose(got, want, rtol=0, atol=rtol * scale)


def is_bf16(t):
    return str(t.dtype) == "bfloat16"


@pytest.mark.parametrize("m,k,n", [(1, 1, 1), (37, 70, 45), (64, 33, 96), (5, 0, 3), (0, 4, 3)])
def test_matmul_and_linear(path, m, k, n):
    rng = np.random.default_rng(m + k + n)
    (a, a32), (b, b32), (c, c32) = pair(rng.standard_normal((m, k))), pair(rng.standard_normal((k, n))), \
        pair(rng.standard_normal(n))
    out = _C.matmul(a, b)
    assert is_bf16(out)
    close(out, _C.matmul(a32, b32))
    close(_C.matmul(_C.transpose(b, [1, 0]), _C.transpose(a, [1, 0])), _C.matmul(_C.transpose(b32, [1, 0]),
                                                                             _C.transpose(a32, [1, 0])))
    close(_C.linear(a, b, c), _C.linear(a32, b32, c32))
    (g, g32) = pair(rng.standard_normal((m, n)))
    gx, gw, _ = _C.linear_backward(a, b, g, True, False)
    rx, rw, _ = _C.linear_backward(a32, b32, g32, True, False)
    close(gx, rx)
    close(gw, rw)
    assert is_bf16(gx) and is_bf16(gw)


def test_batched_matmul(path):
    rng = np.random.default_rng(1)
    (a, a32), (b, b32) = pair(rng.standard_normal((3, 2, 17, 30))), pair(rng.standard_normal((2, 30, 11)))
    close(_C.matmul(a, b), _C.matmul(a32, b32))


CONVS = [  # x shape, kernel shape, strides, dilation, pad_before, pad_after
    ((2, 9, 10, 5), (3, 3, 5, 7), [1, 1], [1, 1], [0, 0], [0, 0]),
    ((3, 11, 8, 4), (3, 2, 4, 6), [2, 1], [1, 2], [1, 0], [1, 1]),
    ((2, 7, 7, 6), (1, 1, 6, 5), [1, 1], [1, 1], [0, 0], [0, 0]),  # pointwise: one GEMM on the inputs
    ((4, 20, 8), (5, 8, 8), [1], [1], [2], [2]),                      # Conv1D, 'same'
    ((1, 3, 4, 5, 3), (2, 2, 2, 3, 4), [1, 1, 1], [1, 1, 1], [0, 1, 0], [1, 0, 0]),  # Conv3D, odd K
    ((2, 10, 9, 16), (3, 3, 16, 24), [1, 1], [1, 1], [1, 1], [1, 1]),  # float32 Winograd takes it
]


@pytest.mark.parametrize("xs,ws,strides,dilation,before,after", CONVS)
def test_conv_forward_and_backward(path, xs, ws, strides, dilation, before, after):
    rng = np.random.default_rng(len(xs) + ws[-1])
    (x, x32), (w, w32), (b, b32) = pair(rng.standard_normal(xs)), pair(rng.standard_normal(ws)), \
        pair(rng.standard_normal(ws[-1]))
    y = _C.conv(x, w, b, strides, dilation, before, after)
    assert is_bf16(y)
    y32 = _C.conv(x32, w32, b32, strides, dilation, before, after)
    close(y, y32)
    g, g32 = pair(rng.standard_normal(tuple(y32.shape)))
    got = _C.conv_backward(x, w, g, strides, dilation, before, after, True, True, True)
    want = _C.conv_backward(x32, w32, g32, strides, dilation, before, after, True, True, True)
    for gt, wt in zip(got, want):
        assert is_bf16(gt)
        close(gt, wt)
    gx_only = _C.conv_backward(x, w, g, strides, dilation, before, after, True, False, False)
    assert gx_only[1] is None and gx_only[2] is None
    close(gx_only[0], want[0])


def test_winograd_shapes_take_the_bf16_gemm_when_winograd_is_off(path):
    rng = np.random.default_rng(4)
    (x, x32), (w, w32) = pair(rng.standard_normal((2, 10, 9, 16))), pair(rng.standard_normal((3, 3, 16, 24)))
    args = ([1, 1], [1, 1], [1, 1], [1, 1])
    want = _C.conv(x32, w32, None, *args)
    _C.conv_set_winograd(False)
    try:
        close(_C.conv(x, w, None, *args), want)
    finally:
        _C.conv_set_winograd(True)


def test_grouped_conv_computes_in_float32(path):
    rng = np.random.default_rng(2)
    (x, x32), (w, w32) = pair(rng.standard_normal((2, 6, 6, 4))), pair(rng.standard_normal((3, 3, 2, 6)))
    args = ([1, 1], [1, 1], [1, 1], [1, 1], 2)
    close(_C.conv(x, w, None, *args), _C.conv(x32, w32, None, *args))
    g, g32 = pair(rng.standard_normal((2, 6, 6, 6)))
    for gt, wt in zip(_C.conv_backward(x, w, g, *args[:4], True, True, False, 2),
                      _C.conv_backward(x32, w32, g32, *args[:4], True, True, False, 2)):
        if wt is not None:
            close(gt, wt)


RNNS = [("simple", True, 1), ("lstm", True, 4), ("gru", True, 3), ("gru", False, 3)]


def _rnn(cell, reset_after, x, w, r, b, h0, c0, mask=None, go_backwards=False):
    act, rec = _C.RnnActivation.tanh, _C.RnnActivation.sigmoid
    return _C.rnn_forward(getattr(_C.RnnCell, cell), reset_after, act, rec, go_backwards, x, w, r, b, h0, c0, mask)


@pytest.mark.parametrize("cell,reset_after,gates", RNNS)
@pytest.mark.parametrize("units,variant", [(40, "plain"), (70, "masked_backwards"), (33, "plain")])
def test_recurrent_kernels(path, cell, reset_after, gates, units, variant):
    rng = np.random.default_rng(units + gates)
    bsz, t, d = 5, 9, 7 if units % 2 else 8  # odd K: the GEMM packs a copy of x_t; even: it reads x_t in place
    # a contracting recurrence (spectral radius ~0.5): h_{t-1} rounded to bfloat16 each step stays close
    x, w, r = (pair(rng.standard_normal(s) * sc) for s, sc in
               [((bsz, t, d), 1.0), ((d, gates * units), 0.3), ((units, gates * units), 0.5 / np.sqrt(units))])
    b = pair(rng.standard_normal((2, gates * units) if cell == "gru" and reset_after else gates * units) * 0.1)
    h0 = pair(rng.standard_normal((bsz, units)) * 0.5)
    c0 = pair(rng.standard_normal((bsz, units)) * 0.5) if cell == "lstm" else (None, None)
    mask, back = None, False
    if variant == "masked_backwards":
        mask = ops.convert_to_tensor(rng.random((bsz, t)) > 0.3).value
        back = True
    got = _rnn(cell, reset_after, *(p[0] for p in (x, w, r, b, h0, c0)), mask, back)
    want = _rnn(cell, reset_after, *(p[1] for p in (x, w, r, b, h0, c0)), mask, back)
    for gt, wt in zip(got[:3], want[:3]):
        if wt is not None:
            assert is_bf16(gt)
            close(gt, wt)
    gout = pair(rng.standard_normal((bsz, t, units)))
    gh = pair(rng.standard_normal((bsz, units)))
    gc = pair(rng.standard_normal((bsz, units))) if cell == "lstm" else (None, None)
    grads = _C.rnn_backward(got[3], w[0], r[0], gout[0], gh[0], gc[0], True)
    ref = _C.rnn_backward(want[3], w[1], r[1], gout[1], gh[1], gc[1], True)
    for gt, wt in zip(grads, ref):
        assert (gt is None) == (wt is None)
        if wt is not None:
            assert is_bf16(gt)
            close(gt, wt, rtol=2e-2)


def test_recurrent_gemm_reads_the_state_rounded_to_bfloat16(path):
    # h_t = h_{t-1} * 1 + 2^-8 from h_0 = 1: h_1 = 1 + 2^-8 (kept in float32, output rounds to 1.0, the even
    # neighbour); the next step's GEMM reads h_1 rounded to bfloat16 as the layer's bfloat16 output is, so
    # h_2 = 1 + 2^-8 -> 1.0 again, where float32 GEMMs on the float32 state would reach 1 + 2^-7.
    x, w, r = pair(np.zeros((1, 2, 1))), pair(np.zeros((1, 1))), pair(np.ones((1, 1)))
    b, h0 = pair(np.full(1, 2.0**-8)), pair(np.ones((1, 1)))
    lin = _C.RnnActivation.linear
    args = (_C.RnnCell.simple, True, lin, lin, False)
    out = _C.rnn_forward(*args, x[0], w[0], r[0], b[0], h0[0], None, None)[0]
    np.testing.assert_array_equal(f32(out), [[[1.0], [1.0]]])
    out32 = _C.rnn_forward(*args, x[1], w[1], r[1], b[1], h0[1], None, None)[0]
    np.testing.assert_array_equal(f32(out32), [[[1 + 2.0**-8], [1 + 2.0**-7]]])
