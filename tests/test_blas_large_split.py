"""Large products (>= 2^30 multiply-adds) split into dynamically scheduled row blocks (core/blas.cpp):
same numbers as NumPy, with and without transposed operands, for row counts that leave a partial block."""
import numpy as np
import pytest

from kcore.backend.native import _C


@pytest.mark.parametrize("trans_a, trans_b", [(False, False), (True, False), (False, True)])
def test_large_matmul_matches_numpy(trans_a, trans_b):
    rng = np.random.default_rng(21)
    m, k, n = 1043, 1024, 1024  # 1.09e9 multiply-adds, 1043 rows: the last block is partial
    a = rng.standard_normal((k, m) if trans_a else (m, k)).astype(np.float32)
    b = rng.standard_normal((n, k) if trans_b else (k, n)).astype(np.float32)
    ka, kb = _C.from_numpy(a), _C.from_numpy(b)
    if trans_a:
        ka = _C.transpose(ka, [1, 0])
    if trans_b:
        kb = _C.transpose(kb, [1, 0])
    saved = _C.get_num_threads()
    try:
        _C.set_num_threads(2)
        got, again = np.array(_C.matmul(ka, kb)), np.array(_C.matmul(ka, kb))
    finally:
        _C.set_num_threads(saved)
    want = (a.T if trans_a else a).astype(np.float64) @ (b.T if trans_b else b).astype(np.float64)
    np.testing.assert_array_equal(got, again)  # each block's rows always come from the same BLAS call shape
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-4 * np.abs(want).max())
