"""Pooling, zero padding and nearest upsampling: NumPy-reference parity, gradient checks, errors."""
import itertools

import numpy as np
import pytest

from kcore import ops
from kcore.backend.native import _C
from kcore.ops.conv import padding_amounts, upsample_nearest, zero_pad
from kcore.testing import gradcheck


def reference_pool(x, pool, strides, padding, mode):
    """TF/Keras pooling as loops: windows clipped to real cells (padding never counted)."""
    rank = x.ndim - 2
    before, after = padding_amounts(padding, x.shape[1:-1], pool, strides, (1,) * rank)
    outs = [(x.shape[1 + i] + before[i] + after[i] - pool[i]) // strides[i] + 1 for i in range(rank)]
    y = np.zeros((x.shape[0], *outs, x.shape[-1]))
    for o in itertools.product(*[range(n) for n in outs]):
        window = tuple(slice(max(0, o[i] * strides[i] - before[i]),
                             min(x.shape[1 + i], o[i] * strides[i] - before[i] + pool[i])) for i in range(rank))
        cells = x[(slice(None),) + window].reshape(x.shape[0], -1, x.shape[-1])
        y[(slice(None),) + o] = cells.max(axis=1) if mode == "max" else cells.mean(axis=1)
    return y


# (input shape, pool, strides, padding)
CONFIGS = [
    ((2, 7, 3), (2,), (2,), "valid"),
    ((2, 7, 3), (3,), (2,), "same"),
    ((1, 5, 2), (4,), (1,), "same"),
    ((2, 5, 6, 3), (2, 2), (2, 2), "valid"),
    ((2, 5, 5, 2), (3, 3), (2, 2), "same"),
    ((1, 6, 5, 2), (2, 3), (1, 2), "same"),
    ((2, 7, 7, 1), (2, 2), (3, 3), "valid"),    # stride > pool
    ((1, 4, 5, 3, 2), (2, 2, 2), (2, 2, 2), "same"),
    ((2, 3, 4, 4, 1), (2, 3, 2), (1, 1, 2), "valid"),
]


def _ids(cfg):
    return f"{cfg[0]}-p{cfg[1]}-s{cfg[2]}-{cfg[3]}"


def _pool(mode):
    return ops.max_pool if mode == "max" else ops.average_pool


@pytest.mark.parametrize("mode", ["max", "average"])
@pytest.mark.parametrize("cfg", CONFIGS, ids=_ids)
def test_forward_matches_reference(cfg, mode):
    xs, pool, s, pad = cfg
    x = np.random.default_rng(1).standard_normal(xs)
    y = _pool(mode)(x, pool, s, pad).numpy()
    np.testing.assert_allclose(y, reference_pool(x, pool, s, pad, mode), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mode", ["max", "average"])
@pytest.mark.parametrize("cfg", CONFIGS, ids=_ids)
def test_gradients(cfg, mode):
    xs, pool, s, pad = cfg
    # distinct values keep the max away from ties, where finite differences are undefined
    x = np.random.default_rng(2).permutation(np.prod(xs)).reshape(xs) * 0.1
    assert gradcheck(lambda x: _pool(mode)(x, pool, s, pad), [x])


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


def test_default_strides_and_channels_first():
    x = np.random.default_rng(3).standard_normal((2, 3, 6, 4))
    y = ops.max_pool(x, 2, data_format="channels_first").numpy()
    expect = reference_pool(np.moveaxis(x, 1, -1), (2, 2), (2, 2), "valid", "max")
    np.testing.assert_allclose(y, np.moveaxis(expect, -1, 1))
    assert gradcheck(lambda x: ops.average_pool(x, (2, 3), None, "same", data_format="channels_first"), [x])


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


@pytest.mark.parametrize("kwargs, shape, match", [
    ({"pool_size": 2}, (5, 5), "rank 3, 4 or 5"),
    ({"pool_size": (2, 2)}, (1, 5, 3), "tuple of 1"),
    ({"pool_size": 0}, (1, 5, 5, 3), "pool_size"),
    ({"pool_size": 2, "strides": 0}, (1, 5, 5, 3), "strides"),
    ({"pool_size": 2, "padding": "causal"}, (1, 5, 3), "padding"),
    ({"pool_size": 4}, (1, 3, 3, 2), "smaller than the pool size"),
])
def test_errors(kwargs, shape, match):
    with pytest.raises(ValueError, match=match):
        ops.max_pool(np.zeros(shape, np.float32), **kwargs)


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
