"""bfloat16 through the ops beyond the op table's rows: Keras 3's type promotion, the float_compute rule
(ops/float_compute.h) for mixed operands and in-place updates, optimizers, dropout, losses, CUDA refusal,
zero-size tensors and bad input."""
import json
import os

import ml_dtypes
import numpy as np
import pytest

import kcore
from kcore import ops
from kcore.backend import GradientTape
from kcore.backend.native import _C, BinaryOp

REF = np.load(os.path.join(os.path.dirname(__file__), "data", "keras3_bfloat16.npz"))
BF16 = ml_dtypes.bfloat16
RNG = np.random.default_rng(3)


def bf(x):
    return ops.cast(np.asarray(x, np.float32), "bfloat16")


@pytest.mark.parametrize("op", [ops.add, ops.multiply, ops.subtract, ops.maximum])
def test_binary_promotion_follows_keras(op):
    rule = json.loads(str(REF["promotion"]))
    for other, (left, right) in rule.items():
        if other.startswith("python_"):
            value = 2.5 if other == "python_float" else 3
            assert op(bf([1.0, 2.0]), value).dtype == left, other
            assert op(value, bf([1.0, 2.0])).dtype == right, other
            continue
        b = ops.cast(np.ones(2, np.float32), other)
        assert op(bf([1.0, 2.0]), b).dtype == left, other
        assert op(b, bf([1.0, 2.0])).dtype == right, other


def test_mixed_operands_compute_in_the_wider_dtype_exactly():
    x = RNG.standard_normal((3, 4)).astype(np.float32)
    y = RNG.standard_normal((3, 4)).astype(np.float32)
    got = ops.add(bf(x), ops.convert_to_tensor(y))
    assert got.dtype == "float32"
    np.testing.assert_array_equal(got.numpy(), x.astype(BF16).astype(np.float32) + y)  # no rounding of the sum
    assert ops.add(bf(x), ops.cast(y, "float64")).dtype == "float64"
    raw = _C.binary(BinaryOp.add, bf(x).value, _C.from_numpy(y))  # native bf16 kernels: mixed still promotes
    assert raw.dtype == "float32"
    np.testing.assert_array_equal(np.asarray(raw), x.astype(BF16).astype(np.float32) + y)
    w = RNG.standard_normal((4, 2)).astype(np.float32)
    lin = _C.linear(bf(x).value, _C.from_numpy(w), None)  # bf16 activations, float32 weights: float32 out
    assert lin.dtype == "float32"
    np.testing.assert_allclose(np.asarray(lin), x.astype(BF16).astype(np.float32) @ w, rtol=1e-6, atol=1e-6)


def test_all_bf16_operands_round_once_at_the_end():
    a = RNG.standard_normal((5, 64)).astype(np.float32)
    b = RNG.standard_normal((64, 3)).astype(np.float32)
    ar, br = a.astype(BF16).astype(np.float32), b.astype(BF16).astype(np.float32)
    got = ops.matmul(bf(a), bf(b))
    assert got.dtype == "bfloat16"
    np.testing.assert_array_equal(got.numpy(), (ar @ br).astype(BF16))  # float32 accumulate, one rounding
    s = ops.sum(bf(np.full(4096, 1.0, np.float32)))  # a bf16 accumulator would stop at 256
    assert s.dtype == "bfloat16" and float(s.numpy()) == 4096.0
    m = ops.mean(bf(np.full((3, 1000), 1.0 + 2 ** -7, np.float32)), axis=1)
    np.testing.assert_array_equal(m.numpy().astype(np.float32), [1.0 + 2 ** -7] * 3)


def test_argmax_and_comparisons_keep_their_dtypes():
    x = bf([[1.0, 5.0, 2.0], [7.0, -1.0, 0.0]])
    assert ops.argmax(x, axis=1).dtype == "int64"
    np.testing.assert_array_equal(ops.argmax(x, axis=1).numpy(), [1, 0])
    assert (x > 1.5).dtype == "bool"
    np.testing.assert_array_equal((x > 1.5).numpy(), [[False, True, True], [True, False, False]])
    assert ops.where(x > 1.5, x, 0.0).dtype == "bfloat16"


def test_optimizers_take_bf16_gradients_for_float32_variables():
    g = np.array([[1.0, -2.0], [0.5, 3.0]], np.float32)
    for make in (lambda: kcore.optimizers.SGD(0.5, momentum=0.9), lambda: kcore.optimizers.Adam(0.1),
                 lambda: kcore.optimizers.RMSprop(0.1)):
        v16, v32 = kcore.Variable(np.ones((2, 2), np.float32)), kcore.Variable(np.ones((2, 2), np.float32))
        make().apply_gradients([(bf(g), v16)])
        make().apply_gradients([(ops.convert_to_tensor(g), v32)])
        assert v16.dtype == "float32"
        np.testing.assert_array_equal(v16.numpy(), v32.numpy())  # g is exact in bf16: the same update


