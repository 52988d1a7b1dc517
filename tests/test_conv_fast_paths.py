"""float32 fast conv paths: Winograd F(4x4, 3x3) (forward, input and kernel gradients), its selection
against F(2x2, 3x3), and the sliding-row GEMMs of unit-stride 1-D and 2-D convs. Compared with float64
(which always takes im2col), the im2col float32 path and a NumPy reference, on odd sizes."""
import numpy as np
import pytest
from test_conv import reference_conv

from kcore import ops
from kcore.backend.native import _C
from kcore.ops.conv import padding_amounts
from kcore.testing import gradcheck


def _t(a):
    return _C.from_numpy(np.ascontiguousarray(a))


def _run(x, w, b, dy, args):
    """Forward and the three gradients through the native op, as NumPy arrays."""
    y = np.array(_C.conv(_t(x), _t(w), _t(b), *args))
    grads = _C.conv_backward(_t(x), _t(w), _t(dy), *args, True, True, True)
    return [y] + [np.array(g) for g in grads]


class _Variant:
    """Forces a Winograd variant ("f2", "f4"), im2col ("off") or the default ("auto") inside a with block."""

    def __init__(self, name):
        self.name = name

    def __enter__(self):
        _C.conv_set_winograd(self.name != "off")
        if self.name != "off":
            _C.conv_set_winograd_variant(self.name)

    def __exit__(self, *exc):
        _C.conv_set_winograd(True)
        _C.conv_set_winograd_variant("auto")


