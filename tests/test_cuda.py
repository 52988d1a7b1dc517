"""The CUDA backend.

Two groups: tests that run everywhere (availability reporting, device selection errors, DLPack on
the CPU; the device routing and its errors are in test_cuda_routing.py) and GPU tests that compare every
CUDA op and gradient with the CPU engine; the GPU tests skip cleanly when
kcore.cuda.is_available() is False (no extension, driver or GPU). Convolution, pooling, the
recurrent ops and the GPU-vs-CPU training runs are in test_cuda_nn.py.
"""
import os
import subprocess
import sys

import numpy as np
import pytest
from cuda_helpers import HAS_CUDA, _cpu, _gpu, _host, gpu, randn, rng, same

import kcore
from kcore import ops
from kcore.backend.native import _C, BinaryOp, ErrorKind, ReduceOp, UnaryOp


def _python(code, env=None):
    """Runs `code` in a fresh interpreter that imports the same kcore as this test run."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(kcore.__file__)))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env,
                          cwd=root)


def _has_extension():
    try:
        from kcore import _C_cuda  # noqa: F401
    except ImportError:
        return False
    return True


# ---------------------------------------------------------------------------------------
# Runs everywhere
# ---------------------------------------------------------------------------------------


def test_availability_is_reported_with_a_reason():
    ok, reason = kcore.cuda.availability()
    assert ok == HAS_CUDA
    if not ok:
        assert isinstance(reason, str) and len(reason) > 10
        assert kcore.cuda.device_count() == 0
    else:
        assert reason is None and kcore.cuda.device_count() >= 1


@pytest.mark.skipif(HAS_CUDA, reason="checks the error when CUDA is missing")
def test_set_device_cuda_raises_a_clear_error_and_keeps_cpu():
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        kcore.set_device("cuda")
    assert kcore.get_device() == "cpu"
    x = kcore.convert_to_tensor(np.ones(3, np.float32))
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        x.to("cuda")
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        kcore.cuda.memory_stats()


def test_unknown_device_names_are_rejected():
    with pytest.raises(ValueError, match="unknown device"):
        kcore.set_device("tpu")
    with pytest.raises(ValueError, match="unknown device"):
        _C.zeros([2], "float32", "tpu")


def test_import_kcore_does_not_load_the_cuda_extension():
    code = "import sys, kcore; kcore.ops.add(1.0, 2.0); print('kcore._C_cuda' in sys.modules)"
    out = _python(code)
    assert out.stdout.strip() == "False"


@pytest.mark.skipif(HAS_CUDA, reason="checks the error when CUDA is missing")
def test_kcore_device_environment_variable():
    env = dict(os.environ, KCORE_DEVICE="cuda")
    code = ("import kcore\ntry:\n    kcore.get_device()\nexcept RuntimeError as e:\n    print('refused:', e)")
    out = _python(code, env)
    assert out.stdout.startswith("refused: CUDA is not available")
    env["KCORE_DEVICE"] = "cpu"
    code = "import kcore; print(kcore.get_device())"
    out = _python(code, env)
    assert out.stdout.strip() == "cpu"


def test_cpu_to_is_identity():
    x = kcore.convert_to_tensor(np.arange(4, dtype=np.float32))
    assert x.to("cpu") is x
    assert x.device == "cpu"


# -- DLPack on the CPU ----------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64"])
def test_dlpack_to_numpy_is_zero_copy(dtype):
    a = np.arange(12).reshape(3, 4).astype(dtype)
    t = kcore.convert_to_tensor(a)
    assert t.__dlpack_device__() == (1, 0)
    b = np.from_dlpack(t)
    assert b.dtype == a.dtype and np.shares_memory(a, b)
    np.testing.assert_array_equal(b, a)


def test_dlpack_from_numpy_is_zero_copy_and_keeps_the_producer_alive():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    ptr = a.ctypes.data
    t = kcore.from_dlpack(a)
    assert t.value.data_ptr() == ptr and t.device == "cpu"
    del a
    import gc

    gc.collect()
    np.testing.assert_array_equal(t.numpy(), np.arange(6, dtype=np.float32).reshape(2, 3))


def test_dlpack_from_a_strided_numpy_view():
    a = np.arange(12, dtype=np.float64).reshape(3, 4)
    t = kcore.from_dlpack(a.T)
    assert t.shape == (4, 3)
    np.testing.assert_array_equal(t.numpy(), a.T)
    np.testing.assert_allclose(ops.sum(t, axis=0).numpy(), a.T.sum(axis=0))


def test_dlpack_round_trip_through_kcore_ops():
    a = rng.standard_normal((5, 3)).astype(np.float32)
    t = kcore.from_dlpack(a)
    y = np.from_dlpack(ops.multiply(t, 2.0))
    np.testing.assert_allclose(y, 2 * a)


def test_dlpack_rejects_a_consumed_capsule():
    cap = np.arange(3.0).__dlpack__()
    _C.from_dlpack_capsule(cap)
    with pytest.raises(ValueError, match="unconsumed"):
        _C.from_dlpack_capsule(cap)


# ---------------------------------------------------------------------------------------
# GPU: every op against the CPU engine
# ---------------------------------------------------------------------------------------


@gpu
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("op", list(BinaryOp.__members__.values()))
def test_binary_and_backward(op, dtype):
    a, b = randn(3, 1, 4, dtype=dtype), randn(2, 4, dtype=dtype)
    if op == BinaryOp.power:
        a = np.abs(a) + 0.5
    if op == BinaryOp.divide:
        b = np.abs(b) + 0.5
    g = randn(3, 2, 4, dtype=dtype)
    same(lambda x, y: _C.binary(op, x, y), a, b)
    same(lambda x, y, gg: _C.binary_backward(op, x, y, gg, True, True), a, b, g, rtol=1e-4)


@gpu
@pytest.mark.parametrize("op", list(UnaryOp.__members__.values()))
def test_unary_and_backward(op):
    x = randn(4, 33)
    if op in (UnaryOp.log, UnaryOp.sqrt, UnaryOp.reciprocal):
        x = np.abs(x) + 0.1
    alpha = 0.3
    same(lambda t: _C.unary(op, t, alpha), x, rtol=2e-5)
    y = np.asarray(_C.unary(op, _cpu(x), alpha))
    g = randn(4, 33)
    same(lambda t, yy, gg: _C.unary_backward(op, t, yy, gg, alpha), x, y, g, rtol=2e-5)


@gpu
def test_clip_scale_broadcast_sum_to_shape_nonfinite():
    x = randn(5, 6)
    same(lambda t: _C.clip(t, -0.5, 0.5), x)
    same(lambda t, g: _C.clip_backward(t, g, -0.5, 0.5), x, randn(5, 6))
    same(lambda t: _C.scale(t, 3.0), x)
    same(lambda t: _C.broadcast_to(t, [4, 5, 6]), x)
    same(lambda t: _C.sum_to_shape(t, [1, 6]), x)
    same(lambda t: _C.sum_to_shape(t, [6]), x)
    assert _C.has_nonfinite(_gpu(x)) is False
    x[2, 3] = np.inf
    assert _C.has_nonfinite(_gpu(x)) is True


@gpu
@pytest.mark.parametrize("op", list(ReduceOp.__members__.values()))
@pytest.mark.parametrize("axes,keep", [([], False), ([1], False), ([0, 2], True), ([-1], True)])
def test_reduce_and_backward(op, axes, keep):
    x = randn(3, 4, 5)
    same(lambda t: _C.reduce(op, t, axes, keep), x)
    y = _C.reduce(op, _cpu(x), axes, keep)
    g = randn(*y.shape)
    same(lambda t, yy, gg: _C.reduce_backward(op, t, yy, gg, axes, keep), x, np.asarray(y), g)


@gpu
def test_reduce_max_with_ties_and_nan():
    x = np.array([[1, 3, 3], [np.nan, 1, 2]], np.float32)
    same(lambda t: _C.reduce(ReduceOp.max, t, [1], False), x)
    y = np.asarray(_C.reduce(ReduceOp.max, _cpu(x), [1], False))
    same(lambda t, yy, gg: _C.reduce_backward(ReduceOp.max, t, yy, gg, [1], False), x, y, np.ones(2, np.float32))


@gpu
@pytest.mark.parametrize("axis", [-1, 1, 0])
@pytest.mark.parametrize("log", [False, True])
def test_softmax_and_backward(axis, log):
    x = randn(4, 7, 3) * 5
    same(lambda t: _C.softmax(t, axis, log), x)
    y = np.asarray(_C.softmax(_cpu(x), axis, log))
    same(lambda yy, gg: _C.softmax_backward(yy, gg, axis, log), y, randn(4, 7, 3))
    same(lambda t: _C.argmax(t, axis, False), x)


@gpu
@pytest.mark.parametrize("log", [False, True])
def test_softmax_rows_with_nan_and_infinities(log):
    x = np.array([[1, 2, -np.inf, 0.5], [np.inf, 1, 2, 0], [-np.inf] * 4, [np.nan, 1, 0, 0]], np.float32)
    same(lambda t: _C.softmax(t, -1, log), x)


@gpu
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64, np.bool_])
@pytest.mark.parametrize("op", list(_C.CompareOp.__members__.values()))
def test_compare_and_where(op, dtype):
    a = (randn(3, 1, 4) * 2).astype(dtype)
    b = (randn(2, 4) * 2).astype(dtype)
    want = np.asarray(_C.compare(op, _cpu(a), _cpu(b)))
    got = _host(_C.compare(op, _gpu(a), _gpu(b)))
    assert got.dtype == np.bool_ and np.array_equal(got, want)
    cond = want
    x, y = randn(3, 2, 4).astype(dtype), randn(4).astype(dtype)
    want_w = np.asarray(_C.where(_cpu(cond), _cpu(x), _cpu(y)))
    got_w = _host(_C.where(_gpu(cond), _gpu(x), _gpu(y)))
    assert got_w.dtype == want_w.dtype and np.array_equal(got_w, want_w)
    assert np.array_equal(_host(_gpu(cond).astype("float32")), cond.astype(np.float32))


@gpu
@pytest.mark.parametrize("shapes", [((7, 5), (5, 3)), ((2, 7, 5), (5, 3)), ((2, 1, 7, 5), (3, 5, 4)),
                                    ((4, 7, 5), (4, 5, 3)), ((4, 7, 5), (1, 5, 3)), ((2, 3, 7, 5), (2, 3, 5, 4)),
                                    ((4, 0), (0, 3))])
def test_matmul_and_backward(shapes):
    a, b = randn(*shapes[0]), randn(*shapes[1])
    same(_C.matmul, a, b, rtol=1e-4, atol=1e-5)
    out = np.asarray(_C.matmul(_cpu(a), _cpu(b)))
    g = randn(*out.shape)
    same(lambda x, y, gg: _C.matmul_backward(x, y, gg, True, True), a, b, g, rtol=1e-4, atol=1e-5)


@gpu
def test_matmul_reads_transposed_views():
    a, b = randn(5, 7), randn(5, 3)
    same(lambda x, y: _C.matmul(_C.transpose(x, [1, 0]), y), a, b, rtol=1e-4, atol=1e-5)


@gpu
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_linear_and_backward(dtype):
    x, w, b = randn(6, 5, dtype=dtype), randn(5, 4, dtype=dtype), randn(4, dtype=dtype)
    same(_C.linear, x, w, b, rtol=1e-4, atol=1e-5)
    same(lambda xx, ww: _C.linear(xx, ww, None), x, w, rtol=1e-4, atol=1e-5)
    g = randn(6, 4, dtype=dtype)
    same(lambda xx, ww, gg: _C.linear_backward(xx, ww, gg, True, True), x, w, g, rtol=1e-4, atol=1e-5)
    same(_C.sum_rows, g)


@gpu
def test_tf32_is_opt_in():
    assert kcore.cuda.allow_tf32() is False
    a, b = randn(64, 256), randn(256, 32)
    kcore.cuda.set_allow_tf32(True)
    try:
        got = _host(_C.matmul(_gpu(a), _gpu(b)))
    finally:
        kcore.cuda.set_allow_tf32(False)
    np.testing.assert_allclose(got, a @ b, rtol=2e-2, atol=2e-2)


@gpu
def test_losses_and_backward():
    logits, y = randn(8, 5), rng.dirichlet(np.ones(5), 8).astype(np.float32)
    g = randn(8)
    same(_C.softmax_cross_entropy, logits, y)
    same(_C.softmax_cross_entropy_backward, logits, y, g)
    labels = rng.integers(0, 5, 8)
    same(_C.sparse_softmax_cross_entropy, logits, labels)
    same(_C.sparse_softmax_cross_entropy_backward, logits, labels, g)
    bin_y = (rng.random((8, 5)) > 0.5).astype(np.float32)
    same(_C.sigmoid_cross_entropy, logits, bin_y)
    same(_C.sigmoid_cross_entropy_backward, logits, bin_y, randn(8, 5))
    for kind in (ErrorKind.squared, ErrorKind.absolute):
        same(lambda p, t: _C.mean_error(kind, p, t), logits, y)  # noqa: B023 (run in this iteration)
        same(lambda p, t, gg: _C.mean_error_backward(kind, p, t, gg), logits, y, g)  # noqa: B023 (run in this iteration)


@gpu
def test_sparse_labels_out_of_range_raise():
    with pytest.raises(ValueError, match="out of range"):
        _C.sparse_softmax_cross_entropy(_gpu(randn(2, 3)), _gpu(np.array([0, 3])))


@gpu
@pytest.mark.parametrize("axis", [-1, 1])
def test_batch_norm(axis):
    x = randn(6, 4, 5) * 2 + 1
    c = x.shape[axis]
    gamma, beta = randn(c), randn(c)
    same(lambda t, ga, be: _C.batch_norm_train(t, ga, be, axis, 1e-3), x, gamma, beta, rtol=1e-4, atol=1e-5)
    _, mean, var = _C.batch_norm_train(_cpu(x), _cpu(gamma), _cpu(beta), axis, 1e-3)
    mean, var = np.asarray(mean), np.asarray(var)
    same(lambda t, ga, be, m, v: _C.batch_norm_infer(t, ga, be, m, v, axis, 1e-3), x, gamma, beta, mean, var)
    g = randn(6, 4, 5)
    for training in (True, False):
        same(lambda t, ga, m, v, gg: _C.batch_norm_backward(t, ga, m, v, gg, axis, 1e-3, training),  # noqa: B023 (run in this iteration)
             x, gamma, mean, var, g, rtol=1e-4, atol=1e-5)


@gpu
def test_layer_norm():
    x, gamma, beta = randn(6, 10), randn(10), randn(10)
    same(lambda t, ga, be: _C.layer_norm(t, ga, be, 10, 1e-3), x, gamma, beta, rtol=1e-4, atol=1e-5)
    _, mean, inv = _C.layer_norm(_cpu(x), _cpu(gamma), _cpu(beta), 10, 1e-3)
    same(lambda t, ga, m, iv, gg: _C.layer_norm_backward(t, ga, m, iv, gg, 10), x, gamma, np.asarray(mean),
         np.asarray(inv), randn(6, 10), rtol=1e-4, atol=1e-5)


def _update_both(fn, n_slots, **kw):
    """Runs an in-place optimizer update on CPU and CUDA copies; compares weights and slots."""
    w, g = randn(37), randn(37)
    slots = [np.abs(randn(37)) for _ in range(n_slots)]
    cpu = [_cpu(w.copy()), _cpu(g)] + [_cpu(s.copy()) for s in slots]
    dev = [_gpu(w), _gpu(g)] + [_gpu(s) for s in slots]
    for _ in range(3):
        fn(*cpu)
        fn(*dev)
    for c, d in zip(cpu, dev):
        np.testing.assert_allclose(_host(d), np.asarray(c), rtol=1e-5, atol=1e-6)


@gpu
def test_optimizer_updates():
    _update_both(lambda w, g, m: _C.sgd_update(w, g, m, 0.1, 0.9, True), 1)
    _update_both(lambda w, g: _C.sgd_update(w, g, None, 0.1, 0.0, False), 0)
    _update_both(lambda w, g, m, v: _C.adam_update(w, g, m, v, None, 1e-2, 0.9, 0.999, 1e-7, 3), 2)
    _update_both(lambda w, g, m, v, h: _C.adam_update(w, g, m, v, h, 1e-2, 0.9, 0.999, 1e-7, 3), 3)
    _update_both(lambda w, g, v, a, mo: _C.rmsprop_update(w, g, v, a, mo, 1e-2, 0.9, 0.5, 1e-7), 3)
    _update_both(lambda w, g, v: _C.rmsprop_update(w, g, v, None, None, 1e-2, 0.9, 0.0, 1e-7), 1)
    _update_both(lambda w, g, a: _C.adagrad_update(w, g, a, 1e-2, 1e-7), 1)
    _update_both(lambda w, g, e, d: _C.adadelta_update(w, g, e, d, 1.0, 0.95, 1e-7), 2)
    _update_both(lambda w, g, m, v: _C.nadam_update(w, g, m, v, 1e-2, 0.9, 0.999, 1e-7, 0.5, 0.4, 0.9), 2)
    _update_both(lambda w, g, m, u: _C.adamax_update(w, g, m, u, 1e-2, 0.9, 0.999, 1e-7, 2), 2)


@gpu
def test_random_draws_are_bit_identical_to_the_cpu():
    like_cpu, like_gpu = _cpu(np.zeros(1, np.float32)), _gpu(np.zeros(1, np.float32))
    a = np.asarray(_C.dropout_mask([33, 17], 0.3, 1234, like_cpu))
    b = _host(_C.dropout_mask([33, 17], 0.3, 1234, like_gpu))
    np.testing.assert_array_equal(a, b)
    a = np.asarray(_C.random_uniform([1000], -2.0, 3.0, 99, like_cpu))
    b = _host(_C.random_uniform([1000], -2.0, 3.0, 99, like_gpu))
    np.testing.assert_array_equal(a, b)


@gpu
def test_shape_ops():
    a, b = randn(2, 3, 4), randn(2, 5, 4)
    same(lambda x, y: _C.concatenate([x, y], 1), a, b)
    g = randn(2, 2, 2)
    same(lambda gg: _C.slice_backward(gg, [2, 5, 4], [0, 1, 0], [1, 2, 2]), g)
    table, idx = randn(10, 3), rng.integers(0, 10, (4, 6))
    same(_C.take_rows, table, idx)
    same(lambda gg, i: _C.take_rows_backward(gg, i, 10), randn(4, 6, 3), idx, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="out of range"):
        _C.take_rows(_gpu(table), _gpu(np.array([10])))
    same(lambda x: _C.reshape(_C.transpose(x, [2, 0, 1]), [4, -1]), a)


@gpu
def test_transfers_astype_and_factories():
    a = randn(3, 4, 5)
    strided = _C.transpose(_cpu(a), [2, 0, 1])
    on_gpu = _C.to_device(strided, "cuda")
    np.testing.assert_array_equal(_host(on_gpu), a.transpose(2, 0, 1))
    back = _C.to_device(_C.transpose(_gpu(a), [1, 2, 0]), "cpu")
    np.testing.assert_array_equal(np.asarray(back), a.transpose(1, 2, 0))
    np.testing.assert_array_equal(_host(_gpu(a).astype("float64")), a.astype(np.float64))
    np.testing.assert_array_equal(_host(_C.full([2, 3], "int64", 7.0, "cuda")), np.full((2, 3), 7))
    np.testing.assert_array_equal(_host(_C.zeros([4], "float32", "cuda")), np.zeros(4, np.float32))
    t = _gpu(a)
    t.copy_from(_cpu(a * 2))
    np.testing.assert_array_equal(_host(t), a * 2)


@gpu
def test_memory_stats_and_cache():
    kcore.cuda.empty_cache()
    before = kcore.cuda.memory_stats()["allocated_bytes"]
    t = _C.zeros([1 << 20], "float32", "cuda")
    stats = kcore.cuda.memory_stats()
    assert stats["allocated_bytes"] >= before + 4 * (1 << 20)
    assert stats["peak_allocated_bytes"] >= stats["allocated_bytes"]
    del t
    assert kcore.cuda.memory_stats()["allocated_bytes"] == before
    mallocs = kcore.cuda.memory_stats()["num_cuda_mallocs"]
    _C.zeros([1 << 20], "float32", "cuda")  # served from the cache
    assert kcore.cuda.memory_stats()["num_cuda_mallocs"] == mallocs


@gpu
def test_dlpack_on_cuda_is_zero_copy():
    x = kcore.convert_to_tensor(randn(3, 4)).to("cuda")
    assert x.__dlpack_device__() == (2, 0)
    y = kcore.from_dlpack(x)
    assert y.value.data_ptr() == x.value.data_ptr() and y.device == "cuda"
    np.testing.assert_array_equal(y.numpy(), x.numpy())


@gpu
def test_tensor_to_is_differentiable():
    x = kcore.Variable(randn(3, 4), name="x")
    with kcore.GradientTape() as tape:
        y = ops.sum(ops.square(x.to("cuda")))
    (g,) = tape.gradient(y, [x])
    assert g.device == "cpu"  # the gradient comes back to the variable's device
    np.testing.assert_allclose(g.numpy(), 2 * x.numpy(), rtol=1e-5)