def test_in_place_update_of_a_bf16_tensor_writes_back():
    w = bf([1.0, 2.0, 4.0])
    _C.sgd_update(w.value, bf([1.0, 1.0, 1.0]).value, None, 0.5, 0.0, False)
    np.testing.assert_array_equal(w.numpy().astype(np.float32), [0.5, 1.5, 3.5])


def test_dropout_and_losses_on_bf16():
    x = bf(np.ones((64, 64)))
    y = ops.dropout(x, 0.5, seed=1)
    assert y.dtype == "bfloat16"
    vals = set(np.unique(y.numpy().astype(np.float32)))
    assert vals == {0.0, 2.0}
    with GradientTape() as tape:
        tape.watch(x)
        total = ops.sum(ops.cast(ops.dropout(x, 0.5, seed=1), "float32"))
    assert tape.gradient(total, x).dtype == "bfloat16"
    p = RNG.uniform(0.05, 0.95, (6, 3)).astype(np.float32)
    t = RNG.uniform(0.0, 1.0, (6, 3)).astype(np.float32)
    pr = p.astype(BF16).astype(np.float32)
    for fn in (kcore.losses.mean_squared_error, kcore.losses.mean_absolute_error, kcore.losses.binary_crossentropy,
               kcore.losses.categorical_crossentropy):
        got = fn(t, bf(p))
        want = fn(t, pr)
        np.testing.assert_allclose(np.asarray(got.numpy(), np.float32), want.numpy(), rtol=2e-2, atol=1e-3,
                                   err_msg=fn.__name__)
    labels = np.array([0, 2, 1, 1, 0, 2])
    got = kcore.losses.sparse_categorical_crossentropy(labels, bf(p), from_logits=True)
    assert got.dtype == "bfloat16"
    np.testing.assert_allclose(got.numpy().astype(np.float32),
                               kcore.losses.sparse_categorical_crossentropy(labels, pr, from_logits=True).numpy(),
                               rtol=1e-2)


def test_nan_and_inf_survive_ops():
    x = bf([np.nan, np.inf, -np.inf, 1.0])
    np.testing.assert_array_equal(np.isnan(ops.exp(x).numpy().astype(np.float32)), [True, False, False, False])
    np.testing.assert_array_equal(ops.isinf(x).numpy(), [False, True, True, False])
    np.testing.assert_array_equal(ops.isnan(x).numpy(), [True, False, False, False])
    assert np.isnan(float(ops.max(x).numpy()))


def test_zero_size_bf16_tensors():
    z = bf(np.zeros((0, 3)))
    assert ops.add(z, z).dtype == "bfloat16" and ops.add(z, z).shape == (0, 3)
    assert ops.sum(z, axis=0).shape == (3,)
    np.testing.assert_array_equal(ops.sum(z, axis=0).numpy().astype(np.float32), [0.0, 0.0, 0.0])
    assert ops.matmul(z, bf(np.ones((3, 2)))).shape == (0, 2)
    assert ops.concatenate([z, z]).shape == (0, 3)


def test_data_movement_keeps_bits_and_views():
    x = bf(RNG.standard_normal((4, 6)))
    t = ops.transpose(x)
    assert t.dtype == "bfloat16" and t.value.shares_memory(x.value)  # a view, no float32 round trip
    np.testing.assert_array_equal(t.numpy(), x.numpy().T)
    np.testing.assert_array_equal(ops.reshape(x, (3, 8)).numpy(), x.numpy().reshape(3, 8))
    np.testing.assert_array_equal(ops.take(x, np.array([3, 0, 3])).numpy(), x.numpy()[[3, 0, 3]])
    np.testing.assert_array_equal(ops.concatenate([x, x], axis=1).numpy(), np.concatenate([x.numpy()] * 2, 1))
    np.testing.assert_array_equal(x[1:3, ::2].numpy(), x.numpy()[1:3, ::2])
    np.testing.assert_array_equal(ops.stack([x, x]).numpy(), np.stack([x.numpy()] * 2))


def test_bf16_refused_on_cuda_naming_the_op():
    with pytest.raises(TypeError, match="^zeros: bfloat16 is CPU-only for now"):
        _C.zeros([2], "bfloat16", "cuda")
    with pytest.raises(TypeError, match="^full: bfloat16 is CPU-only for now"):
        _C.full([2], "bfloat16", 1.0, "cuda")


