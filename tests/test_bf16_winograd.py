"""bfloat16 3x3 stride-1 convs on Winograd F(4x4, 3x3) straight from the bfloat16 tensors (x and dy widened
inside the transforms, y and dx rounded as they are stored): the same bits as float32 Winograd on the
widened operands with the results rounded afterwards, and within bfloat16 rounding of a float64 reference
of the same bfloat16 inputs. Odd shapes (H/W not multiples of 4, 1x1 and 3x3 images, batch 1, channels
and filters not multiples of 16, 'same', 'valid' and uneven padding), on both bfloat16 GEMM paths."""
import numpy as np
import pytest
from test_bf16_kernels import path  # noqa: F401  (the fixture that runs each test on both bfloat16 GEMM paths)

from kcore.backend.native import _C
from kcore.backend.tensor import Tensor

pytestmark = pytest.mark.usefixtures("path")

CASES = [  # x shape (n, h, w, c), filters, pad before, pad after
    ((1, 5, 7, 16), 16, [1, 1], [1, 1]),  # batch 1, 'same', H/W not multiples of 4
    ((2, 9, 6, 17), 33, [0, 0], [0, 0]),  # 'valid', C and F not multiples of 16
    ((3, 1, 1, 16), 20, [1, 1], [1, 1]),  # 1x1 images: outputs too small for F(4x4)
    ((2, 3, 3, 24), 18, [1, 1], [1, 1]),  # 3x3 outputs: the smallest F(4x4) takes
    ((2, 5, 5, 20), 40, [0, 0], [0, 0]),  # 'valid' 3x3 outputs, a 5x5 input gradient
    ((1, 4, 4, 16), 16, [0, 0], [0, 0]),  # 2x2 outputs (F(2x2)), a 4x4 input gradient
    ((2, 10, 13, 32), 48, [1, 0], [1, 2]),  # uneven padding
]


def bf16(a):
    """(bfloat16 tensor, float32 tensor of the same rounded values, those values in float64)."""
    h = _C.from_numpy(np.ascontiguousarray(a, np.float32)).astype("bfloat16")
    w = h.astype("float32")
    return h, w, Tensor(w).numpy().astype(np.float64)


def f64(t):
    return Tensor(t.astype("float32")).numpy().astype(np.float64)


def reference(x, w, dy, before, after):
    """float64 y, dx, dkernel of the 3x3 stride-1 cross-correlation."""
    xp = np.pad(x, ((0, 0), (before[0], after[0]), (before[1], after[1]), (0, 0)))
    oh, ow = xp.shape[1] - 2, xp.shape[2] - 2
    windows = np.lib.stride_tricks.sliding_window_view(xp, (3, 3), axis=(1, 2))  # n, oh, ow, c, 3, 3
    y = np.einsum("nijcab,abcf->nijf", windows, w)
    dk = np.einsum("nijcab,nijf->abcf", windows, dy)
    dxp = np.zeros_like(xp)
    for a in range(3):
        for b in range(3):
            dxp[:, a:a + oh, b:b + ow] += np.einsum("nijf,cf->nijc", dy, w[a, b])
    dx = dxp[:, before[0]:before[0] + x.shape[1], before[1]:before[1] + x.shape[2]]
    return y, dx, dk


def assert_rounded(got, want):
    """got: want rounded to bfloat16 (2^-8 relative), up to float32 Winograd error on the largest values."""
    assert got.shape == want.shape
    scale = max(np.abs(want).max(), 1e-30)
    assert np.all(np.abs(got - want) <= 2.0 ** -8 * np.abs(want) + 1e-4 * scale)


