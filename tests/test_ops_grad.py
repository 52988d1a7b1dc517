"""Float64 gradient checks (central finite differences) for every differentiable op."""
import numpy as np
import pytest

from kcore import ops
from kcore.testing import gradcheck

R = np.random.default_rng(7)


def rand(*shape, low=-2.0, high=2.0):
    return R.uniform(low, high, shape)


BINARY = {
    "add": ops.add, "subtract": ops.subtract, "multiply": ops.multiply, "divide": ops.divide,
    "maximum": ops.maximum, "minimum": ops.minimum,
}
BROADCAST_SHAPES = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((1,), (2, 3)), ((), (2, 2)),
                    ((5, 1), (1, 5))]


@pytest.mark.parametrize("name", sorted(BINARY))
@pytest.mark.parametrize("shapes", BROADCAST_SHAPES)
def test_binary_broadcasting_gradients(name, shapes):
    a, b = rand(*shapes[0]), rand(*shapes[1])
    if name == "divide":
        b = np.sign(b) * (np.abs(b) + 0.5)
    if name in ("maximum", "minimum"):
        b = b + 0.05  # keep away from ties, where the derivative jumps
    gradcheck(BINARY[name], [a, b])


def test_power_gradient():
    gradcheck(ops.power, [rand(3, 4, low=0.5, high=2.0), rand(4, low=-1.5, high=2.0)])