def test_bf16_dlpack_round_trip_and_cuda_capsule_refused():
    x = bf([1.0, 2.5])
    back = kcore.backend.tensor.from_dlpack(x)
    assert back.dtype == "bfloat16"
    np.testing.assert_array_equal(back.numpy(), x.numpy())
    import ctypes

    from test_cuda_routing import _DLDataType, _DLDevice, _DLManagedTensor, _DLTensor

    arr = np.ones(2, np.uint16)
    shape = (ctypes.c_int64 * 1)(2)
    managed = _DLManagedTensor()
    managed.dl_tensor = _DLTensor(arr.ctypes.data, _DLDevice(2, 0), 1, _DLDataType(4, 16, 1), shape, None, 0)
    new_capsule = ctypes.pythonapi.PyCapsule_New
    new_capsule.restype = ctypes.py_object
    new_capsule.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]
    with pytest.raises(TypeError, match="^from_dlpack: bfloat16 is CPU-only for now"):
        _C.from_dlpack_capsule(new_capsule(ctypes.addressof(managed), b"dltensor", None))


def test_bad_input_names_the_op():
    x = bf(np.ones((4, 2)))
    with pytest.raises(TypeError, match="take"):
        ops.take(x, bf([0.0, 1.0]))  # float indices, from a tensor: not integers
    with pytest.raises(ValueError, match="packed_matmul"):
        _C.packed_matmul(x.value, x.value)  # the float32-only testing GEMM
    with pytest.raises(ValueError, match="^add: .*broadcast"):
        ops.add(x, bf(np.ones((3, 3))))  # shapes, reported as for float32
    with pytest.raises(ValueError, match="^add: .*broadcast"):
        _C.binary(BinaryOp.add, x.value, bf(np.ones((3, 3))).value)
    with pytest.raises(TypeError, match="unsupported dtype"):
        ops.cast(x, "float16")


def test_dlpack_exchange_with_torch_bfloat16():
    torch = pytest.importorskip("torch")
    x = bf([[0.25, -1.5], [3.0, 1.0 + 2 ** -7]])
    t = torch.from_dlpack(x)
    assert t.dtype == torch.bfloat16
    np.testing.assert_array_equal(t.float().numpy(), x.numpy().astype(np.float32))
    back = kcore.backend.tensor.from_dlpack(torch.tensor([1.5, -2.0], dtype=torch.bfloat16))
    assert back.dtype == "bfloat16"
    np.testing.assert_array_equal(back.numpy().astype(np.float32), [1.5, -2.0])


