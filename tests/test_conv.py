"""Convolution: NumPy-reference parity, float64 gradient checks, Keras 'same' examples, errors."""
import itertools

import numpy as np
import pytest

from kcore import ops
from kcore.backend.native import _C
from kcore.ops.conv import padding_amounts
from kcore.testing import gradcheck


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


# (input shape, kernel shape, strides, dilation, padding)
CONFIGS = [
    ((2, 7, 3), (3, 3, 2), (1,), (1,), "valid"),                  # 1-D odd size
    ((2, 9, 2), (3, 2, 3), (2,), (1,), "same"),                   # 1-D stride 2
    ((1, 10, 2), (3, 2, 2), (1,), (2,), "causal"),                # causal, dilation, batch 1
    ((2, 8, 2), (2, 2, 2), (3,), (1,), "valid"),                  # stride > kernel
    ((2, 5, 4, 3), (3, 3, 3, 2), (1, 1), (1, 1), "same"),          # 2-D odd sizes
    ((2, 6, 5, 2), (2, 2, 2, 3), (1, 1), (1, 1), "same"),          # even kernel, same
    ((1, 7, 6, 2), (3, 2, 2, 2), (2, 2), (1, 1), "same"),          # stride 2, batch 1
    ((2, 7, 7, 2), (3, 3, 2, 2), (1, 1), (2, 2), "same"),          # dilation 2
    ((2, 8, 7, 2), (2, 2, 2, 2), (3, 3), (1, 1), "valid"),         # stride > kernel
    ((2, 4, 3, 3), (1, 1, 3, 2), (1, 1), (1, 1), "valid"),         # 1x1: plain GEMM
    ((2, 5, 5, 2), (1, 1, 2, 2), (2, 2), (1, 1), "valid"),         # 1x1 strided
    ((1, 4, 5, 3, 2), (2, 3, 2, 2, 2), (1, 2, 1), (1, 1, 1), "same"),  # 3-D
    ((2, 5, 4, 4, 1), (3, 2, 2, 1, 2), (1, 1, 1), (1, 1, 1), "valid"),
    # grouped: groups = input channels // kernel input channels
    ((2, 9, 4), (3, 2, 4), (1,), (1,), "valid"),                     # 1-D, 2 groups
    ((1, 10, 8), (3, 2, 4), (1,), (2,), "causal"),                   # 1-D causal dilated, 4 groups, batch 1
    ((2, 11, 6), (4, 2, 6), (2,), (1,), "same"),                     # 1-D even kernel 'same' strided, 3 groups
    ((2, 6, 5, 4), (3, 3, 2, 6), (1, 1), (1, 1), "same"),             # 2-D, 2 groups
    ((1, 7, 8, 8), (2, 2, 2, 8), (2, 2), (1, 1), "same"),             # even kernel, stride 2, 4 groups, batch 1
    ((2, 9, 6, 8), (3, 2, 2, 4), (1, 1), (2, 1), "valid"),            # dilation, 4 groups, 1 filter per group
    ((2, 4, 3, 6), (1, 1, 3, 4), (1, 1), (1, 1), "valid"),            # 1x1 grouped: GEMM on the strided input
    ((2, 5, 5, 4), (1, 1, 1, 8), (2, 2), (1, 1), "valid"),            # 1x1 strided depthwise (direct kernels)
    ((2, 6, 5, 3), (3, 2, 1, 6), (1, 2), (1, 1), "same"),             # depthwise x2 (direct kernels)
    ((1, 5, 4, 3, 4), (2, 3, 2, 2, 4), (1, 2, 1), (1, 1, 1), "same"),  # 3-D, 2 groups
    ((2, 4, 4, 4, 6), (2, 2, 2, 3, 2), (1, 1, 1), (1, 1, 1), "valid"),  # 3-D, 2 groups
]


def _ids(cfg):
    return f"{cfg[0]}-k{cfg[1][:-2]}-s{cfg[2]}-d{cfg[3]}-{cfg[4]}"


