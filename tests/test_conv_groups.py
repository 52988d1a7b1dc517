"""Grouped, depthwise and separable convolution ops beyond tests/test_conv.py's CONFIGS (which hold
the grouped reference/gradcheck cases): depthwise and separable ops against NumPy references with
float64 gradient checks, channels_first, the native paths (direct depthwise kernels, several
workers, float32 with Winograd-sized shapes, zero batch) and the errors."""
import numpy as np
import pytest
from test_conv import reference_conv

from kcore import ops
from kcore.backend.native import _C
from kcore.testing import gradcheck


def reference_depthwise(x, w, strides, dilation, padding):
    """Output channel c * M + m is channel c convolved with w[..., c, m] (Keras/TF order)."""
    c_in, mult = w.shape[-2:]
    return np.concatenate([reference_conv(x[..., c:c + 1], w[..., c:c + 1, m:m + 1], strides, dilation, padding)
                           for c in range(c_in) for m in range(mult)], axis=-1)


def test_groups_one_is_unchanged_and_channels_first_matches():
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((2, 4, 5, 6)), rng.standard_normal((3, 2, 2, 4))  # channels_first, 2 groups
    y_first = ops.conv(x, w, 1, "same", data_format="channels_first").numpy()
    y_last = ops.conv(np.moveaxis(x, 1, -1), w, 1, "same").numpy()
    np.testing.assert_allclose(y_first, np.moveaxis(y_last, -1, 1), rtol=1e-12)
    assert gradcheck(lambda x, w: ops.conv(x, w, (2, 1), "same", data_format="channels_first"), [x, w])


@pytest.mark.parametrize("xs, ws, s, d, pad", [
    ((2, 7, 3), (3, 3, 2), (1,), (2,), "valid"),
    ((1, 10, 5), (4, 5, 1), (3,), (1,), "same"),
    ((1, 7, 8, 3), (3, 3, 3, 2), (2, 2), (1, 1), "same"),
    ((2, 6, 5, 4), (2, 2, 4, 1), (1, 1), (2, 2), "same"),
    ((2, 5, 4, 2), (3, 1, 2, 3), (1, 1), (1, 1), "valid"),
    ((1, 9, 8, 2), (3, 2, 2, 2), (2, 2), (2, 2), "same"),              # strides with dilation (Keras 3 allows)
    ((1, 4, 3, 5, 2), (2, 2, 3, 2, 2), (1, 1, 1), (1, 1, 1), "same"),  # 3-D: a kcore extension
])
def test_depthwise_matches_reference_and_gradients(xs, ws, s, d, pad):
    rng = np.random.default_rng(4)
    x, w, b = rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(ws[-2] * ws[-1])
    y = ops.depthwise_conv(x, w, s, pad, dilation_rate=d, bias=b).numpy()
    np.testing.assert_allclose(y, reference_depthwise(x, w, s, d, pad) + b, rtol=1e-10, atol=1e-10)
    assert gradcheck(lambda x, w, b: ops.depthwise_conv(x, w, s, pad, dilation_rate=d, bias=b), [x, w, b])


