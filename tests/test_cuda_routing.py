"""Device routing without a GPU: a DLPack tensor that claims to live on cuda exercises every op's routing and
its errors (extension not loaded, mixed devices), one row per op, plus the error translation of the CUDA
extension when it is built. The GPU op tests are in test_cuda.py and test_cuda_nn.py."""
import ctypes

import numpy as np
import pytest
from cuda_helpers import HAS_CUDA

import kcore
from kcore.backend.native import _C, BinaryOp, ErrorKind, ReduceOp, UnaryOp


def _has_extension():
    try:
        from kcore import _C_cuda  # noqa: F401
    except ImportError:
        return False
    return True


# -- Device routing, checked with a tensor that claims to live on cuda ------------------
# A DLPack capsule with device type kDLCUDA over host memory gives a native tensor whose
# storage says "cuda" without any GPU: enough to exercise the routing and its errors (no
# kernel ever touches it).


class _DLDevice(ctypes.Structure):
    _fields_ = [("device_type", ctypes.c_int32), ("device_id", ctypes.c_int32)]


class _DLDataType(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint8), ("bits", ctypes.c_uint8), ("lanes", ctypes.c_uint16)]


class _DLTensor(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("device", _DLDevice), ("ndim", ctypes.c_int32),
                ("dtype", _DLDataType), ("shape", ctypes.POINTER(ctypes.c_int64)),
                ("strides", ctypes.POINTER(ctypes.c_int64)), ("byte_offset", ctypes.c_uint64)]


class _DLManagedTensor(ctypes.Structure):
    _fields_ = [("dl_tensor", _DLTensor), ("manager_ctx", ctypes.c_void_p), ("deleter", ctypes.c_void_p)]


_keep_alive = []


def _tensor_claiming_cuda(array, device_id=0, dtype=np.float32):
    array = np.ascontiguousarray(array, dtype=dtype)
    shape = (ctypes.c_int64 * array.ndim)(*array.shape)
    managed = _DLManagedTensor()
    code = 2 if array.dtype.kind == "f" else 0
    managed.dl_tensor = _DLTensor(array.ctypes.data, _DLDevice(2, device_id), array.ndim,
                                  _DLDataType(code, array.dtype.itemsize * 8, 1), shape, None, 0)
    _keep_alive.append((array, shape, managed))
    new_capsule = ctypes.pythonapi.PyCapsule_New
    new_capsule.restype = ctypes.py_object
    new_capsule.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]
    return _C.from_dlpack_capsule(new_capsule(ctypes.addressof(managed), b"dltensor", None))


@pytest.fixture
def unregistered():
    if HAS_CUDA:
        pytest.skip("needs the CUDA kernels unregistered")
    _C._unregister_cuda_ops()
    yield


def test_cuda_tensor_without_extension_raises_naming_the_op(unregistered):
    t = _tensor_claiming_cuda(np.ones((2, 3)))
    assert t.device == "cuda"
    with pytest.raises(RuntimeError, match="binary: tensor is on cuda but the CUDA extension is not loaded"):
        _C.binary(BinaryOp.add, t, t)
    with pytest.raises(RuntimeError, match="softmax: tensor is on cuda but the CUDA extension is not loaded"):
        _C.softmax(t, -1, False)
    with pytest.raises(RuntimeError, match="the CUDA extension is not loaded"):
        _C.zeros([2], "float32", "cuda")


def test_mixed_devices_raise_value_error_naming_the_op(unregistered):
    t = _tensor_claiming_cuda(np.ones((2, 3)))
    c = _C.from_numpy(np.ones((2, 3), np.float32))
    with pytest.raises(ValueError, match=r"binary: operands are on different devices \(cpu and cuda\)"):
        _C.binary(BinaryOp.add, c, t)
    w = _C.from_numpy(np.ones((3, 4), np.float32))
    with pytest.raises(ValueError, match="linear: operands are on different devices"):
        _C.linear(t, w, None)
    with pytest.raises(ValueError, match="concatenate: operands are on different devices"):
        _C.concatenate([c, t], 0)
    with pytest.raises(ValueError, match="conv_forward: operands are on different devices"):
        _C.conv(_tensor_claiming_cuda(np.ones((1, 4, 4, 1))), _C.from_numpy(np.ones((2, 2, 1, 1), np.float32)), None,
                [1, 1], [1, 1], [0, 0], [0, 0])