@pytest.mark.parametrize("cfg", CONFIGS, ids=_ids)
def test_forward_matches_reference(cfg):
    xs, ws, s, d, pad = cfg
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal(xs), rng.standard_normal(ws)
    y = ops.conv(x, w, s, pad, dilation_rate=d).numpy()
    np.testing.assert_allclose(y, reference_conv(x, w, s, d, pad), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("cfg", CONFIGS, ids=_ids)
def test_gradients(cfg):
    xs, ws, s, d, pad = cfg
    rng = np.random.default_rng(2)
    x, w, b = rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(ws[-1])
    assert gradcheck(lambda x, w, b: ops.conv(x, w, s, pad, dilation_rate=d, bias=b), [x, w, b])


def test_channels_first_matches_channels_last_and_has_gradients():
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((2, 2, 5, 4)), rng.standard_normal((3, 2, 2, 3))
    y_first = ops.conv(x, w, 1, "same", data_format="channels_first").numpy()
    y_last = ops.conv(np.moveaxis(x, 1, -1), w, 1, "same").numpy()
    np.testing.assert_allclose(y_first, np.moveaxis(y_last, -1, 1), rtol=1e-12)
    b = rng.standard_normal(3)
    y_bias = ops.conv(x, w, 1, "same", data_format="channels_first", bias=b).numpy()
    np.testing.assert_allclose(y_bias, y_first + b[None, :, None, None], rtol=1e-12)
    assert gradcheck(lambda x, w, b: ops.conv(x, w, (2, 1), "same", data_format="channels_first", bias=b), [x, w, b])


@pytest.mark.parametrize("x_shape, w_shape", [((3, 6, 5, 2), (3, 3, 2, 2)), ((3, 6, 5, 4), (3, 3, 2, 4))],
                         ids=["dense", "2-groups"])
def test_small_workspace_gives_same_results_and_gradients(x_shape, w_shape):
    """Chunking the im2col buffer down to a few rows must not change anything."""
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    full = ops.conv(x, w, 1, "same").numpy()
    saved = _C.conv_workspace_limit()
    try:
        _C.conv_set_workspace_limit(64)
        np.testing.assert_allclose(ops.conv(x, w, 1, "same").numpy(), full, rtol=1e-12)
        assert gradcheck(lambda x, w: ops.conv(x, w, 1, "same"), [x, w])
    finally:
        _C.conv_set_workspace_limit(saved)


def test_float32_against_reference():
    rng = np.random.default_rng(5)
    x, w = rng.standard_normal((4, 9, 9, 5)).astype(np.float32), rng.standard_normal((3, 3, 5, 7)).astype(np.float32)
    y = ops.conv(x, w, 1, "same")
    assert y.dtype == "float32"
    np.testing.assert_allclose(y.numpy(), reference_conv(x.astype(np.float64), w.astype(np.float64), (1, 1), (1, 1),
                                                         "same"), rtol=1e-4, atol=1e-4)


def test_keras_same_padding_examples():
    """KERAS_SPEC section 2: the extra 'same' cell goes after (bottom/right)."""
    x = np.arange(1, 26, dtype=np.float64).reshape(1, 5, 5, 1)
    y = ops.conv(x, np.ones((2, 2, 1, 1)), 1, "same").numpy()
    assert y.shape == (1, 5, 5, 1) and y[0, 0, 0, 0] == 16.0
    x = np.arange(1, 37, dtype=np.float64).reshape(1, 6, 6, 1)
    y = ops.conv(x, np.ones((3, 3, 1, 1)), 2, "same").numpy()
    np.testing.assert_array_equal(y[0, :, :, 0], [[72, 90, 69], [180, 198, 141], [174, 186, 130]])


def test_padding_rule_and_workspace_bound():
    assert padding_amounts("same", [6], [3], [2], [1]) == ([0], [1])
    assert padding_amounts("same", [5], [4], [1], [1]) == ([1], [2])
    assert padding_amounts("causal", [8], [3], [1], [2]) == ([4], [0])
    # case (b)'s workspace stays far below 4x the input (never batch x full im2col expansion):
    # float32 takes Winograd (transform buffers), float64 im2col (per-worker budget)
    shape, kernel = [8, 56, 56, 64], [3, 3, 64, 64]
    args = ([1, 1], [1, 1], [1, 1], [1, 1])
    input_bytes = int(np.prod(shape)) * 4
    assert 0 < _C.conv_workspace_bytes(shape, kernel, *args, 4) < input_bytes / 2
    assert 0 < _C.conv_workspace_bytes(shape, kernel, *args, 8) <= _C.conv_workspace_limit() * _C.get_num_threads()
    assert _C.conv_workspace_bytes([2, 8, 8, 3], [1, 1, 3, 4], [1, 1], [1, 1], [0, 0], [0, 0], 4) == 0


def test_zero_batch():
    y = ops.conv(np.zeros((0, 5, 3)), np.ones((3, 3, 2)), 1, "same")
    assert tuple(y.shape) == (0, 5, 2)


@pytest.mark.parametrize("kwargs, x_shape, w_shape, match", [
    ({}, (5, 5, 3), (3, 3, 3, 4), "expects inputs of rank 4"),
    ({}, (1, 5, 5, 2), (3, 3, 3, 4), "2 channels"),
    ({"strides": 2, "dilation_rate": 2}, (1, 9, 9, 3), (3, 3, 3, 4), "dilation_rate"),
    ({"strides": 0}, (1, 5, 5, 3), (3, 3, 3, 4), "strides"),
    ({"padding": "full"}, (1, 5, 5, 3), (3, 3, 3, 4), "padding"),
    ({"padding": "causal"}, (1, 5, 5, 3), (3, 3, 3, 4), "padding"),
    ({}, (1, 2, 2, 3), (3, 3, 3, 4), "smaller than the dilated kernel"),
    ({}, (1, 5, 5, 3), (0, 3, 3, 4), "positive"),
    ({}, (1, 5, 5, 3), (3, 3, 4), "expects inputs of rank 3"),
    ({"strides": (1, 1, 1)}, (1, 5, 5, 3), (3, 3, 3, 4), "tuple of 2"),
])
def test_errors(kwargs, x_shape, w_shape, match):
    with pytest.raises(ValueError, match=match):
        ops.conv(np.zeros(x_shape, np.float32), np.zeros(w_shape, np.float32), **kwargs)


def test_native_errors_are_value_errors():
    x, w = _C.from_numpy(np.zeros((1, 5, 5, 3), np.float32)), _C.from_numpy(np.zeros((3, 3, 3, 4), np.float32))
    with pytest.raises(ValueError, match="strides"):
        _C.conv(x, w, None, [1], [1, 1], [0, 0], [0, 0])
    with pytest.raises(ValueError, match="gradient of shape"):
        _C.conv_backward(x, w, x, [1, 1], [1, 1], [0, 0], [0, 0], True, True, False)
    with pytest.raises(ValueError, match="at least one channel"):
        _C.conv(_C.from_numpy(np.zeros((1, 5, 5, 0), np.float32)), _C.from_numpy(np.zeros((3, 3, 0, 4), np.float32)),
                None, [1, 1], [1, 1], [0, 0], [0, 0])
    with pytest.raises(TypeError, match="dtype"):
        _C.conv(x, _C.from_numpy(np.zeros((3, 3, 3, 4))), None, [1, 1], [1, 1], [0, 0], [0, 0])
    with pytest.raises(ValueError, match="bias"):
        _C.conv(x, w, _C.from_numpy(np.zeros(3, np.float32)), [1, 1], [1, 1], [0, 0], [0, 0])


def test_multi_worker_paths_are_deterministic_and_match_one_thread():
    """Big enough (> 8M multiply-adds) for two workers: per-worker kernel/bias partials, image-owned col2im."""
    rng = np.random.default_rng(6)
    x, w = rng.standard_normal((8, 16, 16, 16)), rng.standard_normal((3, 3, 16, 32))
    xv, wv = _C.from_numpy(x), _C.from_numpy(w)
    dy = _C.from_numpy(rng.standard_normal((8, 16, 16, 32)))
    args = ([1, 1], [1, 1], [1, 1], [1, 1])

    def run():
        return [np.array(_C.conv(xv, wv, None, *args))] + [
            np.array(g) for g in _C.conv_backward(xv, wv, dy, *args, True, True, True)]

    saved = _C.get_num_threads()
    try:
        _C.set_num_threads(2)
        two = _C.conv_workspace_bytes(list(x.shape), list(w.shape), *args, 8)
        first, again = run(), run()
        _C.set_num_threads(1)
        assert two == 2 * _C.conv_workspace_bytes(list(x.shape), list(w.shape), *args, 8)  # two workers ran
        single = run()
    finally:
        _C.set_num_threads(saved)
    for a, b, c in zip(first, again, single):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_allclose(a, c, rtol=1e-12, atol=1e-10)
    np.testing.assert_allclose(first[0], reference_conv(x, w, (1, 1), (1, 1), "same"), rtol=1e-12, atol=1e-10)
    np.testing.assert_allclose(first[3], np.array(dy).sum(axis=(0, 1, 2)), rtol=1e-12)


def test_concurrent_calls_from_python_threads():
    """The GIL is released during convs: concurrent calls must give the same numbers."""
    import threading

    rng = np.random.default_rng(7)
    x = _C.from_numpy(rng.standard_normal((8, 16, 16, 16)).astype(np.float32))
    w = _C.from_numpy(rng.standard_normal((3, 3, 16, 32)).astype(np.float32))
    args = ([1, 1], [1, 1], [1, 1], [1, 1])
    want = np.array(_C.conv(x, w, None, *args))
    results = []

    def work():
        for _ in range(5):
            results.append(np.array_equal(np.array(_C.conv(x, w, None, *args)), want))

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(results) == 15 and all(results)


@pytest.mark.parametrize("xs, ws, padding", [
    ((2, 7, 9, 16), (3, 3, 16, 16), "same"),
    ((3, 8, 6, 32), (3, 3, 32, 20), "valid"),
    ((1, 5, 5, 17), (3, 3, 17, 33), "same"),
    ((2, 1, 2, 16), (3, 3, 16, 18), "same"),
    ((8, 32, 31, 32), (3, 3, 32, 32), "same"),   # > 8M multiply-adds: two workers
])
def test_winograd_matches_reference_forward_and_input_gradient(xs, ws, padding):
    """float32 3x3 stride-1 convs with >= 16 channels and filters take the Winograd F(2x2, 3x3) path."""
    rng = np.random.default_rng(8)
    x, w, b = (rng.standard_normal(s).astype(np.float32) for s in (xs, ws, ws[-1:]))
    pad = [1, 1] if padding == "same" else [0, 0]
    args = ([1, 1], [1, 1], pad, pad)
    xv, wv, bv = _C.from_numpy(x), _C.from_numpy(w), _C.from_numpy(b)
    y_ref = reference_conv(x.astype(np.float64), w.astype(np.float64), (1, 1), (1, 1), padding) + b
    dy = rng.standard_normal(y_ref.shape).astype(np.float32)
    assert _C.conv_winograd()
    y = np.array(_C.conv(xv, wv, bv, *args))
    dx, dw, db = (np.array(g) for g in _C.conv_backward(xv, wv, _C.from_numpy(dy), *args, True, True, True))
    try:
        _C.conv_set_winograd(False)
        dx_im2col = np.array(_C.conv_backward(xv, wv, _C.from_numpy(dy), *args, True, False, False)[0])
    finally:
        _C.conv_set_winograd(True)
    scale = np.abs(y_ref).max()
    np.testing.assert_allclose(y, y_ref, rtol=0, atol=1e-5 * scale)
    np.testing.assert_allclose(dx, dx_im2col, rtol=0, atol=1e-5 * np.abs(dx_im2col).max())
    np.testing.assert_allclose(db, dy.sum(axis=(0, 1, 2)), rtol=1e-5, atol=1e-4)


# -- transposed convolution -----------------------------------------------------------


def reference_conv_transpose(x, w, strides, padding, output_padding=None):
    """Scatter form: every input cell adds kernel * value at stride offsets, then the padding is cropped."""
    from kcore.ops.conv import _transpose_padding, conv_transpose_length

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


TRANSPOSE_CONFIGS = [
    ((2, 4, 3), (3, 5, 3), (2,), "valid", None),
    ((1, 5, 2), (4, 3, 2), (3,), "same", (1,)),
    ((2, 4, 3, 3), (3, 3, 5, 3), (2, 2), "same", None),
    ((2, 3, 4, 2), (3, 2, 4, 2), (2, 1), "valid", None),
    ((1, 3, 3, 2), (2, 2, 3, 2), (3, 3), "same", (2, 1)),   # stride > kernel, output_padding
    ((2, 2, 3, 2, 2), (2, 2, 2, 3, 2), (2, 1, 2), "valid", None),
]


@pytest.mark.parametrize("cfg", TRANSPOSE_CONFIGS, ids=lambda c: f"{c[0]}-k{c[1][:-2]}-s{c[2]}-{c[3]}-op{c[4]}")
def test_conv_transpose_matches_reference_and_gradients(cfg):
    xs, ws, s, pad, op = cfg
    rng = np.random.default_rng(9)
    x, w, b = rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(ws[-2])
    y = ops.conv_transpose(x, w, s, pad, op, bias=b).numpy()
    np.testing.assert_allclose(y, reference_conv_transpose(x, w, s, pad, op) + b, rtol=1e-10, atol=1e-10)
    assert gradcheck(lambda x, w, b: ops.conv_transpose(x, w, s, pad, op, bias=b), [x, w, b])


def test_conv_transpose_is_the_input_gradient_of_conv():
    rng = np.random.default_rng(10)
    x, w = rng.standard_normal((2, 7, 6, 3)), rng.standard_normal((3, 3, 3, 4))
    y = ops.conv(x, w, 2, "same")
    g = rng.standard_normal(tuple(y.shape))
    before, after = padding_amounts("same", x.shape[1:-1], w.shape[:2], (2, 2), (1, 1))
    dx = _C.conv_backward(_C.from_numpy(x), _C.from_numpy(w), _C.from_numpy(g), [2, 2], [1, 1], before, after,
                          True, False, False)[0]
    yt = ops.conv_transpose(g, w, 2, "same", output_padding=(0, 1))  # sizes 7 = 3*2 + 3 - 2, 6 = 2*2 + 3 - 2 + 1
    np.testing.assert_allclose(yt.numpy(), np.array(dx), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kwargs, x_shape, w_shape, match", [
    ({}, (5, 5, 3), (3, 3, 4, 3), "expects inputs of rank 4"),
    ({}, (1, 5, 5, 2), (3, 3, 4, 3), "2 channels"),
    ({"output_padding": 2}, (1, 5, 5, 3), (3, 3, 4, 3), "smaller than strides"),
    ({"padding": "causal"}, (1, 5, 3), (3, 4, 3), "padding"),
])
def test_conv_transpose_errors(kwargs, x_shape, w_shape, match):
    with pytest.raises(ValueError, match=match):
        ops.conv_transpose(np.zeros(x_shape, np.float32), np.zeros(w_shape, np.float32), kwargs.pop("strides", 2),
                           **kwargs)