def test_fit_and_predict_accept_bf16_numpy_data():
    from kcore import layers

    kcore.utils.set_random_seed(0)
    model = kcore.Sequential([layers.Input((4,)), layers.Dense(3, activation="relu"), layers.Dense(2)])
    xb = RNG.random((8, 4)).astype(np.float32).astype(BF16)
    np.testing.assert_array_equal(model.predict(xb, verbose=0), model.predict(xb.astype(np.float32), verbose=0))
    model.compile("sgd", "mse")
    history = model.fit(xb, np.ones((8, 2), np.float32), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    xb[0, 0] = np.nan
    with pytest.warns(RuntimeWarning, match="NaN"):
        model.predict(xb, verbose=0)


def test_factories_initializers_and_one_hot_in_bf16():
    assert ops.zeros((2, 3), dtype="bfloat16").dtype == "bfloat16"
    np.testing.assert_array_equal(ops.ones((2,), dtype="bfloat16").numpy().astype(np.float32), [1.0, 1.0])
    assert ops.zeros_like(bf([1.0, 2.0])).dtype == "bfloat16"
    for init in (kcore.initializers.GlorotUniform(seed=1), kcore.initializers.Orthogonal(seed=1)):
        w = init((4, 4), dtype="bfloat16")
        assert str(w.dtype) == "bfloat16" and np.all(np.isfinite(np.asarray(w).astype(np.float32)))
    hot = ops.one_hot(bf([0.0, 2.0, 5.0]), 3)  # float indices, as Keras: out of range gives zeros
    np.testing.assert_array_equal(hot.numpy(), [[1, 0, 0], [0, 0, 1], [0, 0, 0]])
    hot16 = ops.one_hot(np.array([1, 0]), 2, dtype="bfloat16")
    assert hot16.dtype == "bfloat16"
    np.testing.assert_array_equal(hot16.numpy().astype(np.float32), [[0, 1], [1, 0]])


def test_ops_and_losses_on_bf16_match_keras():
    ref = np.load(os.path.join(os.path.dirname(__file__), "data", "keras3_bfloat16_ops.npz"))
    dtypes = json.loads(str(ref["dtypes"]))
    xb, wb, pb = bf(ref["x"]), bf(ref["w"]), bf(ref["p"])
    y = ref["y"]
    got = {
        "exp": ops.exp(xb), "tanh": ops.tanh(xb), "relu": ops.relu(xb), "sigmoid": ops.sigmoid(xb),
        "gelu": kcore.activations.gelu(xb), "softmax": ops.softmax(xb), "log_softmax": ops.log_softmax(xb),
        "sum": ops.sum(xb, axis=1), "mean": ops.mean(xb), "max": ops.max(xb, axis=0), "matmul": ops.matmul(xb, wb),
        "add_scalar": ops.add(xb, 0.1), "multiply": ops.multiply(xb, xb), "divide": ops.divide(xb, pb),
        "sqrt": ops.sqrt(pb), "mse_fn": kcore.losses.mean_squared_error(y, pb),
        "bce_fn": kcore.losses.binary_crossentropy(y, pb), "mse_loss": kcore.losses.MeanSquaredError()(y, pb),
        "cce_loss": kcore.losses.CategoricalCrossentropy()(y, pb),
    }
    assert set(got) == set(dtypes)
    for name, value in got.items():
        assert value.dtype == dtypes[name], f"{name}: {value.dtype}, Keras gives {dtypes[name]}"
        # kcore rounds once from float32; TensorFlow may round intermediates: allow two bf16 steps
        np.testing.assert_allclose(ops.cast(value, "float32").numpy(), ref[name], rtol=2 ** -7, atol=2 ** -9,
                                   err_msg=name)


def test_layers_run_on_bf16_inputs_in_a_fresh_process():
    """Layers that build NumPy helpers in their input's dtype work on bf16 inputs even when nothing imported
    ml_dtypes before (kcore registers "bfloat16" with NumPy when it meets the dtype)."""
    import subprocess
    import sys

    code = """
import sys
import numpy as np
import kcore
from kcore import layers as L, ops
assert 'ml_dtypes' not in sys.modules
x2 = ops.cast(np.random.rand(2, 6).astype(np.float32), 'bfloat16')
x3 = ops.cast(np.random.rand(2, 6, 3).astype(np.float32), 'bfloat16')
x4 = ops.cast(np.random.rand(2, 6, 6, 3).astype(np.float32), 'bfloat16')
outs = [L.RepeatVector(2)(x2), L.UpSampling2D(2, interpolation='bilinear')(x4), L.MaxPooling2D()(x4),
        L.Attention()([x3, x3], use_causal_mask=True), L.ZeroPadding2D(1)(x4), L.Cropping1D(1)(x3),
        L.BatchNormalization()(x4, training=True), L.LayerNormalization()(x3), L.Conv2D(4, 3)(x4),
        L.GRU(3)(x3), L.Bidirectional(L.LSTM(2))(x3), L.Dot(axes=2)([x3, x3])]
assert all(np.isfinite(ops.cast(o, 'float32').numpy()).all() for o in outs)
print('ok')
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]


@pytest.mark.parametrize("name,fn", [
    ("sum", lambda t: ops.sum(t, axis=1)), ("mean", lambda t: ops.mean(t, axis=0)),
    ("max", lambda t: ops.max(t, axis=1)), ("min", lambda t: ops.min(t)),
    ("softmax", lambda t: ops.softmax(t, axis=-1)),
    ("log_softmax", lambda t: ops.log_softmax(t, axis=0)), ("add", lambda t: ops.add(t, ops.transpose(t))),
    ("tanh", ops.tanh), ("gelu", kcore.activations.gelu), ("divide", lambda t: ops.divide(t, ops.transpose(t))),
    ("power", lambda t: ops.power(ops.abs(t), 0.5))])
def test_native_bf16_kernels_round_the_float32_result_once(name, fn):
    """The bf16 kernels (elementwise, reductions, softmax) compute in float and round once: bit-identical
    to the float32 op on the same values, rounded to bf16."""
    x = RNG.standard_normal((16, 16)).astype(np.float32) * 3
    got = fn(bf(x))
    want = ops.cast(fn(ops.convert_to_tensor(x.astype(BF16).astype(np.float32))), "bfloat16")
    assert got.dtype == "bfloat16"
    np.testing.assert_array_equal(got.numpy().view(np.uint16), want.numpy().view(np.uint16), err_msg=name)