def test_cuda_tensor_has_no_host_buffer(unregistered):
    t = _tensor_claiming_cuda(np.ones(3))
    with pytest.raises(BufferError):  # pybind11 drops the message ("no host buffer: .to('cpu') first")
        memoryview(t)
    with pytest.raises(RuntimeError, match="copy: tensor is on cuda but the CUDA extension is not loaded"):
        kcore.Tensor(t).numpy()


def test_dlpack_device_other_than_zero_is_rejected():
    with pytest.raises(ValueError, match="device 0"):
        _tensor_claiming_cuda(np.ones(3), device_id=1)


# -- Every tensor-taking binding routes by device: one row per op --------------------------
# Each op's entry point (csrc/ops/op_call.h) routes itself, so this is checked by calling every
# op, not by reading the C++: row = (binding, the op name its errors carry, call(first, other))
# where `first` makes the first tensor argument and `other` every other one.


def _routing_rows():
    i32, i64 = np.int32, np.int64
    return [
        ("binary", "binary", lambda f, o: _C.binary(BinaryOp.add, f((2, 3)), o((2, 3)))),
        ("binary_backward", "binary_backward",
         lambda f, o: _C.binary_backward(BinaryOp.add, f((2, 3)), o((2, 3)), o((2, 3)), True, True)),
        ("unary", "unary", lambda f, o: _C.unary(UnaryOp.exp, f((2, 3)), 0.0)),
        ("unary_backward", "unary_backward",
         lambda f, o: _C.unary_backward(UnaryOp.exp, f((2, 3)), o((2, 3)), o((2, 3)), 0.0)),
        ("compare", "compare", lambda f, o: _C.compare(_C.CompareOp.less, f((2, 3)), o((2, 3)))),
        ("where", "where", lambda f, o: _C.where(f((2, 3)), o((2, 3)), o((2, 3)))),
        ("clip", "clip", lambda f, o: _C.clip(f((2, 3)), 0.0, 1.0)),
        ("clip_backward", "clip_backward", lambda f, o: _C.clip_backward(f((2, 3)), o((2, 3)), 0.0, 1.0)),
        ("sum_to_shape", "sum_to_shape", lambda f, o: _C.sum_to_shape(f((2, 3)), [3])),
        ("broadcast_to", "broadcast_to", lambda f, o: _C.broadcast_to(f((3,)), [2, 3])),
        ("scale", "scale", lambda f, o: _C.scale(f((2, 3)), 2.0)),
        ("has_nonfinite", "has_nonfinite", lambda f, o: _C.has_nonfinite(f((2, 3)))),
        ("reduce", "reduce", lambda f, o: _C.reduce(ReduceOp.sum, f((2, 3)), [0], False)),
        ("reduce_backward", "reduce_backward",
         lambda f, o: _C.reduce_backward(ReduceOp.sum, f((2, 3)), o((3,)), o((3,)), [0], False)),
        ("argmax", "argmax", lambda f, o: _C.argmax(f((2, 3)), 0, False)),
        ("softmax", "softmax", lambda f, o: _C.softmax(f((2, 3)), -1, False)),
        ("softmax_backward", "softmax_backward", lambda f, o: _C.softmax_backward(f((2, 3)), o((2, 3)), -1, False)),
        ("matmul", "matmul", lambda f, o: _C.matmul(f((2, 3)), o((3, 2)))),
        ("matmul_backward", "matmul_backward",
         lambda f, o: _C.matmul_backward(f((2, 3)), o((3, 2)), o((2, 2)), True, True)),
        ("linear", "linear", lambda f, o: _C.linear(f((2, 3)), o((3, 4)), None)),
        ("linear_backward", "linear_backward",
         lambda f, o: _C.linear_backward(f((2, 3)), o((3, 4)), o((2, 4)), True, True)),
        ("sum_rows", "sum_rows", lambda f, o: _C.sum_rows(f((2, 3)))),
        ("softmax_cross_entropy", "softmax_cross_entropy", lambda f, o: _C.softmax_cross_entropy(f((2, 3)), o((2, 3)))),
        ("softmax_cross_entropy_backward", "softmax_cross_entropy_backward",
         lambda f, o: _C.softmax_cross_entropy_backward(f((2, 3)), o((2, 3)), o((2,)))),
        ("sparse_softmax_cross_entropy", "sparse_softmax_cross_entropy",
         lambda f, o: _C.sparse_softmax_cross_entropy(f((2, 3)), o((2,), i32))),
        ("sparse_softmax_cross_entropy_backward", "sparse_softmax_cross_entropy_backward",
         lambda f, o: _C.sparse_softmax_cross_entropy_backward(f((2, 3)), o((2,), i32), o((2,)))),
        ("sigmoid_cross_entropy", "sigmoid_cross_entropy", lambda f, o: _C.sigmoid_cross_entropy(f((2, 3)), o((2, 3)))),
        ("sigmoid_cross_entropy_backward", "sigmoid_cross_entropy_backward",
         lambda f, o: _C.sigmoid_cross_entropy_backward(f((2, 3)), o((2, 3)), o((2, 3)))),
        ("mean_error", "mean_error", lambda f, o: _C.mean_error(ErrorKind.squared, f((2, 3)), o((2, 3)))),
        ("mean_error_backward", "mean_error_backward",
         lambda f, o: _C.mean_error_backward(ErrorKind.squared, f((2, 3)), o((2, 3)), o((2,)))),
        ("batch_norm_train", "batch_norm_train",
         lambda f, o: _C.batch_norm_train(f((2, 3)), o((3,)), o((3,)), -1, 1e-3)),
        ("batch_norm_infer", "batch_norm_infer",
         lambda f, o: _C.batch_norm_infer(f((2, 3)), o((3,)), o((3,)), o((3,)), o((3,)), -1, 1e-3)),
        ("batch_norm_backward", "batch_norm_backward",
         lambda f, o: _C.batch_norm_backward(f((2, 3)), o((3,)), o((3,)), o((3,)), o((2, 3)), -1, 1e-3, True)),
        ("layer_norm", "layer_norm", lambda f, o: _C.layer_norm(f((2, 3)), o((3,)), o((3,)), 3, 1e-3)),
        ("layer_norm_backward", "layer_norm_backward",
         lambda f, o: _C.layer_norm_backward(f((2, 3)), o((3,)), o((2,)), o((2,)), o((2, 3)), 3)),
        ("sgd_update", "sgd_update", lambda f, o: _C.sgd_update(f((3,)), o((3,)), None, 0.1, 0.0, False)),
        ("adam_update", "adam_update",
         lambda f, o: _C.adam_update(f((3,)), o((3,)), o((3,)), o((3,)), None, 0.1, 0.9, 0.999, 1e-7, 1)),
        ("rmsprop_update", "rmsprop_update",
         lambda f, o: _C.rmsprop_update(f((3,)), o((3,)), o((3,)), None, None, 0.1, 0.9, 0.0, 1e-7)),
        ("adagrad_update", "adagrad_update", lambda f, o: _C.adagrad_update(f((3,)), o((3,)), o((3,)), 0.1, 1e-7)),
        ("adadelta_update", "adadelta_update",
         lambda f, o: _C.adadelta_update(f((3,)), o((3,)), o((3,)), o((3,)), 0.1, 0.9, 1e-7)),
        ("nadam_update", "nadam_update",
         lambda f, o: _C.nadam_update(f((3,)), o((3,)), o((3,)), o((3,)), 0.1, 0.9, 0.999, 1e-7, 0.1, 0.1, 0.5)),
        ("adamax_update", "adamax_update",
         lambda f, o: _C.adamax_update(f((3,)), o((3,)), o((3,)), o((3,)), 0.1, 0.9, 0.999, 1e-7, 1)),
        ("dropout_mask", "dropout_mask", lambda f, o: _C.dropout_mask([2], 0.5, 0, f((1,)))),
        ("random_uniform", "random_uniform", lambda f, o: _C.random_uniform([2], 0.0, 1.0, 0, f((1,)))),
        ("concatenate", "concatenate", lambda f, o: _C.concatenate([f((2, 3)), o((2, 3))], 0)),
        ("slice_backward", "slice_backward", lambda f, o: _C.slice_backward(f((2, 3)), [4, 3], [0, 0], [2, 1])),
        ("take_rows", "take_rows", lambda f, o: _C.take_rows(f((3, 2)), o((2,), i64))),
        ("take_rows_backward", "take_rows_backward", lambda f, o: _C.take_rows_backward(f((2, 2)), o((2,), i64), 3)),
        ("conv", "conv_forward",
         lambda f, o: _C.conv(f((1, 4, 4, 1)), o((2, 2, 1, 1)), None, [1, 1], [1, 1], [0, 0], [0, 0])),
        ("conv_backward", "conv_backward",
         lambda f, o: _C.conv_backward(f((1, 4, 4, 1)), o((2, 2, 1, 1)), o((1, 3, 3, 1)), [1, 1], [1, 1], [0, 0],
                                       [0, 0], True, True, True)),
        ("conv_transpose", "conv_transpose",
         lambda f, o: _C.conv_transpose(f((1, 3, 3, 1)), o((2, 2, 1, 1)), None, [4, 4], [1, 1], [1, 1], [0, 0],
                                        [0, 0])),
        ("conv_transpose_backward", "conv_transpose_backward",
         lambda f, o: _C.conv_transpose_backward(f((1, 3, 3, 1)), o((2, 2, 1, 1)), o((1, 4, 4, 1)), [1, 1], [1, 1],
                                                 [0, 0], [0, 0], True, True, True)),
        ("pool", "pool_forward",
         lambda f, o: _C.pool(f((1, 4, 4, 1)), _C.PoolMode.max, [2, 2], [2, 2], [0, 0], [0, 0])),
        ("pool_backward", "pool_backward",
         lambda f, o: _C.pool_backward(f((1, 2, 2, 1)), o((1, 2, 2, 1), i32), [1, 4, 4, 1], _C.PoolMode.max, [2, 2],
                                       [2, 2], [0, 0], [0, 0])),
        ("rnn_forward", "rnn_forward",
         lambda f, o: _C.rnn_forward(_C.RnnCell.simple, False, _C.RnnActivation.tanh, _C.RnnActivation.sigmoid,
                                     False, f((1, 2, 3)), o((3, 4)), o((4, 4)), None, None, None, None)),
        ("conv_lstm_forward", "conv_lstm_forward",
         lambda f, o: _C.conv_lstm_forward(_C.ConvLstmConfig(UnaryOp.tanh, UnaryOp.sigmoid, False, [1], [1], [1], [1],
                                                             [1], [1]),
                                           f((1, 2, 4, 1)), o((3, 1, 8)), o((3, 2, 8)), None, None, None, None, None)),
    ]


