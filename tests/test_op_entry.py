"""The engine's op entry points (csrc/ops/op_call.h) seen from Python: optional tensors cross the
binding as None both ways, and the checks every device shares run before any kernel."""
import numpy as np
import pytest

from kcore.backend.native import _C


def _t(a, dtype=np.float32):
    return _C.from_numpy(np.ascontiguousarray(a, dtype=dtype))


def test_none_is_an_absent_optional_tensor_argument():
    x, w = np.arange(6.0).reshape(2, 3), np.ones((3, 4))
    y = np.asarray(_C.linear(_t(x), _t(w), None))
    np.testing.assert_allclose(y, x @ w)
    yb = np.asarray(_C.linear(_t(x), _t(w), _t(np.full(4, 0.5))))
    np.testing.assert_allclose(yb, x @ w + 0.5)


def test_absent_optional_results_come_back_as_none():
    x = _t(np.ones((1, 4, 4, 1)))
    k = _t(np.ones((2, 2, 1, 1)))
    g = _t(np.ones((1, 3, 3, 1)))
    gx, gk, gb = _C.conv_backward(x, k, g, [1, 1], [1, 1], [0, 0], [0, 0], False, True, False)
    assert gx is None and gb is None
    np.testing.assert_allclose(np.asarray(gk), np.full((2, 2, 1, 1), 9.0))
    y, argmax = _C.pool(x, _C.PoolMode.average, [2, 2], [2, 2], [0, 0], [0, 0])
    assert argmax is None and np.asarray(y).shape == (1, 2, 2, 1)
    y, argmax = _C.pool(x, _C.PoolMode.max, [2, 2], [2, 2], [0, 0], [0, 0])
    assert argmax is not None and np.asarray(argmax).dtype == np.int32


def test_optional_optimizer_slots_accept_none_and_required_ones_are_checked():
    w, g = _t(np.ones(3)), _t(np.full(3, 2.0))
    _C.sgd_update(w, g, None, 0.5, 0.0, False)
    np.testing.assert_allclose(np.asarray(w), np.zeros(3))
    m = _t(np.zeros(3))
    _C.rmsprop_update(w, g, m, None, None, 0.1, 0.9, 0.0, 1e-7)
    with pytest.raises(ValueError, match=r"^sgd: momentum of shape \(2,\) does not match variable of shape \(3,\)"):
        _C.sgd_update(w, g, _t(np.zeros(2)), 0.1, 0.9, False)


def test_unary_backward_checks_operand_dtypes_on_every_device():
    x = _t(np.ones(3))
    with pytest.raises(TypeError, match="^unary backward: dtype mismatch, float32 vs float64"):
        _C.unary_backward(_C.UnaryOp.exp, x, x, _t(np.ones(3), np.float64), 0.0)


def test_composite_ops_route_and_name_themselves():
    # reduce_backward / matmul_backward / sum_to_shape are built from other ops in their entry point
    x = np.array([[1.0, 3.0, 3.0], [2.0, 0.0, 2.0]])
    y = _C.reduce(_C.ReduceOp.max, _t(x), [1], False)
    g = np.asarray(_C.reduce_backward(_C.ReduceOp.max, _t(x), y, _t(np.ones(2)), [1], False))
    np.testing.assert_allclose(g, [[0, 0.5, 0.5], [0.5, 0, 0.5]])
    np.testing.assert_allclose(np.asarray(_C.sum_to_shape(_t(np.ones((2, 3))), [1, 3])), [[2, 2, 2]])
    with pytest.raises(ValueError, match="^sum_to_shape: cannot reduce"):
        _C.sum_to_shape(_t(np.ones(3)), [2, 3])


def test_a_wrong_optional_tensor_is_a_readable_type_error():
    x, w = _t(np.ones((2, 3))), _t(np.ones((3, 4)))
    native_or_none = r"must be a native kcore tensor or None"
    with pytest.raises(TypeError, match=r"^linear: argument 3 \('arg2'\) " + native_or_none + ", got str"):
        _C.linear(x, w, "bad")
    with pytest.raises(TypeError, match=r"^pool_backward: argument 2 \('argmax'\) " + native_or_none):
        _C.pool_backward(x, "no", [1, 3], _C.PoolMode.max, [1], [1], [0], [0])


def test_only_a_kernel_table_capsule_registers_as_the_cuda_table():
    import ctypes

    new_capsule = ctypes.pythonapi.PyCapsule_New
    new_capsule.restype = ctypes.py_object
    new_capsule.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]
    buf = ctypes.create_string_buffer(64)
    with pytest.raises(ValueError, match="expected a kcore.KernelTable capsule"):
        _C._register_cuda_ops(new_capsule(ctypes.addressof(buf), b"kcore.DeviceOps", None))
