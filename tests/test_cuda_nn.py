"""CUDA convolution, pooling and recurrent kernels against the CPU engine.

Every case runs the native op on CPU tensors and on their CUDA copies and compares the outputs
and every gradient (the CPU's gradients are checked against finite differences in
test_ops_grad.py / test_rnn.py, so agreeing with them checks the CUDA gradients). Small training
runs (CNN, LSTM, GRU with a mask, transposed conv) must give the same losses and predictions on
both devices. Everything here skips cleanly without a usable GPU, except where kcore._C_cuda_emu is
built (tools/cuda_emulate.sh: the same CUDA conv / pooling / recurrent kernels compiled for the
host, every other op the CPU kernel): then everything runs on that emulated device.
"""
import numpy as np
import pytest
from cuda_helpers import (
    HAS_CUDA,
    _assert_close,
    _assert_same_training,
    _cpu,
    _gpu,
    _host,
    randn,
    rng,
)

import kcore
from kcore.backend.native import _C

try:
    from kcore import _C_cuda_emu
except ImportError:
    _C_cuda_emu = None
EMULATED = not HAS_CUDA and _C_cuda_emu is not None
pytestmark = pytest.mark.skipif(not (HAS_CUDA or EMULATED), reason=f"CUDA not available: "
                                f"{kcore.cuda.unavailable_reason()} (and no emulation built: tools/cuda_emulate.sh)")


class _EmulatedCudaModule:
    """What kcore.cuda asks of kcore._C_cuda, for the emulated device (no memory statistics)."""

    kernel_table = staticmethod(_C_cuda_emu.kernel_table) if _C_cuda_emu else None

    @staticmethod
    def availability():
        return True, None

    @staticmethod
    def synchronize():
        pass


@pytest.fixture(autouse=True, scope="module")
def device_kernels():
    """The real CUDA kernels, or their host emulation registered as the cuda device for this module."""
    if not EMULATED:
        yield
        return
    saved = dict(kcore.cuda._state)
    kcore.cuda._state.update(tried=True, module=_EmulatedCudaModule, reason=None)
    _C._register_cuda_ops(_C_cuda_emu.kernel_table())
    yield
    _C._unregister_cuda_ops()
    kcore.cuda._state.clear()
    kcore.cuda._state.update(saved)


TOL = {np.float32: {"rtol": 2e-4, "atol": 2e-5}, np.float64: {"rtol": 1e-9, "atol": 1e-11}}


@pytest.fixture(params=["default", "one_image"])
def workspace(request):
    """The default im2col budget, and a 1-byte one that forces one image per chunk."""
    if EMULATED:
        module = _C_cuda_emu
    else:
        from kcore import _C_cuda as module
    old = module.conv_workspace_limit()
    if request.param == "one_image":
        module.conv_set_workspace_limit(1)
    yield
    module.conv_set_workspace_limit(old)


def _both(fn, arrays):
    """(cpu result, cuda result) of fn over the arrays (None stays None), as NumPy."""
    conv = [lambda a: None if a is None else _cpu(a), lambda a: None if a is None else _gpu(a)]
    return [_host(fn(*[to(a) for a in arrays])) for to in conv]


