"""Pooling, zero padding and nearest upsampling: special cases (ties, threads, Keras examples, native errors).

NumPy parity, gradient checks and argument errors of max_pool / average_pool are op table rows (tests/op_rows_nn.py)."""

import numpy as np
import pytest
from op_refs import reference_pool

from kcore import ops
from kcore.backend.native import _C
from kcore.ops.conv import upsample_nearest, zero_pad
from kcore.testing import gradcheck


def _pool(mode):
    return ops.max_pool if mode == "max" else ops.average_pool


def test_keras_average_same_example():
    """KERAS_SPEC section 3: the divisor counts only real cells (TF semantics)."""
    x = np.array([1, 2, 3, 4, 5], np.float32).reshape(1, 5, 1)
    np.testing.assert_allclose(ops.average_pool(x, 4, 1, "same").numpy().ravel(), [2, 2.5, 3.5, 4, 4.5])
    np.testing.assert_allclose(ops.max_pool(x, 4, 1, "same").numpy().ravel(), [3, 4, 5, 5, 5])


def test_max_ties_route_gradient_to_first_maximum():
    from kcore.backend.autodiff import GradientTape
    from kcore.backend.tensor import Variable

    x = Variable(np.array([[[1.0], [3.0], [3.0], [2.0]]]), dtype="float64")
    with GradientTape() as tape:
        y = ops.sum(ops.max_pool(x, 3, 1, "valid"))
    np.testing.assert_array_equal(tape.gradient(y, x).numpy().ravel(), [0, 2, 0, 0])


def _value_and_grad(fn, x):
    from kcore.backend.autodiff import GradientTape
    from kcore.backend.tensor import Variable

    v = Variable(x, dtype=str(x.dtype))
    with GradientTape() as tape:
        y = fn(v)
        total = ops.sum(ops.multiply(y, np.linspace(-1, 1, y.size).reshape(y.shape).astype(x.dtype)))
    return y.numpy(), tape.gradient(total, v).numpy()


@pytest.mark.parametrize("shape", [(9, 24, 24, 40), (1, 48, 48, 64)])  # parallel over images / channel blocks
@pytest.mark.parametrize("mode", ["max", "average"])
def test_float32_parallel_paths_match_one_thread(shape, mode):
    x = np.random.default_rng(4).standard_normal(shape).astype(np.float32)
    fn = lambda t: _pool(mode)(t, 3, 2, "same")  # noqa: E731
    saved = _C.get_num_threads()
    try:
        _C.set_num_threads(2)
        y2, g2 = _value_and_grad(fn, x)
        _C.set_num_threads(1)
        y1, g1 = _value_and_grad(fn, x)
    finally:
        _C.set_num_threads(saved)
    np.testing.assert_allclose(y2, reference_pool(x, (3, 3), (2, 2), "same", mode), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(y2, y1)
    np.testing.assert_array_equal(g2, g1)


def test_native_backward_rejects_bad_argmax():
    x = _C.from_numpy(np.zeros((1, 4, 1), np.float32))
    y, arg = _C.pool(x, _C.PoolMode.max, [2], [2], [0], [0])
    bad = _C.from_numpy(np.full(tuple(arg.shape), 99, np.int32))
    with pytest.raises(ValueError, match="out of range"):
        _C.pool_backward(y, bad, [1, 4, 1], _C.PoolMode.max, [2], [2], [0], [0])
    with pytest.raises(ValueError, match="argmax"):
        _C.pool_backward(y, None, [1, 4, 1], _C.PoolMode.max, [2], [2], [0], [0])


def test_zero_pad_values_and_gradient():
    x = np.arange(6, dtype=np.float64).reshape(1, 2, 3, 1)
    y = zero_pad(x, [(0, 0), (1, 2), (0, 1), (0, 0)]).numpy()
    np.testing.assert_array_equal(y, np.pad(x, [(0, 0), (1, 2), (0, 1), (0, 0)]))
    assert gradcheck(lambda x: zero_pad(x, [(0, 0), (2, 1), (1, 0), (0, 0)]), [x])
    with pytest.raises(ValueError, match="pad_width"):
        zero_pad(x, [(0, 0), (1, 1)])


def test_upsample_nearest_values_and_gradient():
    x = np.random.default_rng(5).standard_normal((2, 3, 2, 2))
    y = upsample_nearest(x, (2, 3), (1, 2)).numpy()
    np.testing.assert_array_equal(y, x.repeat(2, axis=1).repeat(3, axis=2))
    assert gradcheck(lambda x: upsample_nearest(x, (2, 3), (1, 2)), [x])
    assert gradcheck(lambda x: upsample_nearest(x, (3,), (1,)), [x[:, :, 0]])
