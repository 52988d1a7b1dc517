"""The native tensor, autodiff machinery and the error contract of native entry points."""
import gc
import weakref

import numpy as np
import pytest

import kcore
from kcore import ops
from kcore.backend.native import _C


def test_numpy_round_trip_shares_memory():
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    t = kcore.convert_to_tensor(a)
    assert t.value.data_ptr() == a.ctypes.data  # no copy in
    back = t.numpy()
    assert np.shares_memory(back, a)  # no copy out
    assert t.shape == (3, 4) and t.dtype == "float32"


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64"])
def test_dtypes_round_trip(dtype):
    a = np.arange(6).reshape(2, 3).astype(dtype)
    t = kcore.convert_to_tensor(a)
    assert t.dtype == dtype
    np.testing.assert_array_equal(t.numpy(), a)


def test_native_allocations_are_64_byte_aligned():
    for n in (1, 3, 17, 1000):
        assert _C.empty([n], "float32").data_ptr() % 64 == 0


def test_transpose_is_a_view_and_matmul_reads_it_without_copy():
    a = kcore.convert_to_tensor(np.random.rand(5, 3).astype(np.float32))
    t = ops.transpose(a)
    assert t.value.shares_memory(a.value) and not t.value.is_contiguous()
    b = np.random.rand(5, 4).astype(np.float32)
    np.testing.assert_allclose(ops.matmul(t, b).numpy(), a.numpy().T @ b, rtol=1e-5)


def test_zero_dim_and_empty_tensors():
    s = ops.add(np.float32(2.0), 3.0)
    assert s.shape == () and float(s) == 5.0
    e = ops.add(np.zeros((0, 3), np.float32), np.ones(3, np.float32))
    assert e.shape == (0, 3)
    assert ops.sum(np.zeros((0, 3), np.float32)).numpy() == 0.0
    with pytest.raises(ValueError, match="zero-size"):
        ops.max(np.zeros((0, 3), np.float32))


def test_dtype_errors_are_type_errors():
    with pytest.raises(TypeError):
        _C.binary(_C.BinaryOp.add, _C.zeros([2], "int32"), _C.zeros([2], "int32"))
    with pytest.raises(TypeError, match="dtype mismatch"):
        _C.binary(_C.BinaryOp.add, _C.zeros([2], "float32"), _C.zeros([2], "float64"))
    with pytest.raises(TypeError):
        kcore.convert_to_tensor(np.array(["a", "b"]))
    with pytest.raises(TypeError):
        kcore.convert_to_tensor(np.array([object()]))


def test_out_of_range_labels_and_indices_raise():
    with pytest.raises(ValueError, match="out of range"):
        ops.sparse_softmax_cross_entropy(np.zeros((2, 3), np.float32), np.array([0, 3]))
    with pytest.raises(ValueError, match="out of range"):
        ops.take(np.zeros((4, 2), np.float32), np.array([4]))


def test_mixed_float_precisions_promote_to_float64():
    out = ops.add(kcore.convert_to_tensor(np.ones(2, np.float32)), kcore.convert_to_tensor(np.ones(2)))
    assert out.dtype == "float64"


def test_gradient_tape_diamond_graph_accumulates():
    x = kcore.Variable(np.array([1.5, -2.0]), dtype="float64")
    with kcore.GradientTape() as tape:
        y = ops.add(ops.multiply(x, x), ops.multiply(x, 3.0))  # x^2 + 3x, x used three times
        z = ops.sum(ops.multiply(y, y))
    (g,) = tape.gradient(z, [x])
    xv = np.array([1.5, -2.0])
    np.testing.assert_allclose(g.numpy(), 2 * (xv**2 + 3 * xv) * (2 * xv + 3))


def test_gradient_tape_watch_persistent_and_unconnected():
    x = kcore.convert_to_tensor(np.array([2.0, 3.0]))
    other = kcore.Variable(np.zeros(2), dtype="float64")
    with kcore.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = ops.sum(ops.exp(x))
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), np.exp([2.0, 3.0]))
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), np.exp([2.0, 3.0]))
    assert tape.gradient(y, [other])[0] is None
    assert tape.gradient(y, [other], unconnected_gradients="zero")[0].numpy().tolist() == [0.0, 0.0]


