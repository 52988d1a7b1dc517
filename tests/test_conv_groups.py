"""Grouped, depthwise and separable convolution ops: NumPy-reference parity, float64 gradient
checks of every input, the native paths (pointwise GEMM, chunked workspace, several workers,
float32 with Winograd-sized shapes) and the errors."""
import numpy as np
import pytest
from test_conv import reference_conv

from kcore import ops
from kcore.backend.native import _C
from kcore.testing import gradcheck


def reference_grouped(x, w, strides, dilation, padding, groups):
    """A grouped conv as `groups` independent ungrouped reference convs on channel/filter blocks."""
    cg, fg = x.shape[-1] // groups, w.shape[-1] // groups
    return np.concatenate([reference_conv(x[..., i * cg:(i + 1) * cg], w[..., i * fg:(i + 1) * fg], strides,
                                          dilation, padding) for i in range(groups)], axis=-1)


def reference_depthwise(x, w, strides, dilation, padding):
    """Output channel c * M + m is channel c convolved with w[..., c, m] (Keras/TF order)."""
    c_in, mult = w.shape[-2:]
    return np.concatenate([reference_conv(x[..., c:c + 1], w[..., c:c + 1, m:m + 1], strides, dilation, padding)
                           for c in range(c_in) for m in range(mult)], axis=-1)


# (input shape, kernel shape (*k, in/groups, filters), strides, dilation, padding); groups = in // kernel in
GROUPED = [
    ((2, 9, 4), (3, 2, 4), (1,), (1,), "valid"),                     # 1-D, 2 groups
    ((1, 10, 8), (3, 2, 4), (1,), (2,), "causal"),                   # 1-D causal dilated, 4 groups, batch 1
    ((2, 11, 6), (4, 2, 6), (2,), (1,), "same"),                     # 1-D even kernel 'same' strided, 3 groups
    ((2, 6, 5, 4), (3, 3, 2, 6), (1, 1), (1, 1), "same"),             # 2-D, 2 groups
    ((1, 7, 8, 8), (2, 2, 2, 8), (2, 2), (1, 1), "same"),             # even kernel, stride 2, 4 groups, batch 1
    ((2, 9, 6, 8), (3, 2, 2, 4), (1, 1), (2, 1), "valid"),            # dilation, 4 groups, 1 filter per group
    ((2, 4, 3, 6), (1, 1, 3, 4), (1, 1), (1, 1), "valid"),            # 1x1 grouped: GEMM on the strided input
    ((2, 5, 5, 4), (1, 1, 1, 8), (2, 2), (1, 1), "valid"),            # 1x1 strided, depthwise-like
    ((1, 5, 4, 3, 4), (2, 3, 2, 2, 4), (1, 2, 1), (1, 1, 1), "same"),  # 3-D, 2 groups
    ((2, 4, 4, 4, 6), (2, 2, 2, 3, 2), (1, 1, 1), (1, 1, 1), "valid"),  # 3-D, 2 groups
]


def _ids(cfg):
    return f"{cfg[0]}-k{cfg[1]}-s{cfg[2]}-d{cfg[3]}-{cfg[4]}"


