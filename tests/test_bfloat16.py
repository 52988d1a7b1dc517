"""bfloat16 tensors: the dtype, casts (values from real Keras 3, tests/data/gen/gen_bfloat16_reference.py),
NumPy interop (ml_dtypes.bfloat16) and the cast gradient."""
import json
import os

import ml_dtypes
import numpy as np
import pytest

import kcore
from kcore import ops
from kcore.backend import GradientTape
from kcore.backend.native import _C

REF = np.load(os.path.join(os.path.dirname(__file__), "data", "keras3_bfloat16.npz"))
BF16 = ml_dtypes.bfloat16


def _bits(t):
    return t.numpy().view(np.uint16)


def _same_bits_or_both_nan(ours, ref, x):
    nan = np.isnan(x)
    np.testing.assert_array_equal(ours[~nan], ref[~nan])
    assert np.all((ours[nan] & 0x7FC0) == 0x7FC0)  # NaN stays a quiet NaN (sign and payload top kept)


@pytest.mark.parametrize("width", ["32", "64"])
def test_cast_to_bfloat16_matches_keras(width):
    x = REF["x" + width]
    _same_bits_or_both_nan(_bits(ops.cast(ops.convert_to_tensor(x), "bfloat16")), REF["bits" + width], x)
    _same_bits_or_both_nan(_bits(ops.convert_to_tensor(x, dtype="bfloat16")), REF["bits" + width], x)


def test_rounding_ties_to_even_and_specials():
    x = np.array([1 + 2 ** -8, 1 + 3 * 2 ** -8, 1 + 2 ** -8 + 2 ** -20, np.inf, -np.inf, -0.0, 1e-39], np.float32)
    t = ops.cast(x, "bfloat16")
    np.testing.assert_array_equal(t.numpy().astype(np.float32),
                                  np.array([1.0, 1 + 4 * 2 ** -8, 1 + 2 * 2 ** -8, np.inf, -np.inf, -0.0,
                                            x[6].astype(BF16).astype(np.float32)], np.float32))
    assert np.signbit(t.numpy()[5].astype(np.float32))
    assert t.numpy()[6] != 0  # denormals survive, as in Keras / ml_dtypes
    assert np.isnan(ops.cast(np.array([np.nan], np.float32), "bfloat16").numpy().astype(np.float32)[0])
    # the largest float32 rounds up past bfloat16's largest finite value: infinity (as Keras)
    assert np.isinf(ops.cast(np.array([3.4028235e38], np.float32), "bfloat16").numpy().astype(np.float32)[0])


def test_bulk_and_scalar_conversion_agree_on_random_bits():
    rng = np.random.default_rng(1)
    u = rng.integers(0, 2 ** 32, 100_003, dtype=np.uint64).astype(np.uint32)  # odd length: vector + scalar tail
    x = u.view(np.float32)
    with np.errstate(invalid="ignore"):
        _same_bits_or_both_nan(_bits(ops.cast(x, "bfloat16")), x.astype(BF16).view(np.uint16), x)
        back = ops.cast(ops.cast(x, "bfloat16"), "float32").numpy()
        np.testing.assert_array_equal(back.view(np.uint32)[~np.isnan(x)],
                                      x.astype(BF16).astype(np.float32).view(np.uint32)[~np.isnan(x)])


def test_casts_between_bfloat16_and_every_dtype():
    x = np.array([0.0, 1.5, -2.5, 300.7, -7.9, 1.0], np.float32)
    b = ops.cast(x, "bfloat16")
    assert b.dtype == "bfloat16" and b.shape == (6,)
    for dtype, expect in (("float32", x.astype(BF16).astype(np.float32)),
                          ("float64", x.astype(BF16).astype(np.float64)),
                          ("int32", np.array([0, 1, -2, 300, -7, 1])), ("int64", np.array([0, 1, -2, 300, -7, 1])),
                          ("bool", np.array([False, True, True, True, True, True]))):
        out = ops.cast(b, dtype)
        assert out.dtype == dtype
        np.testing.assert_array_equal(out.numpy(), expect)
        back = ops.cast(out, "bfloat16")
        assert back.dtype == "bfloat16"
        np.testing.assert_array_equal(back.numpy().astype(np.float64), expect.astype(BF16).astype(np.float64))
    np.testing.assert_array_equal(ops.cast(ops.cast(np.array([1.5, -2.5, 300.7, -7.9, 0.2], np.float32),
                                                    "bfloat16"), "int32").numpy(), REF["to_int"])