def test_non_persistent_tape_refuses_second_use():
    x = kcore.Variable(np.ones(2))
    with kcore.GradientTape() as tape:
        y = ops.sum(x)
    tape.gradient(y, x)
    with pytest.raises(RuntimeError, match="persistent"):
        tape.gradient(y, x)


def test_nothing_is_recorded_outside_a_tape():
    w = kcore.Variable(np.ones((3, 2)))
    y = ops.matmul(np.ones((4, 3), np.float32), w)
    assert y.node is None and not y.requires_grad


def test_graph_is_released_after_gradient():
    w = kcore.Variable(np.ones((3, 2)))
    with kcore.GradientTape() as tape:
        h = ops.tanh(ops.matmul(np.ones((4, 3), np.float32), w))
        loss = ops.sum(h)
    ref = weakref.ref(h)
    tape.gradient(loss, [w])
    del h, loss, tape
    gc.collect()
    assert ref() is None


def test_set_num_threads_governs_the_engine():
    old = kcore.get_num_threads()
    kcore.set_num_threads(1)
    assert kcore.get_num_threads() == 1
    a = np.random.rand(64, 64).astype(np.float32)
    np.testing.assert_allclose(ops.matmul(a, a).numpy(), a @ a, rtol=1e-4)
    kcore.set_num_threads(old)
    with pytest.raises(ValueError):
        kcore.set_num_threads(0)


def test_kernels_flush_denormals():
    tiny = np.full(4, 1e-39, dtype=np.float32)  # a float32 denormal
    assert tiny[0] != 0
    out = ops.multiply(tiny, 1.0).numpy()
    assert np.all(out == 0.0)  # DAZ: the denormal input reads as zero
    assert np.all(np.full(4, 1e-39, dtype=np.float32) * np.float32(1.0) != 0)  # NumPy's thread mode untouched


def test_softmax_is_stable_for_large_logits():
    x = np.array([[1000.0, 1000.0, -1000.0]], np.float32)
    np.testing.assert_allclose(ops.softmax(x).numpy(), [[0.5, 0.5, 0.0]])
    np.testing.assert_allclose(ops.log_softmax(x).numpy()[0, :2], [np.log(0.5)] * 2, rtol=1e-6)


def test_dropout_mask_is_seeded_and_scaled():
    x = np.ones((200, 50), np.float32)
    a = ops.dropout(x, 0.5, seed=9).numpy()
    b = ops.dropout(x, 0.5, seed=9).numpy()
    np.testing.assert_array_equal(a, b)
    assert set(np.unique(a)) == {0.0, 2.0}
    assert abs((a == 0).mean() - 0.5) < 0.03


def test_large_buffers_are_reused_not_refaulted():
    a = _C.empty([1 << 20], "float32")  # 4 MiB: served by the host block cache
    address = a.data_ptr()
    del a
    b = _C.empty([1 << 20], "float32")
    assert b.data_ptr() == address and b.data_ptr() % 64 == 0
    small = _C.empty([16], "float32")
    assert small.data_ptr() % 64 == 0


def test_fast_float32_math_is_accurate():
    x = np.linspace(-20, 20, 4001).astype(np.float32)
    for op, ref in ((ops.tanh, np.tanh), (ops.sigmoid, lambda v: 1 / (1 + np.exp(-v))), (ops.exp, np.exp)):
        got = op(x).numpy().astype(np.float64)
        want = ref(x.astype(np.float64))
        assert np.max(np.abs(got - want) / np.maximum(np.abs(want), 1e-30)) < 5e-7
    assert np.isinf(ops.exp(np.float32([100.0])).numpy()[0]) and np.isnan(ops.tanh(np.float32([np.nan])).numpy()[0])
    np.testing.assert_allclose(ops.tanh(np.float32([1e-6, -3e-4])).numpy(), np.tanh([1e-6, -3e-4]), rtol=1e-6)