# Bindings that take tensors but need no routing row: views and plumbing built on the device-aware
# Tensor methods, rnn_backward / conv_lstm_backward, whose first argument is a forward's saved state,
# and packed_matmul / float_to_bf16_ftz, CPU-only testing entry points of kernel helpers that reject
# other devices themselves.
_ROUTING_EXEMPT = {"transpose", "slice", "reshape", "from_numpy", "to_device", "to_dlpack", "from_dlpack_capsule",
                   "rnn_backward", "conv_lstm_backward", "packed_matmul", "float_to_bf16_ftz"}


def _cpu_factory(shape, dtype=np.float32):
    return _C.from_numpy(np.ones(shape, dtype))


def _cuda_factory(shape, dtype=np.float32):
    return _tensor_claiming_cuda(np.ones(shape), dtype=dtype)


def test_routing_rows_cover_every_binding_that_takes_a_tensor():
    takes_tensor = {name for name in dir(_C) if callable(getattr(_C, name)) and not isinstance(getattr(_C, name), type)
                    and "Tensor" in (getattr(_C, name).__doc__ or "").split("->")[0]}
    covered = {row[0] for row in _routing_rows()}
    assert covered <= set(dir(_C))
    missing = sorted(takes_tensor - covered - _ROUTING_EXEMPT)
    assert not missing, f"bindings {missing} take tensors: add a row to _routing_rows (or say why they are exempt)"


