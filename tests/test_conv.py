"""Convolution special cases: workspace chunking, Winograd, threads, Keras 'same' examples, native errors.

NumPy parity, gradient checks and argument errors of conv / conv_transpose over many shapes are rows
of the op table (tests/op_rows_nn.py)."""

import numpy as np
import pytest
from op_refs import reference_conv

from kcore import ops
from kcore.backend.native import _C
from kcore.ops.conv import padding_amounts
from kcore.testing import gradcheck


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
