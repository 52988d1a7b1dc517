"""Shared by the CUDA tests (test_cuda.py, test_cuda_nn.py): whether a GPU is usable, the `gpu`
skip marker, and helpers that run an op on CPU tensors and on their CUDA copies and compare."""
import numpy as np
import pytest

import kcore
from kcore.backend.native import _C

HAS_CUDA = kcore.cuda.is_available()
gpu = pytest.mark.skipif(not HAS_CUDA, reason=f"CUDA not available: {kcore.cuda.unavailable_reason()}")
rng = np.random.default_rng(0)


def _cpu(a):
    return _C.from_numpy(np.ascontiguousarray(a))


def _gpu(a):
    return _C.to_device(_cpu(a), "cuda")


def _host(t):
    if t is None:
        return None
    if isinstance(t, (tuple, list)):
        return [_host(x) for x in t]
    if isinstance(t, (bool, float, int)):
        return t
    return np.asarray(_C.to_device(t, "cpu")) if t.device == "cuda" else np.asarray(t)


def _assert_close(got, want, rtol, atol):
    if isinstance(want, list):
        assert len(got) == len(want)
        for g, w in zip(got, want):
            _assert_close(g, w, rtol, atol)
    elif want is None or isinstance(want, (bool, int, float)):
        assert got == want
    else:
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)


def same(fn, *arrays, rtol=1e-5, atol=1e-6):
    """fn on CPU tensors and on their CUDA copies gives the same result."""
    want = _host(fn(*[_cpu(a) for a in arrays]))
    got = _host(fn(*[_gpu(a) for a in arrays]))
    _assert_close(got, want, rtol, atol)


def randn(*shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


def _train_on(device, build, x, y, loss):
    kcore.set_device(device)
    try:
        kcore.utils.set_random_seed(11)
        model = build()
        model.compile(optimizer="adam", loss=loss)
        hist = model.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
        return hist.history["loss"], model.predict(x, verbose=0)
    finally:
        kcore.set_device("cpu")


def _assert_same_training(build, x, y, loss):
    loss_cpu, pred_cpu = _train_on("cpu", build, x, y, loss)
    loss_gpu, pred_gpu = _train_on("cuda", build, x, y, loss)
    np.testing.assert_allclose(loss_gpu, loss_cpu, rtol=1e-3)
    np.testing.assert_allclose(pred_gpu, pred_cpu, rtol=1e-3, atol=1e-5)