@pytest.mark.parametrize("cfg", GROUPED, ids=_ids)
def test_grouped_forward_matches_reference(cfg):
    xs, ws, s, d, pad = cfg
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal(xs), rng.standard_normal(ws)
    y = ops.conv(x, w, s, pad, dilation_rate=d).numpy()
    np.testing.assert_allclose(y, reference_grouped(x, w, s, d, pad, xs[-1] // ws[-2]), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("cfg", GROUPED, ids=_ids)
def test_grouped_gradients(cfg):
    xs, ws, s, d, pad = cfg
    rng = np.random.default_rng(2)
    x, w, b = rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(ws[-1])
    assert gradcheck(lambda x, w, b: ops.conv(x, w, s, pad, dilation_rate=d, bias=b), [x, w, b])


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


def test_grouped_small_workspace_and_zero_batch():
    rng = np.random.default_rng(6)
    x, w = rng.standard_normal((3, 6, 5, 4)), rng.standard_normal((3, 3, 2, 4))
    full = ops.conv(x, w, 1, "same").numpy()
    saved = _C.conv_workspace_limit()
    try:
        _C.conv_set_workspace_limit(64)
        np.testing.assert_allclose(ops.conv(x, w, 1, "same").numpy(), full, rtol=1e-12)
        assert gradcheck(lambda x, w: ops.conv(x, w, 1, "same"), [x, w])
    finally:
        _C.conv_set_workspace_limit(saved)
    xv, wv = _C.from_numpy(np.zeros((0, 5, 5, 4))), _C.from_numpy(w)
    args = ([1, 1], [1, 1], [1, 1], [1, 1])
    assert tuple(_C.conv(xv, wv, None, *args, groups=2).shape) == (0, 5, 5, 4)
    gx, gw, gb = _C.conv_backward(xv, wv, _C.from_numpy(np.zeros((0, 5, 5, 4))), *args, True, True, True, groups=2)
    assert tuple(gx.shape) == (0, 5, 5, 4) and not np.array(gw).any() and not np.array(gb).any()


def test_grouped_workspace_is_per_group():
    args = ([1, 1], [1, 1], [1, 1], [1, 1])
    one = _C.conv_workspace_bytes([1, 8, 8, 8], [3, 3, 8, 8], *args, 8)
    four = _C.conv_workspace_bytes([1, 8, 8, 8], [3, 3, 2, 8], *args, 8, groups=4)
    assert four * 4 == one  # one group's im2col at a time: K = 9 * 2 instead of 9 * 8
    assert _C.conv_workspace_bytes([1, 8, 8, 8], [1, 1, 2, 8], [1, 1], [1, 1], [0, 0], [0, 0], 8, groups=4) == 0
    assert list(_C.conv_output_shape([2, 8, 8, 8], [3, 3, 2, 12], *args, groups=4)) == [2, 8, 8, 12]
    with pytest.raises(ValueError, match="groups=4"):
        _C.conv_output_shape([2, 8, 8, 8], [3, 3, 2, 6], *args, groups=4)


def test_grouped_multi_worker_is_deterministic_and_float32_winograd_shapes():
    """Two workers (> 8M multiply-adds), and float32 3x3 shapes that would take Winograd if ungrouped."""
    rng = np.random.default_rng(7)
    x, w = rng.standard_normal((8, 16, 16, 32)), rng.standard_normal((3, 3, 8, 64))
    xv, wv = _C.from_numpy(x), _C.from_numpy(w)
    dy = _C.from_numpy(rng.standard_normal((8, 16, 16, 64)))
    args = ([1, 1], [1, 1], [1, 1], [1, 1])

    def run():
        return [np.array(_C.conv(xv, wv, None, *args, groups=4))] + [
            np.array(g) for g in _C.conv_backward(xv, wv, dy, *args, True, True, True, groups=4)]

    saved = _C.get_num_threads()
    try:
        _C.set_num_threads(2)
        first, again = run(), run()
        _C.set_num_threads(1)
        single = run()
    finally:
        _C.set_num_threads(saved)
    for a, b, c in zip(first, again, single):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_allclose(a, c, rtol=1e-12, atol=1e-10)
    np.testing.assert_allclose(first[0], reference_grouped(x, w, (1, 1), (1, 1), "same", 4), rtol=1e-12, atol=1e-10)

    x32, w32 = rng.standard_normal((2, 8, 8, 32)).astype(np.float32), rng.standard_normal((3, 3, 16, 32))
    w32 = w32.astype(np.float32)
    y = ops.conv(x32, w32, 1, "same").numpy()
    want = reference_grouped(x32.astype(np.float64), w32.astype(np.float64), (1, 1), (1, 1), "same", 2)
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
    (lambda: ops.conv(np.zeros((1, 5, 5, 6)), np.zeros((3, 3, 4, 4))), r"shape \(1, 5, 5, 6\) have 6 channels.*not a multiple.*\(3, 3, 4, 4\)"),
    (lambda: ops.conv(np.zeros((1, 5, 5, 6)), np.zeros((3, 3, 2, 4))), r"4 filters.*not divisible by groups=3"),
    (lambda: ops.depthwise_conv(np.zeros((1, 5, 5, 3)), np.zeros((3, 3, 4, 1))), r"depthwise_conv.*3 channels.*expects 4"),
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