@pytest.mark.parametrize("row", _routing_rows(), ids=lambda row: row[0])
def test_every_op_on_cuda_without_extension_names_itself(unregistered, row):
    _, op, call = row
    with pytest.raises(RuntimeError, match=f"^{op}: tensor is on cuda but the CUDA extension is not loaded"):
        call(_cuda_factory, _cuda_factory)


@pytest.mark.parametrize("row", _routing_rows(), ids=lambda row: row[0])
def test_every_op_with_mixed_devices_is_a_value_error(unregistered, row):
    _, op, call = row
    try:
        call(_cuda_factory, _cpu_factory)
    except ValueError as e:
        assert str(e).startswith(f"{op}: operands are on different devices (cpu and cuda)"), str(e)
    except RuntimeError as e:  # a single-tensor op: all its operands are on cuda
        assert str(e).startswith(f"{op}: tensor is on cuda but the CUDA extension is not loaded"), str(e)
    else:
        pytest.fail(f"{op} ran with operands on cpu and cuda")


@pytest.mark.skipif(HAS_CUDA or not _has_extension(), reason="needs the CUDA extension built, and no usable GPU")
def test_cuda_runtime_errors_become_python_exceptions():
    from kcore import _C_cuda

    _C._register_cuda_ops(_C_cuda.kernel_table())
    try:
        with pytest.raises(RuntimeError, match="CUDA"):
            _C.zeros([4], "float32", "cuda")
        # Errors raised by the CUDA module's argument checks keep their Python types across modules.
        fake_float = _tensor_claiming_cuda(np.ones(3))
        fake_int = _tensor_claiming_cuda(np.ones(3), dtype=np.int32)
        with pytest.raises(ValueError, match="dropout: rate must be in"):
            _C.dropout_mask([2], 1.5, 0, fake_float)
        with pytest.raises(TypeError, match="must be float32 or float64"):
            _C.unary(UnaryOp.exp, fake_int, 0.0)
        with pytest.raises(ValueError, match="matmul: inner dimensions do not match"):
            _C.matmul(_tensor_claiming_cuda(np.ones((2, 3))), _tensor_claiming_cuda(np.ones((2, 3))))
        # conv, pooling and the recurrent ops check their arguments before touching the device.
        with pytest.raises(ValueError, match=r"conv: input has 3 channels .* expects 1"):
            _C.conv(_tensor_claiming_cuda(np.ones((1, 4, 4, 3))), _tensor_claiming_cuda(np.ones((2, 2, 1, 1))), None,
                    [1, 1], [1, 1], [0, 0], [0, 0])
        with pytest.raises(ValueError, match="max_pool: spatial axis 0 of the input .* smaller than the pool size"):
            _C.pool(_tensor_claiming_cuda(np.ones((1, 4, 4, 1))), _C.PoolMode.max, [5, 5], [1, 1], [0, 0], [0, 0])
        with pytest.raises(ValueError, match=r"gru: recurrent_kernel must have shape \(units, 3 \* units\)"):
            _C.rnn_forward(_C.RnnCell.gru, True, _C.RnnActivation.tanh, _C.RnnActivation.sigmoid, False,
                           _tensor_claiming_cuda(np.ones((2, 3, 4))), _tensor_claiming_cuda(np.ones((4, 6))),
                           _tensor_claiming_cuda(np.ones((2, 4))), None, None, None, None, None)
    finally:
        _C._unregister_cuda_ops()
    assert _C_cuda.device_count() == 0


@pytest.mark.skipif(not _has_extension(), reason="needs the CUDA extension built")
def test_cuda_kernels_cover_every_routed_op():
    from kcore import _C_cuda

    # conv, pooling and the recurrent sequences have CUDA kernels; the ConvLSTM ones are not written yet.
    assert sorted(_C_cuda.missing_ops()) == ["conv_lstm_backward", "conv_lstm_forward"]