def _case(xs, ws, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(xs).astype(np.float32)
    w = (rng.standard_normal(ws) / np.sqrt(np.prod(ws[:-1]))).astype(np.float32)  # He-like scale
    b = rng.standard_normal(ws[-1]).astype(np.float32)
    return rng, x, w, b


WINOGRAD_CASES = [
    ((2, 7, 9, 16), (3, 3, 16, 16), "same"),     # H, W not multiples of 4
    ((3, 8, 6, 32), (3, 3, 32, 20), "valid"),    # 'valid', filters not a multiple of 16
    ((1, 5, 5, 17), (3, 3, 17, 33), "same"),     # batch 1, channel tails on both sides
    ((2, 1, 1, 16), (3, 3, 16, 18), "same"),     # 1x1 images
    ((1, 3, 3, 24), (3, 3, 24, 16), "valid"),    # 1x1 output
    ((2, 13, 11, 40), (3, 3, 40, 72), "same"),   # two column blocks (64 + 8 filters)
    ((5, 28, 28, 32), (3, 3, 32, 64), "same"),   # > 2M multiply-adds: several workers, several chunks
]


@pytest.mark.parametrize("xs, ws, padding", WINOGRAD_CASES)
def test_winograd_f4_matches_float64_and_im2col(xs, ws, padding):
    rng, x, w, b = _case(xs, ws, 11)
    pad = [1, 1] if padding == "same" else [0, 0]
    args = ([1, 1], [1, 1], pad, pad)
    y64 = reference_conv(x.astype(np.float64), w.astype(np.float64), (1, 1), (1, 1), padding) + b
    dy = rng.standard_normal(y64.shape).astype(np.float32)
    with _Variant("f4"):
        f4 = _run(x, w, b, dy, args)
    with _Variant("off"):
        im2col = _run(x, w, b, dy, args)
    exact = _run(x.astype(np.float64), w.astype(np.float64), b.astype(np.float64), dy.astype(np.float64), args)
    np.testing.assert_allclose(exact[0], y64, rtol=1e-12, atol=1e-12)
    for name, got, ref, base in zip(("y", "dx", "dkernel", "dbias"), f4, exact, im2col):
        scale = np.abs(ref).max()
        # the tolerance the Winograd F(2x2) test uses: 1e-5 of the largest magnitude
        np.testing.assert_allclose(got, ref, rtol=0, atol=1e-5 * scale, err_msg=name)
        np.testing.assert_allclose(got, base, rtol=0, atol=1e-5 * scale, err_msg=name)


def test_winograd_f4_error_is_bounded_and_about_10x_f2():
    """Measured float32 error on realistic magnitudes (unit inputs, He-scaled weights), relative to max |ref|."""
    rng, x, w, b = _case((4, 28, 28, 64), (3, 3, 64, 64), 12)
    args = ([1, 1], [1, 1], [1, 1], [1, 1])
    dy = rng.standard_normal((4, 28, 28, 64)).astype(np.float32)
    exact = _run(x.astype(np.float64), w.astype(np.float64), b.astype(np.float64), dy.astype(np.float64), args)
    errors = {}
    for variant in ("off", "f2", "f4"):
        with _Variant(variant):
            got = _run(x, w, b, dy, args)
        errors[variant] = [float(np.abs(g - r).max() / np.abs(r).max()) for g, r in zip(got[:3], exact[:3])]
    assert max(errors["f4"]) < 1e-5, errors
    assert max(errors["f2"]) < 2e-6, errors
    assert max(errors["f4"]) < 100 * max(errors["off"]), errors


def _check_two_workers(xs, ws, args, variant, atol):
    """Two workers: repeatable bit for bit, and equal to one thread up to float32 partial-sum rounding."""
    _, x, w, b = _case(xs, ws, 13)
    y_shape = np.array(_C.conv(_t(x), _t(w), None, *args)).shape
    dy = np.random.default_rng(1).standard_normal(y_shape).astype(np.float32)
    saved = _C.get_num_threads()
    try:
        with _Variant(variant):
            _C.set_num_threads(2)
            first, again = _run(x, w, b, dy, args), _run(x, w, b, dy, args)
            _C.set_num_threads(1)
            single = _run(x, w, b, dy, args)
    finally:
        _C.set_num_threads(saved)
    for a, c, s in zip(first, again, single):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_allclose(a, s, rtol=0, atol=atol * np.abs(s).max())


def test_winograd_f4_multi_worker_is_deterministic_and_matches_one_thread():
    _check_two_workers((8, 20, 20, 32), (3, 3, 32, 48), ([1, 1], [1, 1], [1, 1], [1, 1]), "f4", 1e-5)


def test_winograd_variant_setting_and_automatic_rule():
    assert _C.conv_winograd_variant() == "auto"
    with pytest.raises(ValueError, match="'auto', 'f2' or 'f4'"):
        _C.conv_set_winograd_variant("f6")
    args = ([1, 1], [1, 1], [1, 1], [1, 1])

    def workspace(shape, variant):
        with _Variant(variant):
            return _C.conv_workspace_bytes(shape, [3, 3, 32, 32], *args, 4)

    for shape in ([4, 28, 28, 32], [4, 3, 3, 32]):  # outputs >= 3x3 take F(4x4) (on AVX-512 builds)
        assert workspace(shape, "auto") in (workspace(shape, "f4"), workspace(shape, "f2"))
        assert workspace(shape, "f4") != workspace(shape, "f2")
    assert workspace([4, 2, 2, 32], "auto") == workspace([4, 2, 2, 32], "f2")  # 2x2 outputs keep F(2x2)
    if _C.build_info()["simd"] == "avx512":
        assert workspace([4, 28, 28, 32], "auto") == workspace([4, 28, 28, 32], "f4")


def test_winograd_f4_through_ops_and_conv_transpose():
    """ops.conv under a tape and conv_transpose (which runs the input-gradient path) with F(4x4)."""
    rng, x, w, _ = _case((2, 10, 9, 16), (3, 3, 16, 24), 14)
    with _Variant("f4"):
        y = ops.conv(x, w, 1, "same").numpy()
        t = np.array(_C.conv_transpose(_t(y), _t(w), None, [10, 9], [1, 1], [1, 1], [1, 1], [1, 1]))
    ref = reference_conv(x.astype(np.float64), w.astype(np.float64), (1, 1), (1, 1), "same")
    np.testing.assert_allclose(y, ref, rtol=0, atol=1e-5 * np.abs(ref).max())
    with _Variant("off"):
        t_ref = np.array(_C.conv_transpose(_t(y), _t(w), None, [10, 9], [1, 1], [1, 1], [1, 1], [1, 1]))
    np.testing.assert_allclose(t, t_ref, rtol=0, atol=1e-5 * np.abs(t_ref).max())


# -- 1-D and 2-D convs on a sliding window --------------------------------------------------------

# (n, length, channels, kernel, filters, pad_before, pad_after): 'same' odd/even, 'causal', 'valid'
ROWS_CASES = [
    (2, 9, 5, 3, 7, 1, 1),
    (3, 16, 64, 5, 64, 2, 2),
    (1, 1, 3, 2, 4, 1, 0),      # length 1, even kernel 'same'
    (2, 7, 17, 4, 33, 3, 0),    # causal
    (4, 12, 8, 6, 3, 2, 3),
    (1, 5, 2, 5, 2, 0, 0),      # 'valid' to a single output
    (33, 20, 19, 3, 21, 1, 1),  # several workers
]


@pytest.mark.parametrize("case", ROWS_CASES)
def test_conv1d_rows_matches_float64(case):
    n, length, c, k, f, pb, pa = case
    rng, x, w, b = _case((n, length, c), (k, c, f), 15)
    args = ([1], [1], [pb], [pa])
    out_len = length + pb + pa - k + 1
    dy = rng.standard_normal((n, out_len, f)).astype(np.float32)
    got = _run(x, w, b, dy, args)
    exact = _run(x.astype(np.float64), w.astype(np.float64), b.astype(np.float64), dy.astype(np.float64), args)
    xp = np.pad(x.astype(np.float64), [(0, 0), (pb, pa), (0, 0)])
    y_np = sum(xp[:, j:j + out_len] @ w[j].astype(np.float64) for j in range(k)) + b
    np.testing.assert_allclose(exact[0], y_np, rtol=1e-12, atol=1e-12)
    for name, g, r in zip(("y", "dx", "dkernel", "dbias"), got, exact):
        np.testing.assert_allclose(g, r, rtol=0, atol=2e-6 * np.abs(r).max(), err_msg=name)


def test_conv1d_rows_through_ops_and_float64_gradients():
    rng = np.random.default_rng(16)
    x, w = rng.standard_normal((2, 11, 4)), rng.standard_normal((5, 4, 3))
    y32 = ops.conv(x.astype(np.float32), w.astype(np.float32), 1, "causal").numpy()
    np.testing.assert_allclose(y32, reference_conv(x, w, (1,), (1,), "causal"), rtol=1e-5, atol=1e-5)
    assert gradcheck(lambda x, w: ops.conv(x, w, 1, "causal"), [x, w])


# (input shape, kernel shape, padding): 2-D convs Winograd does not take
ROWS_2D_CASES = [
    ((2, 7, 9, 5), (3, 3, 5, 12), "same"),      # 3x3 with fewer than 16 channels
    ((3, 8, 6, 16), (5, 5, 16, 16), "same"),    # 5x5
    ((1, 6, 7, 9), (2, 4, 9, 10), "same"),      # even kernel sizes: more padding after than before
    ((2, 9, 8, 8), (4, 3, 8, 17), "valid"),
    ((2, 1, 1, 8), (3, 3, 8, 8), "same"),       # 1x1 images: only the middle kernel row and column count
    ((2, 5, 6, 1), (3, 3, 1, 32), "same"),      # one input channel: the input gradient takes im2col
    ((2, 5, 6, 12), (3, 3, 12, 4), "same"),     # four filters: all of it takes im2col
    ((1, 40, 40, 16), (5, 5, 16, 16), "same"),  # one image, several workers splitting its rows
]


@pytest.mark.parametrize("xs, ws, padding", ROWS_2D_CASES)
def test_conv2d_rows_matches_float64_and_im2col(xs, ws, padding):
    rng, x, w, b = _case(xs, ws, 17)
    before, after = padding_amounts(padding, xs[1:3], ws[:2], (1, 1), (1, 1))
    args = ([1, 1], [1, 1], list(before), list(after))
    y64 = reference_conv(x.astype(np.float64), w.astype(np.float64), (1, 1), (1, 1), padding) + b
    dy = rng.standard_normal(y64.shape).astype(np.float32)
    exact = _run(x.astype(np.float64), w.astype(np.float64), b.astype(np.float64), dy.astype(np.float64), args)
    np.testing.assert_allclose(exact[0], y64, rtol=1e-12, atol=1e-12)
    assert _C.conv_sliding_rows()
    got = _run(x, w, b, dy, args)
    try:
        _C.conv_set_sliding_rows(False)
        im2col = _run(x, w, b, dy, args)
    finally:
        _C.conv_set_sliding_rows(True)
    for name, g, r, base in zip(("y", "dx", "dkernel", "dbias"), got, exact, im2col):
        np.testing.assert_allclose(g, r, rtol=0, atol=2e-6 * np.abs(r).max(), err_msg=name)
        np.testing.assert_allclose(g, base, rtol=0, atol=2e-6 * np.abs(r).max(), err_msg=name)


def test_conv2d_rows_multi_worker_is_deterministic_and_matches_one_thread():
    _check_two_workers((3, 30, 30, 16), (5, 5, 16, 24), ([1, 1], [1, 1], [2, 2], [2, 2]), "auto", 5e-6)