@pytest.mark.parametrize("xs,filters,before,after", CASES)
def test_bf16_winograd_conv(xs, filters, before, after):
    rng = np.random.default_rng(xs[-1] + filters)
    x, x32, x64 = bf16(rng.standard_normal(xs))
    w, w32, w64 = bf16(rng.standard_normal((3, 3, xs[-1], filters)) / np.sqrt(9 * xs[-1]))
    b, b32, b64 = bf16(rng.standard_normal(filters))
    ones = [1, 1]
    y = _C.conv(x, w, b, ones, ones, before, after)
    assert str(y.dtype) == "bfloat16"
    y32 = _C.conv(x32, w32, b32, ones, ones, before, after)
    np.testing.assert_array_equal(f64(y), f64(y32.astype("bfloat16")))  # one rounding of the float32 result
    dy, dy32, dy64 = bf16(rng.standard_normal(tuple(y32.shape)))
    want_y, want_dx, want_dk = reference(x64, w64, dy64, before, after)
    assert_rounded(f64(y), want_y + b64)
    gx, gw, gb = _C.conv_backward(x, w, dy, ones, ones, before, after, True, True, True)
    rx, rw, _ = _C.conv_backward(x32, w32, dy32, ones, ones, before, after, True, True, True)
    for got, same_bits, want in [(gx, rx, want_dx), (gw, rw, want_dk), (gb, None, dy64.sum(axis=(0, 1, 2)))]:
        assert str(got.dtype) == "bfloat16"
        if same_bits is not None:
            np.testing.assert_array_equal(f64(got), f64(same_bits.astype("bfloat16")))
        assert_rounded(f64(got), want)
    only_x = _C.conv_backward(x, w, dy, ones, ones, before, after, True, False, False)
    only_k = _C.conv_backward(x, w, dy, ones, ones, before, after, False, True, False)
    assert only_x[1] is None and only_x[2] is None and only_k[0] is None and only_k[2] is None
    np.testing.assert_array_equal(f64(only_x[0]), f64(gx))
    np.testing.assert_array_equal(f64(only_k[1]), f64(gw))


def test_bf16_winograd_keeps_nan_and_infinity():
    rng = np.random.default_rng(7)
    xs = rng.standard_normal((1, 8, 8, 16)).astype(np.float32)
    xs[0, 2, 3, 5] = np.nan
    xs[0, 6, 6, 0] = np.inf
    x, x32, _ = bf16(xs)
    w, w32, _ = bf16(rng.standard_normal((3, 3, 16, 16)) * 0.1)
    args = ([1, 1], [1, 1], [1, 1], [1, 1])
    got, want = f64(_C.conv(x, w, None, *args)), f64(_C.conv(x32, w32, None, *args).astype("bfloat16"))
    assert np.isnan(got).any()
    np.testing.assert_array_equal(got, want)  # NaN where float32 has NaN, the same infinities


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_gradients_of_a_conv_large_enough_for_two_threads(dtype):
    # 8192 output rows x 64 filters: the bias gradient splits its rows over threads (from 256K elements) and
    # the kernel gradient's tiles over workers, each with its own accumulators
    rng = np.random.default_rng(11)
    x, x32, x64 = bf16(rng.standard_normal((8, 32, 32, 16)))
    w, w32, w64 = bf16(rng.standard_normal((3, 3, 16, 64)) / 12)
    dy, dy32, dy64 = bf16(rng.standard_normal((8, 32, 32, 64)))
    if dtype == "float32":
        x, w, dy = x32, w32, dy32
    ones = [1, 1]
    gx, gw, gb = _C.conv_backward(x, w, dy, ones, ones, ones, ones, True, True, True)
    _, want_dx, want_dk = reference(x64, w64, dy64, ones, ones)
    want_db = dy64.sum(axis=(0, 1, 2))
    if dtype == "bfloat16":
        for got, want in [(gx, want_dx), (gw, want_dk), (gb, want_db)]:
            assert_rounded(f64(got), want)
    else:
        for got, want in [(gx, want_dx), (gw, want_dk), (gb, want_db)]:
            np.testing.assert_allclose(f64(got), want, rtol=0, atol=2e-5 * np.abs(want).max())
