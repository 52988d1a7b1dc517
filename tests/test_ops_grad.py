"""Gradient checks the op table (tests/op_table.py) does not express as one row: compositions of ops
and losses built from several ops. Every public op's own float64 gradient check is a row there."""
import numpy as np

from kcore import ops
from kcore.testing import gradcheck

R = np.random.default_rng(7)


def rand(*shape, low=-2.0, high=2.0):
    return R.uniform(low, high, shape)


def test_matmul_of_transposed_views_gradients():
    gradcheck(lambda a, b: ops.matmul(ops.transpose(a), ops.transpose(b)), [rand(4, 3), rand(5, 4)])


def test_shape_op_chain_gradients():
    x = rand(2, 3, 4)
    gradcheck(lambda t: ops.expand_dims(ops.squeeze(ops.reshape(t, (1, 24)), 0), -1), [x])
    gradcheck(lambda t: ops.split(t, 2, axis=2)[1], [x])  # one piece of a split: the rest get zeros


def test_cast_gradient_passes_through():
    gradcheck(lambda t: ops.cast(ops.cast(t, "float32"), "float64"), [rand(3, 2)], atol=1e-3, rtol=1e-3,
              eps=1e-3)


def test_probability_space_losses_gradients():
    from kcore import losses

    p = R.dirichlet(np.ones(4), size=3)
    y = np.eye(4)[[0, 3, 1]]
    gradcheck(lambda t, yy: losses.categorical_crossentropy(yy, t), [p, y])
    gradcheck(lambda t, yy: losses.binary_crossentropy(yy, t), [R.uniform(0.1, 0.9, (3, 4)), R.random((3, 4))])
    gradcheck(lambda t, yy: losses.sparse_categorical_crossentropy(yy, t), [p, np.array([0, 3, 1])])
