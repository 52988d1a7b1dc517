"""The bfloat16 GEMM (csrc/cpu/gemm_bf16.cpp) against a float64 product of the bfloat16-rounded
operands, on both micro-kernel paths (vdpbf16ps where the CPU has it, and the float32 emulation
every CPU runs), and the CPU feature report."""
import numpy as np
import pytest

from kcore.backend.native import _C

FEATURES = _C.cpu_features()
PATHS = ["fallback"] + (["avx512_bf16"] if FEATURES["avx512_bf16"] else [])


def to_bf16_bits(x):
    """float32 -> bfloat16 bit patterns, round to nearest even (finite inputs)."""
    u = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)


def from_bf16_bits(h):
    return (h.astype(np.uint32) << 16).view(np.float32)


@pytest.fixture(params=PATHS)
def path(request):
    _C._set_bf16_path(request.param)
    yield request.param
    _C._set_bf16_path("auto")


SHAPES = [(1, 1, 1), (3, 5, 7), (13, 33, 2), (64, 256, 1024), (100, 70, 513), (200, 40, 1030),
          (800, 40, 30), (25, 97, 1), (12, 32, 64), (37, 31, 3)]


@pytest.mark.parametrize("m,n,k", SHAPES)
@pytest.mark.parametrize("trans_a,trans_b", [(False, False), (True, False), (False, True), (True, True)])
def test_gemm_matches_float64_of_rounded_operands(path, m, n, k, trans_a, trans_b):
    rng = np.random.default_rng(m * 1000 + n * 10 + k)
    a = rng.standard_normal((k, m) if trans_a else (m, k)).astype(np.float32)
    b = rng.standard_normal((n, k) if trans_b else (k, n)).astype(np.float32)
    ah, bh = to_bf16_bits(a), to_bf16_bits(b)
    a64, b64 = from_bf16_bits(ah).astype(np.float64), from_bf16_bits(bh).astype(np.float64)
    ref = (a64.T if trans_a else a64) @ (b64.T if trans_b else b64)
    tol = 2e-6 * np.sqrt(k) * (np.abs(a64).max() * np.abs(b64).max())
    # bfloat16 operands, float32 operands rounded while packing, and a mix give the same product
    for lhs, rhs in [(ah, bh), (a, b), (ah, b), (a, bh)]:
        c = _C._bf16_gemm(lhs, rhs, trans_a, trans_b)
        assert c.shape == (m, n) and c.dtype == np.float32
        np.testing.assert_allclose(c, ref, rtol=0, atol=tol)


def test_gemm_accumulates_onto(path):
    rng = np.random.default_rng(3)
    a, b = to_bf16_bits(rng.standard_normal((70, 45))), to_bf16_bits(rng.standard_normal((45, 50)))
    onto = rng.standard_normal((70, 50)).astype(np.float32)
    ref = from_bf16_bits(a).astype(np.float64) @ from_bf16_bits(b).astype(np.float64) + onto
    np.testing.assert_allclose(_C._bf16_gemm(a, b, onto=onto), ref, atol=1e-4)


@pytest.mark.parametrize("m,n,k", [(0, 3, 4), (3, 0, 4), (3, 4, 0)])
def test_gemm_empty_operands(path, m, n, k):
    a, b = np.ones((m, k), np.uint16), np.ones((k, n), np.uint16)
    np.testing.assert_array_equal(_C._bf16_gemm(a, b), np.zeros((m, n), np.float32))
    onto = np.full((m, n), 2.0, np.float32)
    np.testing.assert_array_equal(_C._bf16_gemm(a, b, onto=onto), onto)


def test_float32_operands_round_to_nearest_even(path):
    # 1 + 2^-8 is halfway between two bfloat16 values (ties to the even 1.0); 1 + 3 * 2^-9 rounds up
    a = np.array([[1 + 2.0**-8, 1 + 3 * 2.0**-9, -(1 + 2.0**-7)]], np.float32)
    c = _C._bf16_gemm(a, np.eye(3, dtype=np.float32))
    np.testing.assert_array_equal(c, [[1.0, 1 + 2.0**-7, -(1 + 2.0**-7)]])


def test_both_paths_agree():
    rng = np.random.default_rng(5)
    a, b = to_bf16_bits(rng.standard_normal((90, 300))), to_bf16_bits(rng.standard_normal((300, 70)))
    results = []
    for p in PATHS:
        _C._set_bf16_path(p)
        results.append(_C._bf16_gemm(a, b))
    _C._set_bf16_path("auto")
    for r in results[1:]:
        np.testing.assert_allclose(r, results[0], rtol=1e-5, atol=1e-4)


def test_bad_operands_raise():
    with pytest.raises(ValueError, match="_bf16_gemm: inner dimensions differ"):
        _C._bf16_gemm(np.zeros((2, 3), np.uint16), np.zeros((4, 2), np.uint16))
    with pytest.raises(ValueError, match="_bf16_gemm: a must be a 2-D uint16"):
        _C._bf16_gemm(np.zeros((2, 3), np.float64), np.zeros((3, 2), np.uint16))
    with pytest.raises(ValueError, match="unknown path"):
        _C._set_bf16_path("amx")


def test_cpu_features_report():
    f = _C.cpu_features()
    assert set(f) == {"avx512f", "avx512_bf16", "amx_tile", "amx_bf16", "amx_permitted", "bf16_path"}
    assert f["bf16_path"] in ("avx512_bf16", "fp32 emulation")
    assert f["bf16_path"] == ("avx512_bf16" if f["avx512_bf16"] else "fp32 emulation")
    assert not f["avx512_bf16"] or f["avx512f"]
    assert not f["amx_permitted"] or f["amx_tile"]
    _C._set_bf16_path("fallback")
    try:
        assert _C.bf16_path() == "fp32 emulation"
    finally:
        _C._set_bf16_path("auto")
    assert _C.bf16_path() == f["bf16_path"]


def test_environment_variable_forces_the_fallback():
    import os
    import subprocess
    import sys

    env = dict(os.environ, KCORE_BF16_PATH="fallback")
    code = ("from kcore.backend.native import _C; import kcore.info as i; "
            "print(_C.bf16_path(), '|', i.build_info()['bf16 path'])")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.split()[:2] == ["fp32", "emulation"]
    assert out.strip().endswith("| fp32 emulation")