def test_numpy_interop_gives_ml_dtypes_bfloat16():
    x = np.array([[1.0, 2.5], [-3.0, 0.125]], np.float32)
    t = ops.cast(x, "bfloat16")
    for arr in (t.numpy(), np.asarray(t), ops.convert_to_numpy(t)):
        assert arr.dtype == BF16
        np.testing.assert_array_equal(arr.astype(np.float32), x)
    src = x.astype(BF16)
    u = kcore.ops.convert_to_tensor(src)
    assert u.dtype == "bfloat16"
    np.testing.assert_array_equal(u.numpy(), src)
    src.flags.writeable = False  # read-only arrays are wrapped without a copy
    np.testing.assert_array_equal(ops.convert_to_tensor(src).numpy(), src)
    assert ops.convert_to_tensor(np.zeros((0, 3), BF16)).shape == (0, 3)
    assert ops.cast(np.zeros((2, 0), np.float32), "bfloat16").shape == (2, 0)
    assert ops.convert_to_tensor(np.float32(3.0), dtype="bfloat16").numpy() == BF16(3.0)
    assert ops.convert_to_tensor([1, 2], dtype=BF16).dtype == "bfloat16"


def test_native_tensor_dtype_and_factories():
    assert _C.zeros([2], "bfloat16").dtype == "bfloat16"
    np.testing.assert_array_equal(np.asarray(_C.full([3], "bfloat16", 1.00390625)), [0x3F80] * 3)  # bits
    np.testing.assert_array_equal(np.asarray(_C.full([3], "bfloat16", 1.5).astype("float32")), [1.5] * 3)
    with pytest.raises(TypeError, match="bfloat16"):
        _C.zeros([2], "float16")


def test_cast_gradient_is_cast_back():
    x = kcore.Variable(np.array([1.5, -2.0, 0.25], np.float32))
    with GradientTape() as tape:
        y = ops.cast(x, "bfloat16")
        loss = ops.sum(ops.cast(y, "float32") * np.array([3.0, 1.0, -2.0], np.float32))
    (g,) = tape.gradient(loss, [x])
    assert g.dtype == "float32"
    np.testing.assert_array_equal(g.numpy(), [3.0, 1.0, -2.0])
    # float64 -> bfloat16 -> float64: the gradient of the round trip is exactly the upstream gradient
    x64 = kcore.Variable(np.array([0.5, 8.0], np.float64), dtype="float64")
    with GradientTape() as tape:
        loss = ops.sum(ops.cast(ops.cast(x64, "bfloat16"), "float64") * np.array([0.75, -4.0]))
    (g,) = tape.gradient(loss, [x64])
    assert g.dtype == "float64"
    np.testing.assert_array_equal(g.numpy(), [0.75, -4.0])


def test_keras_promotion_rule_recorded():
    rule = json.loads(str(REF["promotion"]))
    assert rule["float32"] == ["float32", "float32"] and rule["float64"] == ["float64", "float64"]
    assert rule["int32"] == ["bfloat16", "bfloat16"] and rule["python_float"][0] == "bfloat16"


def test_import_kcore_does_not_import_ml_dtypes():
    import subprocess
    import sys

    code = "import sys, kcore; print('ml_dtypes' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert out.stdout.strip() == "False"


def test_read_only_bf16_input_is_read_not_written():
    src = np.array([[1.0, -2.0], [0.5, 4.0]], np.float32).astype(BF16)
    src.flags.writeable = False
    t = ops.convert_to_tensor(src)
    assert t.value.readonly
    np.testing.assert_array_equal(ops.multiply(t, 2.0).numpy().astype(np.float32), [[2.0, -4.0], [1.0, 8.0]])
    np.testing.assert_array_equal(ops.transpose(t).numpy(), src.T)
    np.testing.assert_array_equal(src.astype(np.float32), [[1.0, -2.0], [0.5, 4.0]])


def test_bf16_variable_round_trip():
    v = kcore.Variable(np.array([1.0, 1.00390625], np.float32), dtype="bfloat16")
    assert v.dtype == "bfloat16"
    np.testing.assert_array_equal(v.numpy().astype(np.float32), [1.0, 1.0])  # ties to even
    v.assign(np.array([3.0, -0.5], np.float32))
    np.testing.assert_array_equal(v.numpy().astype(np.float32), [3.0, -0.5])


def test_packing_conversion_flushes_denormals_and_otherwise_rounds_to_nearest_even():
    rng = np.random.default_rng(5)
    normal = (rng.standard_normal(1000) * np.exp(rng.uniform(-80, 80, 1000))).astype(np.float32)
    special = np.array([1 + 2 ** -8, 1 + 3 * 2 ** -8, np.inf, -np.inf, 0.0, -0.0, 3.4028235e38, 1.1754944e-38],
                       np.float32)
    denormal = np.array([1e-39, -1e-39, 1.4e-45, 1.1754942e-38], np.float32)
    x = np.concatenate([normal, special, denormal, [np.nan]]).astype(np.float32)
    want = x.astype(BF16).view(np.uint16).copy()
    n = len(normal) + len(special)
    for portable in (False, True):  # the AVX512-BF16 instruction where the CPU has it, and the portable loop
        got = np.asarray(_C.float_to_bf16_ftz(_C.from_numpy(x), portable=portable))
        np.testing.assert_array_equal(got[:n], want[:n])
        np.testing.assert_array_equal(got[n:n + 4], np.signbit(denormal) * 0x8000)  # flushed to signed zero
        assert (got[-1] & 0x7FC0) == 0x7FC0
    assert isinstance(_C.cpu_has_avx512_bf16(), bool)
