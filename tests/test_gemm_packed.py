"""The packed-B float32 GEMM behind the recurrent kernels (csrc/cpu/gemm_packed.*), against NumPy.

Odd sizes exercise the row tails (m not a multiple of the micro-tile rows), the zero-padded
last panel (n not a multiple of the panel width) and column ranges that start and end inside panels.
"""
import numpy as np
import pytest

from kcore.backend.native import _C


def _run(a, b, trans_b=False, onto=None, c0=0, c1=-1, trans_a=False):
    out = _C.packed_matmul(_C.from_numpy(a), _C.from_numpy(b), trans_a, trans_b,
                           None if onto is None else _C.from_numpy(onto), c0, c1)
    return np.asarray(out)


@pytest.mark.parametrize("m,k,n", [(1, 1, 1), (13, 7, 33), (64, 256, 1024), (5, 37, 17), (25, 3, 70), (12, 64, 32),
                                   (0, 4, 5), (3, 0, 5)])
@pytest.mark.parametrize("trans_a,trans_b", [(False, False), (False, True), (True, False), (True, True)])
def test_blocked_threaded_gemm_matches_numpy_on_odd_sizes(m, k, n, trans_a, trans_b):
    rng = np.random.default_rng(m * 1000 + k * 10 + n)
    a = rng.standard_normal((k, m) if trans_a else (m, k)).astype(np.float32)
    b = rng.standard_normal((n, k) if trans_b else (k, n)).astype(np.float32)
    want = (a.T if trans_a else a).astype(np.float64) @ (b.T if trans_b else b).astype(np.float64)
    np.testing.assert_allclose(_run(a, b, trans_b, trans_a=trans_a), want, rtol=1e-5,
                               atol=1e-4 * max(1, np.sqrt(k)))


@pytest.mark.parametrize("m,k,n", [(200, 600, 70), (7, 1000, 33), (400, 9, 1030)])
def test_blocked_gemm_crosses_k_and_row_blocks_and_accumulates(m, k, n):
    """k > 256 and m > 192: several K blocks (packed in turn) and row blocks; onto is added to."""
    rng = np.random.default_rng(k)
    a = rng.standard_normal((k, m)).astype(np.float32)
    b = rng.standard_normal((k, n)).astype(np.float32)
    onto = rng.standard_normal((m, n)).astype(np.float32)
    want = onto + a.T.astype(np.float64) @ b.astype(np.float64)
    np.testing.assert_allclose(_run(a, b, onto=onto, trans_a=True), want, rtol=1e-5, atol=1e-3)


@pytest.mark.parametrize("c0,c1", [(0, 70), (5, 29), (31, 33), (40, 40), (33, 70), (1, 69)])
def test_column_ranges_accumulate_and_leave_other_columns(c0, c1):
    rng = np.random.default_rng(c0 * 100 + c1)
    a = rng.standard_normal((19, 23)).astype(np.float32)
    b = rng.standard_normal((23, 70)).astype(np.float32)
    onto = rng.standard_normal((19, 70)).astype(np.float32)
    got = _run(a, b, onto=onto, c0=c0, c1=c1)
    want = onto.astype(np.float64).copy()
    want[:, c0:c1] += (a.astype(np.float64) @ b.astype(np.float64))[:, c0:c1]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4)
    np.testing.assert_array_equal(got[:, :c0], onto[:, :c0])
    np.testing.assert_array_equal(got[:, c1:], onto[:, c1:])


def test_bad_arguments_raise_clear_errors():
    a = np.zeros((3, 4), np.float32)
    with pytest.raises(ValueError, match="inner dimensions differ"):
        _run(a, np.zeros((5, 6), np.float32))
    with pytest.raises(ValueError, match="column range"):
        _run(a, np.zeros((4, 6), np.float32), c0=2, c1=9)
    with pytest.raises(ValueError, match="needs trans_a"):
        _run(a.T.copy(), np.zeros((4, 6), np.float32), c0=1, c1=2, trans_a=True)
    with pytest.raises(ValueError, match="float32"):
        _run(a.astype(np.float64), np.zeros((4, 6)))
