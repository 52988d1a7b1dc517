"""Grouped, depthwise and separable convolution: the native paths (direct depthwise kernels, several
workers, float32 with Winograd-sized shapes, zero batch, per-group workspace) and native errors.

NumPy parity, gradient checks and argument errors of conv / depthwise_conv / separable_conv
(grouped, channels_first, dilated, 1-D to 3-D) are op table rows (tests/op_rows_nn.py)."""
import numpy as np
import pytest
from op_refs import reference_conv

from kcore import ops
from kcore.backend.native import _C


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
