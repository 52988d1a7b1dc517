"""Winograd F(4, 5) for float32 5-tap Conv1D (csrc/cpu/conv_winograd1d.cpp): the forward pass and the
input gradient (a conv of dy with the flipped kernel) against float64 (which never takes it) and against
the sliding-row GEMMs it replaces (Winograd switched off), on odd sizes."""
import numpy as np
import pytest

from kcore import ops
from kcore.backend.config import get_num_threads, set_num_threads
from kcore.backend.native import _C


def _t(a):
    return _C.from_numpy(np.ascontiguousarray(a))


def _as64(a):
    return None if a is None else a.astype(np.float64)


def _run(x, w, b, dy, args):
    y = np.array(_C.conv(_t(x), _t(w), None if b is None else _t(b), *args))
    grads = _C.conv_backward(_t(x), _t(w), _t(dy), *args, True, True, b is not None)
    return [y] + [np.array(g) for g in grads if g is not None]


# (batch, length, channels, filters, pad before, pad after, bias)
CASES = [
    (1, 1, 16, 16, 2, 2, True),      # length 1: one tile, all but one input column padding
    (2, 9, 17, 33, 2, 2, True),      # length not a multiple of 4, channel and filter tails
    (3, 128, 64, 64, 2, 2, False),   # the benchmark's shape, no bias
    (1, 6, 16, 20, 4, 0, True),      # 'causal'
    (2, 5, 16, 16, 0, 0, True),      # 'valid' to a single output
    (2, 7, 24, 16, 0, 0, False),     # 'valid' to 3 outputs: a partial tile
    (40, 50, 16, 18, 2, 2, True),    # 520 tiles: several chunks and workers
]


@pytest.mark.parametrize("case", CASES)
def test_winograd1d_matches_float64_and_sliding_rows(case):
    n, length, c, f, pb, pa, bias = case
    rng = np.random.default_rng(length * 7 + c)
    x = rng.standard_normal((n, length, c)).astype(np.float32)
    w = (rng.standard_normal((5, c, f)) / np.sqrt(5 * c)).astype(np.float32)
    b = rng.standard_normal(f).astype(np.float32) if bias else None
    args = ([1], [1], [pb], [pa])
    out_len = length + pb + pa - 4
    dy = rng.standard_normal((n, out_len, f)).astype(np.float32)
    exact = _run(_as64(x), _as64(w), _as64(b), _as64(dy), args)
    xp = np.pad(x.astype(np.float64), [(0, 0), (pb, pa), (0, 0)])
    y_np = sum(xp[:, j:j + out_len] @ w[j].astype(np.float64) for j in range(5)) + (0 if b is None else b)
    np.testing.assert_allclose(exact[0], y_np, rtol=1e-12, atol=1e-12)
    got = _run(x, w, b, dy, args)
    try:
        _C.conv_set_winograd(False)
        rows = _run(x, w, b, dy, args)
    finally:
        _C.conv_set_winograd(True)
    for name, g, r, base in zip(("y", "dx", "dkernel", "dbias"), got, exact, rows):
        scale = np.abs(r).max()
        np.testing.assert_allclose(g, r, rtol=0, atol=2e-6 * scale, err_msg=name)
        np.testing.assert_allclose(g, base, rtol=0, atol=2e-6 * scale, err_msg=name)


def test_winograd1d_is_the_same_on_one_and_two_threads():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((40, 50, 16)).astype(np.float32)
    w = rng.standard_normal((5, 16, 16)).astype(np.float32)
    before = get_num_threads()
    try:
        results = []
        for n in (1, 2):
            set_num_threads(n)
            results.append(ops.conv(x, w, 1, "same").numpy())
    finally:
        set_num_threads(before)
    np.testing.assert_array_equal(results[0], results[1])


def test_winograd1d_non_finite_input_stays_inside_its_tiles():
    """An inf reaches every output whose window covers it; as with any Winograd transform it also turns
    the other outputs of the same 4-output tiles non-finite, and no further."""
    x = np.zeros((1, 20, 16), np.float32)
    x[0, 10, 3] = np.inf
    y = ops.conv(x, np.ones((5, 16, 16), np.float32), 1, "same").numpy()
    assert not np.isfinite(y[0, 8:13]).any()  # the windows over column 10
    assert np.isfinite(y[0, :8]).all() and np.isfinite(y[0, 16:]).all()  # tiles that never read it