# ---- convolution ---------------------------------------------------------------------------
# (x shape, kernel shape, strides, dilation, pad_before, pad_after, groups)
CONV_CASES = {
    "1d_same": ((2, 9, 3), (3, 3, 4), [1], [1], [1], [1], 1),
    "1d_causal_dilated": ((2, 10, 2), (3, 2, 3), [1], [2], [4], [0], 1),
    "1d_stride_gt_kernel": ((2, 11, 2), (2, 2, 3), [3], [1], [0], [0], 1),
    "2d_strided_padded": ((2, 7, 6, 3), (3, 3, 3, 5), [2, 1], [1, 1], [1, 1], [1, 1], 1),
    "2d_dilated_valid": ((2, 9, 8, 2), (3, 2, 2, 4), [1, 1], [2, 3], [0, 0], [0, 0], 1),
    "2d_pointwise": ((3, 5, 4, 6), (1, 1, 6, 7), [1, 1], [1, 1], [0, 0], [0, 0], 1),
    "2d_groups": ((2, 6, 6, 4), (3, 3, 2, 6), [1, 1], [1, 1], [1, 1], [1, 1], 2),
    "2d_depthwise": ((2, 5, 5, 3), (3, 3, 1, 6), [2, 2], [1, 1], [1, 1], [1, 1], 3),
    "3d": ((2, 4, 5, 4, 2), (2, 3, 2, 2, 3), [1, 2, 1], [1, 1, 1], [0, 1, 1], [1, 1, 0], 1),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", list(CONV_CASES))
def test_conv_forward_and_backward(case, dtype, workspace):
    xs, ks, strides, dil, before, after, groups = CONV_CASES[case]
    x, k, b = randn(*xs, dtype=dtype), randn(*ks, dtype=dtype), randn(ks[-1], dtype=dtype)
    for bias in (b, None):
        want, got = _both(lambda x, k, b: _C.conv(x, k, b, strides, dil, before, after, groups), [x, k, bias])
        _assert_close(got, want, **TOL[dtype])
    y = _C.conv(_cpu(x), _cpu(k), None, strides, dil, before, after, groups)
    g = randn(*tuple(y.shape), dtype=dtype)
    for need in [(True, True, True), (True, False, False), (False, True, True)]:
        want, got = _both(lambda x, k, g, need=need: _C.conv_backward(x, k, g, strides, dil, before, after, *need,
                                                                       groups), [x, k, g])
        _assert_close(got, want, **TOL[dtype])


def test_conv_empty_batch_gives_zero_kernel_and_bias_gradients():
    x, k = np.zeros((0, 5, 5, 2), np.float32), randn(3, 3, 2, 4)
    y = _C.conv(_gpu(x), _gpu(k), None, [1, 1], [1, 1], [1, 1], [1, 1])
    assert tuple(y.shape) == (0, 5, 5, 4)
    gx, gk, gb = _host(_C.conv_backward(_gpu(x), _gpu(k), y, [1, 1], [1, 1], [1, 1], [1, 1], True, True, True))
    assert gx.shape == x.shape and not gk.any() and not gb.any()


def test_conv_errors_name_the_op_and_shapes():
    x, k = _gpu(randn(2, 5, 5, 3)), _gpu(randn(3, 3, 2, 4))
    with pytest.raises(ValueError, match=r"conv: input has 3 channels .* expects 2"):
        _C.conv(x, k, None, [1, 1], [1, 1], [0, 0], [0, 0])
    with pytest.raises(ValueError, match="conv backward: gradient of shape"):
        _C.conv_backward(x, _gpu(randn(3, 3, 3, 4)), _gpu(randn(2, 2, 2, 4)), [1, 1], [1, 1], [0, 0], [0, 0],
                         True, True, True)


# (x shape, kernel (*k, F_out, C_in), out_spatial, strides, dilation, pad_before, pad_after)
TRANSPOSE_CASES = {
    "2d_stride2": ((2, 4, 4, 3), (3, 3, 5, 3), [9, 9], [2, 2], [1, 1], [0, 0], [0, 0]),
    "2d_same_odd": ((2, 4, 3, 2), (3, 3, 4, 2), [8, 6], [2, 2], [1, 1], [1, 1], [0, 1]),
    "1d_dilated": ((3, 6, 2), (3, 3, 2), [10], [1], [2], [0], [0]),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", list(TRANSPOSE_CASES))
def test_conv_transpose_forward_and_backward(case, dtype):
    xs, ks, out, strides, dil, before, after = TRANSPOSE_CASES[case]
    x, k, b = randn(*xs, dtype=dtype), randn(*ks, dtype=dtype), randn(ks[-2], dtype=dtype)
    for bias in (b, None):
        want, got = _both(lambda x, k, b: _C.conv_transpose(x, k, b, out, strides, dil, before, after),
                          [x, k, bias])
        _assert_close(got, want, **TOL[dtype])
    g = randn(xs[0], *out, ks[-2], dtype=dtype)
    want, got = _both(lambda x, k, g: _C.conv_transpose_backward(x, k, g, strides, dil, before, after,
                                                                 True, True, True), [x, k, g])
    _assert_close(got, want, **TOL[dtype])


# ---- pooling -------------------------------------------------------------------------------
# (x shape, pool, strides, pad_before, pad_after)
POOL_CASES = {
    "1d_same": ((2, 9, 3), [3], [2], [1], [1]),
    "2d_valid": ((2, 7, 6, 4), [2, 2], [2, 2], [0, 0], [0, 0]),
    "2d_overlapping_padded": ((2, 6, 7, 3), [3, 3], [1, 2], [1, 1], [1, 1]),
    "3d_same": ((1, 5, 4, 5, 2), [2, 3, 2], [2, 1, 2], [0, 1, 0], [1, 1, 1]),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mode", [_C.PoolMode.max, _C.PoolMode.average])
@pytest.mark.parametrize("case", list(POOL_CASES))
def test_pool_forward_and_backward(case, mode, dtype):
    xs, pool, strides, before, after = POOL_CASES[case]
    # small integers: ties in every window, so the first-maximum rule is exercised
    x = rng.integers(-2, 3, xs).astype(dtype)
    want, got = _both(lambda x: _C.pool(x, mode, pool, strides, before, after), [x])
    _assert_close(got, want, **TOL[dtype])  # y, and argmax (int32) exactly
    y, arg = want
    g = randn(*y.shape, dtype=dtype)
    argmax = None if arg is None else arg.astype(np.int32)
    want, got = _both(lambda g, a: _C.pool_backward(g, a, list(xs), mode, pool, strides, before, after),
                      [g, argmax])
    _assert_close(got, want, **TOL[dtype])


# ---- recurrent sequences -------------------------------------------------------------------
CELLS = {  # name: (cell, reset_after, gates)
    "simple": (_C.RnnCell.simple, False, 1),
    "lstm": (_C.RnnCell.lstm, False, 4),
    "gru_after": (_C.RnnCell.gru, True, 3),
    "gru_before": (_C.RnnCell.gru, False, 3),
}
OPTIONS = {  # name: (mask, go_backwards, initial states, recurrent dropout, activations)
    "plain": (False, False, False, False, ("tanh", "sigmoid")),
    "mask_backwards_states": (True, True, True, False, ("tanh", "sigmoid")),
    "dropout_mask": (True, False, False, True, ("tanh", "sigmoid")),
    "other_activations": (False, False, True, True, ("relu", "hard_sigmoid")),
}


def _rnn_arrays(cell_name, option, dtype, b=3, t=5, d=4, u=6):
    cell, reset_after, gates = CELLS[cell_name]
    use_mask, _, use_states, dropout, _ = OPTIONS[option]
    x = randn(b, t, d, dtype=dtype)
    k, rk = randn(d, gates * u, dtype=dtype) * 0.5, randn(u, gates * u, dtype=dtype) * 0.5
    bias = randn(*((2, gates * u) if reset_after else (gates * u,)), dtype=dtype)
    h0 = randn(b, u, dtype=dtype) if use_states else None
    c0 = randn(b, u, dtype=dtype) if use_states and cell == _C.RnnCell.lstm else None
    mask = None
    if use_mask:  # a leading masked step, a hole, a trailing masked step
        mask = np.ones((b, t), dtype)
        mask[0, 0] = mask[1, 2] = mask[2, t - 1] = 0
    rec = (rng.random((b, u)) > 0.3).astype(dtype) / 0.7 if dropout else None
    return [x, k, rk, bias, h0, c0, mask, rec]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("option", list(OPTIONS))
@pytest.mark.parametrize("cell_name", list(CELLS))
def test_rnn_forward_and_backward(cell_name, option, dtype):
    cell, reset_after, _ = CELLS[cell_name]
    backwards, (act, ract) = OPTIONS[option][1], OPTIONS[option][4]
    arrays = _rnn_arrays(cell_name, option, dtype)
    acts = (getattr(_C.RnnActivation, act), getattr(_C.RnnActivation, ract))
    b, t, u = arrays[0].shape[0], arrays[0].shape[1], arrays[2].shape[0]
    go, gh, gc = randn(b, t, u, dtype=dtype), randn(b, u, dtype=dtype), randn(b, u, dtype=dtype)
    is_lstm = cell == _C.RnnCell.lstm

    def run(x, k, rk, bias, h0, c0, mask, rec, go, gh, gc):
        out, h, c, saved = _C.rnn_forward(cell, reset_after, *acts, backwards, x, k, rk, bias, h0, c0, mask, rec)
        grads = _C.rnn_backward(saved, k, rk, go, gh, gc if is_lstm else None, True)
        return [out, h, c, *grads]

    want, got = _both(run, arrays + [go, gh, gc])
    _assert_close(got, want, **TOL[dtype])


def test_rnn_without_output_gradient_and_empty_sequence():
    arrays = _rnn_arrays("lstm", "plain", np.float64, t=0)
    x, k, rk, bias = arrays[:4]
    gh = randn(3, 6, dtype=np.float64)

    def run(x, k, rk, bias, gh):
        out, h, c, saved = _C.rnn_forward(_C.RnnCell.lstm, False, _C.RnnActivation.tanh, _C.RnnActivation.sigmoid,
                                          False, x, k, rk, bias, None, None, None, None)
        return [out, h, c, *_C.rnn_backward(saved, k, rk, None, gh, None, True)]

    want, got = _both(run, [x, k, rk, bias, gh])
    _assert_close(got, want, **TOL[np.float64])


def test_rnn_errors_name_the_op():
    x, k, rk = _gpu(randn(2, 3, 4)), _gpu(randn(4, 8)), _gpu(randn(2, 8))
    with pytest.raises(ValueError, match=r"lstm: kernel must have shape \(4, 8\)"):
        _C.rnn_forward(_C.RnnCell.lstm, False, _C.RnnActivation.tanh, _C.RnnActivation.sigmoid, False, x,
                       _gpu(randn(4, 7)), rk, None, None, None, None, None)
    with pytest.raises(ValueError, match=r"lstm: mask must have shape \(2, 3\)"):
        _C.rnn_forward(_C.RnnCell.lstm, False, _C.RnnActivation.tanh, _C.RnnActivation.sigmoid, False, x, k, rk,
                       None, None, None, _gpu(np.ones((2, 4), np.float32)), None)


# ---- training: the same losses and predictions on both devices ---------------------------------


def test_tiny_cnn_trains_the_same_on_gpu_and_cpu():
    x = randn(16, 8, 8, 1)
    y = rng.integers(0, 3, 16)
    _assert_same_training(lambda: kcore.Sequential([
        kcore.layers.Conv2D(4, 3, activation="relu", input_shape=(8, 8, 1)),
        kcore.layers.MaxPooling2D(2),
        kcore.layers.Flatten(),
        kcore.layers.Dense(3, activation="softmax"),
    ]), x, y, "sparse_categorical_crossentropy")


def test_tiny_lstm_trains_the_same_on_gpu_and_cpu():
    x = rng.integers(1, 20, (16, 7))
    y = rng.integers(0, 2, 16).astype(np.float32)
    _assert_same_training(lambda: kcore.Sequential([
        kcore.layers.Embedding(20, 8, input_length=7),
        kcore.layers.LSTM(6),
        kcore.layers.Dense(1, activation="sigmoid"),
    ]), x, y, "binary_crossentropy")


def test_masked_gru_and_simple_rnn_train_the_same_on_gpu_and_cpu():
    x = rng.integers(0, 20, (16, 7))
    x[:, :2] = 0  # padding: masked steps
    y = rng.integers(0, 2, 16).astype(np.float32)
    _assert_same_training(lambda: kcore.Sequential([
        kcore.layers.Embedding(20, 8, mask_zero=True),
        kcore.layers.GRU(6, return_sequences=True, go_backwards=True),
        kcore.layers.SimpleRNN(5),
        kcore.layers.Dense(1, activation="sigmoid"),
    ]), x, y, "binary_crossentropy")


def test_conv1d_transpose_and_average_pooling_train_the_same_on_gpu_and_cpu():
    x = randn(16, 12, 3)
    y = randn(16, 1)
    _assert_same_training(lambda: kcore.Sequential([
        kcore.layers.Conv1D(4, 3, padding="causal", dilation_rate=2, input_shape=(12, 3)),
        kcore.layers.AveragePooling1D(2, padding="same"),
        kcore.layers.Conv1DTranspose(3, 3, strides=2, padding="same"),
        kcore.layers.GlobalMaxPooling1D(),
        kcore.layers.Dense(1),
    ]), x, y, "mse")


def _train_small_model(device, x, y):
    kcore.set_device(device)
    try:
        kcore.utils.set_random_seed(7)
        model = kcore.Sequential([
            kcore.layers.Dense(16, activation="relu", input_shape=(x.shape[1],)),
            kcore.layers.BatchNormalization(),
            kcore.layers.Dropout(0.2),
            kcore.layers.Dense(3, activation="softmax"),
        ])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        hist = model.fit(x, y, epochs=3, batch_size=16, shuffle=False, verbose=0)
        return hist.history["loss"], model.predict(x, verbose=0), list(model.get_weights())
    finally:
        kcore.set_device("cpu")


def test_small_model_trains_the_same_on_gpu_and_cpu():
    x = randn(64, 8)
    y = rng.integers(0, 3, 64)
    loss_cpu, pred_cpu, w_cpu = _train_small_model("cpu", x, y)
    loss_gpu, pred_gpu, w_gpu = _train_small_model("cuda", x, y)
    assert isinstance(pred_gpu, np.ndarray)
    np.testing.assert_allclose(loss_gpu, loss_cpu, rtol=1e-4)
    np.testing.assert_allclose(pred_gpu, pred_cpu, rtol=1e-3, atol=1e-5)
    for a, b in zip(w_gpu, w_cpu):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-5)