def test_separable_is_depthwise_then_pointwise_and_has_gradients():
    rng = np.random.default_rng(5)
    x, dw, pw = rng.standard_normal((2, 6, 7, 3)), rng.standard_normal((3, 2, 3, 2)), rng.standard_normal((1, 1, 6, 4))
    b = rng.standard_normal(4)
    y = ops.separable_conv(x, dw, pw, (2, 1), "same", bias=b).numpy()
    want = reference_depthwise(x, dw, (2, 1), (1, 1), "same") @ pw[0, 0] + b
    np.testing.assert_allclose(y, want, rtol=1e-10, atol=1e-10)
    assert gradcheck(lambda x, dw, pw, b: ops.separable_conv(x, dw, pw, 1, "valid", bias=b), [x, dw, pw, b])
    x1, dw1, pw1 = rng.standard_normal((1, 3, 9)), rng.standard_normal((2, 3, 2)), rng.standard_normal((1, 6, 2))
    y1 = ops.separable_conv(x1, dw1, pw1, data_format="channels_first", dilation_rate=2).numpy()
    want1 = reference_depthwise(np.moveaxis(x1, 1, -1), dw1, (1,), (2,), "valid") @ pw1[0]
    np.testing.assert_allclose(y1, np.moveaxis(want1, -1, 1), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("w_shape", [(3, 3, 2, 4), (3, 3, 1, 8)], ids=["im2col", "depthwise"])
def test_grouped_zero_batch(w_shape):
    w = np.random.default_rng(6).standard_normal(w_shape)
    xv, wv = _C.from_numpy(np.zeros((0, 5, 5, 4))), _C.from_numpy(w)
    groups = 4 // w_shape[-2]
    args = ([1, 1], [1, 1], [1, 1], [1, 1])
    f = w_shape[-1]
    assert tuple(_C.conv(xv, wv, None, *args, groups=groups).shape) == (0, 5, 5, f)
    gx, gw, gb = _C.conv_backward(xv, wv, _C.from_numpy(np.zeros((0, 5, 5, f))), *args, True, True, True,
                                  groups=groups)
    assert tuple(gx.shape) == (0, 5, 5, 4) and tuple(gw.shape) == w_shape
    assert not np.array(gw).any() and not np.array(gb).any()


def test_grouped_workspace_is_per_group():
    args = ([1, 1], [1, 1], [1, 1], [1, 1])
    one = _C.conv_workspace_bytes([1, 8, 8, 8], [3, 3, 8, 8], *args, 8)
    four = _C.conv_workspace_bytes([1, 8, 8, 8], [3, 3, 2, 8], *args, 8, groups=4)
    assert four * 4 == one  # one group's im2col at a time: K = 9 * 2 instead of 9 * 8
    assert _C.conv_workspace_bytes([1, 8, 8, 8], [1, 1, 2, 8], [1, 1], [1, 1], [0, 0], [0, 0], 8, groups=4) == 0
    assert list(_C.conv_output_shape([2, 8, 8, 8], [3, 3, 2, 12], *args, groups=4)) == [2, 8, 8, 12]
    with pytest.raises(ValueError, match="groups=4"):
        _C.conv_output_shape([2, 8, 8, 8], [3, 3, 2, 6], *args, groups=4)


def test_grouped_float32_on_winograd_sized_shapes():
    """3x3 stride-1 float32 shapes that take Winograd when ungrouped run grouped im2col correctly."""
    rng = np.random.default_rng(7)
    x32, w32 = rng.standard_normal((2, 8, 8, 32)).astype(np.float32), rng.standard_normal((3, 3, 16, 32))
    w32 = w32.astype(np.float32)
    y = ops.conv(x32, w32, 1, "same").numpy()
    want = reference_conv(x32.astype(np.float64), w32.astype(np.float64), (1, 1), (1, 1), "same")
    np.testing.assert_allclose(y, want, rtol=0, atol=1e-5 * np.abs(want).max())


def _dense_kernel(w, groups):
    """The ungrouped kernel (*k, C, F) equal to a grouped one: zero outside the diagonal blocks."""
    cg, f = w.shape[-2], w.shape[-1]
    fg = f // groups
    dense = np.zeros(w.shape[:-2] + (cg * groups, f), w.dtype)
    for i in range(groups):
        dense[..., i * cg:(i + 1) * cg, i * fg:(i + 1) * fg] = w[..., i * fg:(i + 1) * fg]
    return dense


@pytest.mark.parametrize("ws", [(3, 3, 1, 32), (3, 3, 1, 64), (3, 3, 2, 64)], ids=["depthwise", "depthwise-x2", "cg2"])
def test_direct_depthwise_and_grouped_match_the_dense_conv_on_two_workers(ws):
    """Big enough for two workers (> 2M multiply-adds direct, > 8M im2col): depthwise (direct kernels)
    and grouped (im2col) against the groups=1 path on the block-diagonal kernel; deterministic, and
    equal to one thread."""
    rng = np.random.default_rng(8)
    x, w = rng.standard_normal((8, 32, 32, 32)), rng.standard_normal(ws)
    groups = 32 // ws[-2]
    args = ([1, 1], [2, 2], [1, 1], [1, 1])
    y_shape = tuple(_C.conv_output_shape(list(x.shape), list(ws), *args, groups=groups))
    xv, wv, dy = _C.from_numpy(x), _C.from_numpy(w), _C.from_numpy(rng.standard_normal(y_shape))

    def run(kernel, g):
        return [np.array(_C.conv(xv, kernel, None, *args, groups=g))] + [
            np.array(t) for t in _C.conv_backward(xv, kernel, dy, *args, True, True, True, groups=g)]

    saved = _C.get_num_threads()
    try:
        _C.set_num_threads(2)
        workspace = _C.conv_workspace_bytes(list(x.shape), list(ws), *args, 8, groups=groups)
        first, again = run(wv, groups), run(wv, groups)
        dense = run(_C.from_numpy(_dense_kernel(w, groups)), 1)
        _C.set_num_threads(1)
        single = run(wv, groups)
    finally:
        _C.set_num_threads(saved)
    if ws[-2] == 1:  # the direct depthwise kernels need no im2col
        assert workspace == 0
    for a, b, c in zip(first, again, single):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_allclose(a, c, rtol=1e-12, atol=1e-10)
    np.testing.assert_allclose(first[0], dense[0], rtol=1e-12, atol=1e-10)
    np.testing.assert_allclose(first[1], dense[1], rtol=1e-12, atol=1e-10)
    cg, fg = ws[-2], ws[-1] // groups
    dense_dw = np.stack([dense[2][..., i * cg:(i + 1) * cg, i * fg:(i + 1) * fg] for i in range(groups)], -2)
    np.testing.assert_allclose(first[2], dense_dw.reshape(ws), rtol=1e-12, atol=1e-10)
    np.testing.assert_allclose(first[3], dense[3], rtol=1e-12, atol=1e-10)


@pytest.mark.parametrize("call, match", [
    (lambda: ops.conv(np.zeros((1, 5, 5, 6)), np.zeros((3, 3, 4, 4))),
     r"shape \(1, 5, 5, 6\) have 6 channels.*not a multiple.*\(3, 3, 4, 4\)"),
    (lambda: ops.conv(np.zeros((1, 5, 5, 6)), np.zeros((3, 3, 2, 4))), r"4 filters.*not divisible by groups=3"),
    (lambda: ops.depthwise_conv(np.zeros((1, 5, 5, 3)), np.zeros((3, 3, 4, 1))),
     r"depthwise_conv.*3 channels.*expects 4"),
    (lambda: ops.depthwise_conv(np.zeros((1, 5, 3)), np.zeros((3, 3, 1)), padding="causal"), "padding"),
    (lambda: ops.separable_conv(np.zeros((1, 5, 5, 3)), np.zeros((3, 3, 3, 2)), np.zeros((1, 1, 3, 4))),
     r"pointwise_kernel.*\(1, 1, 6, 'filters'\).*\(1, 1, 3, 4\)"),
    (lambda: ops.separable_conv(np.zeros((1, 5, 5, 3)), np.zeros((3, 3, 3, 1)), np.zeros((3, 3, 3, 4))),
     "pointwise_kernel"),
])
def test_errors_name_the_op_and_shapes(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_native_group_errors_are_value_errors():
    x, w = _C.from_numpy(np.zeros((1, 5, 5, 6))), _C.from_numpy(np.zeros((3, 3, 2, 4)))
    args = ([1, 1], [1, 1], [0, 0], [0, 0])
    for groups in (0, -1, 4, 3):  # 3 divides the channels but not the 4 filters
        with pytest.raises(ValueError, match=f"groups={groups}"):
            _C.conv(x, w, None, *args, groups=groups)
    with pytest.raises(ValueError, match=r"kernel of shape \(3, 3, 2, 4\) with groups=2 expects 4"):
        _C.conv(x, w, None, *args, groups=2)
    with pytest.raises(ValueError, match="groups=2"):
        _C.conv_backward(x, w, _C.from_numpy(np.zeros((1, 3, 3, 4))), *args, True, True, False, groups=2)