UNARY = {
    "negative": (ops.negative, -2, 2), "exp": (ops.exp, -2, 2), "log": (ops.log, 0.2, 3), "sqrt": (ops.sqrt, 0.2, 3),
    "square": (ops.square, -2, 2), "abs": (ops.abs, 0.1, 2), "tanh": (ops.tanh, -2, 2),
    "sigmoid": (ops.sigmoid, -4, 4), "relu": (ops.relu, 0.1, 2), "elu": (ops.elu, -2, 2),
    "selu": (ops.selu, -2, 2), "softplus": (ops.softplus, -3, 3), "softsign": (ops.softsign, -2, 2),
    "hard_sigmoid": (ops.hard_sigmoid, -2.9, 2.9), "gelu": (lambda x: ops.gelu(x, approximate=False), -3, 3),
    "gelu_tanh": (lambda x: ops.gelu(x, approximate=True), -3, 3), "silu": (ops.silu, -3, 3),
    "leaky_relu": (ops.leaky_relu, 0.1, 2), "relu6": (ops.relu6, 0.1, 5.9), "log_sigmoid": (ops.log_sigmoid, -3, 3),
    "mish": (ops.mish, -3, 3), "reciprocal": (ops.reciprocal, 0.5, 2), "sin": (ops.sin, -3, 3),
    "cos": (ops.cos, -3, 3),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_gradients(name):
    fn, lo, hi = UNARY[name]
    x = rand(3, 5, low=lo, high=hi)
    if name in ("abs",):
        x *= np.where(R.random(x.shape) < 0.5, -1, 1)
    if name in ("relu", "leaky_relu"):
        x = np.where(R.random(x.shape) < 0.5, -x, x)
    gradcheck(fn, [x])


def test_hard_sigmoid_k2_and_clip_gradients():
    gradcheck(ops.core.hard_sigmoid_k2, [rand(4, 3, low=-2.4, high=2.4)])
    x = rand(4, 3)
    x[np.abs(np.abs(x) - 1.0) < 0.05] = 0.3
    gradcheck(lambda t: ops.clip(t, -1.0, 1.0), [x])


@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_softmax_and_log_softmax_gradients(axis):
    x = rand(3, 4, 2)
    gradcheck(lambda t: ops.softmax(t, axis=axis), [x])
    gradcheck(lambda t: ops.log_softmax(t, axis=axis), [x])


@pytest.mark.parametrize("fn", [ops.sum, ops.mean, ops.max, ops.min])
@pytest.mark.parametrize("axis,keepdims", [(None, False), (0, False), (1, True), ((0, 2), False), (-1, True)])
def test_reduction_gradients(fn, axis, keepdims):
    x = rand(3, 4, 5)
    gradcheck(lambda t: fn(t, axis=axis, keepdims=keepdims), [x])


@pytest.mark.parametrize("sa,sb", [((3, 4), (4, 5)), ((2, 3, 4), (4, 5)), ((2, 3, 4), (2, 4, 5)),
                                   ((1, 3, 4), (2, 4, 2)), ((4,), (4, 3)), ((3, 4), (4,)), ((1, 1), (1, 1))])
def test_matmul_gradients(sa, sb):
    gradcheck(ops.matmul, [rand(*sa), rand(*sb)])


def test_matmul_of_transposed_views_gradients():
    gradcheck(lambda a, b: ops.matmul(ops.transpose(a), ops.transpose(b)), [rand(4, 3), rand(5, 4)])


@pytest.mark.parametrize("shape", [(5, 3), (2, 4, 3), (1, 3)])
def test_linear_gradients(shape):
    gradcheck(ops.linear, [rand(*shape), rand(3, 2), rand(2)])
    gradcheck(lambda x, w: ops.linear(x, w), [rand(*shape), rand(3, 2)])


def test_shape_op_gradients():
    x = rand(2, 3, 4)
    gradcheck(lambda t: ops.reshape(t, (4, -1)), [x])
    gradcheck(lambda t: ops.transpose(t, (2, 0, 1)), [x])
    gradcheck(lambda t: ops.expand_dims(ops.squeeze(ops.reshape(t, (1, 24)), 0), -1), [x])
    gradcheck(lambda a, b: ops.concatenate([a, b], axis=1), [x, rand(2, 2, 4)])
    gradcheck(lambda a, b: ops.stack([a, b], axis=0), [x, rand(2, 3, 4)])
    gradcheck(lambda t: t[1:, ::2, 1], [x])
    gradcheck(lambda t: t[..., None, 2:], [x])
    gradcheck(lambda t: ops.split(t, 2, axis=2)[1], [x])


def test_take_gradient_accumulates_repeated_rows():
    idx = np.array([[0, 2], [2, 2]])
    gradcheck(lambda t, i: ops.take(t, i), [rand(4, 3), idx])


def test_cast_gradient_passes_through():
    gradcheck(lambda t: ops.cast(ops.cast(t, "float32"), "float64"), [rand(3, 2)], atol=1e-3, rtol=1e-3,
              eps=1e-3)


def test_fused_loss_gradients():
    logits = rand(4, 5)
    target = R.dirichlet(np.ones(5), size=4)
    gradcheck(ops.softmax_cross_entropy, [logits, target])
    labels = np.array([0, 4, 2, 2])
    gradcheck(lambda t, lab: ops.sparse_softmax_cross_entropy(t, lab), [logits, labels])
    gradcheck(ops.sigmoid_cross_entropy, [logits, R.random((4, 5))])
    gradcheck(lambda p, y: ops.mean_squared_error(y, p), [logits, target])
    gradcheck(lambda p, y: ops.mean_absolute_error(y, p), [logits, target + 0.01])


def test_dropout_gradient_uses_the_forward_mask():
    x = rand(6, 5)
    gradcheck(lambda t: ops.dropout(t, 0.4, seed=3), [x])


def test_probability_space_losses_gradients():
    from kcore import losses

    p = R.dirichlet(np.ones(4), size=3)
    y = np.eye(4)[[0, 3, 1]]
    gradcheck(lambda t, yy: losses.categorical_crossentropy(yy, t), [p, y])
    gradcheck(lambda t, yy: losses.binary_crossentropy(yy, t), [R.uniform(0.1, 0.9, (3, 4)), R.random((3, 4))])
    gradcheck(lambda t, yy: losses.sparse_categorical_crossentropy(yy, t), [p, np.array([0, 3, 1])])
