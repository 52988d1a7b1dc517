"""Autodiff nodes with several outputs (kcore.backend.autodiff.attach_outputs).

One node produces several tensors; its backward runs once, after the gradients of all of its
outputs have been summed, and receives None for an output that got no gradient.
"""
import numpy as np

from kcore import ops
from kcore.backend.autodiff import GradientTape, attach_outputs
from kcore.backend.native import _C
from kcore.backend.tensor import Tensor, Variable


def _split_halves(x, calls):
    """A two-output op: (first half, 2 * second half) of a 1-D tensor; counts backward calls."""
    a = x.numpy()
    n = a.shape[0] // 2
    outs = [Tensor(_C.from_numpy(np.ascontiguousarray(a[:n]))), Tensor(_C.from_numpy(2 * a[n:]))]

    def backward(grads):
        calls.append([None if g is None else np.asarray(g).copy() for g in grads])
        g0 = np.zeros(n) if grads[0] is None else np.asarray(grads[0])
        g1 = np.zeros(n) if grads[1] is None else 2 * np.asarray(grads[1])
        return [_C.from_numpy(np.concatenate([g0, g1]))]

    return attach_outputs(outs, (x,), backward)


def test_backward_runs_once_with_summed_gradients_of_every_output():
    v = Variable(np.arange(4.0), dtype="float64")
    calls = []
    with GradientTape() as tape:
        a, b = _split_halves(v, calls)
        # a is used twice and b three times: each output's gradients are summed before the node runs
        total = ops.add(ops.add(ops.sum(a), ops.sum(ops.multiply(a, 3.0))),
                        ops.add(ops.sum(b), ops.sum(ops.multiply(b, ops.add(b, 0.0)))))
    g = tape.gradient(total, v).numpy()
    assert len(calls) == 1
    np.testing.assert_allclose(calls[0][0], [4.0, 4.0])
    b_val = 2 * np.arange(4.0)[2:]
    np.testing.assert_allclose(calls[0][1], 1 + 2 * b_val)
    np.testing.assert_allclose(g, [4.0, 4.0, *(2 * (1 + 2 * b_val))])


def test_an_output_without_gradient_receives_none():
    v = Variable(np.arange(4.0), dtype="float64")
    calls = []
    with GradientTape() as tape:
        _, b = _split_halves(v, calls)
        total = ops.sum(b)
    np.testing.assert_allclose(tape.gradient(total, v).numpy(), [0, 0, 2, 2])
    assert calls[0][0] is None and calls[0][1] is not None


def test_outputs_feeding_each_other_run_the_node_after_all_consumers():
    """b depends on a only through later ops; the node must wait for both paths."""
    v = Variable(np.arange(4.0), dtype="float64")
    calls = []
    with GradientTape() as tape:
        a, b = _split_halves(v, calls)
        c = ops.multiply(a, b)          # consumes both outputs
        total = ops.add(ops.sum(c), ops.sum(a))
    g = tape.gradient(total, v).numpy()
    a_val, b_val = np.arange(4.0)[:2], 2 * np.arange(4.0)[2:]
    assert len(calls) == 1
    np.testing.assert_allclose(g, np.concatenate([b_val + 1, 2 * a_val]))


def test_nothing_is_recorded_outside_a_tape_and_graph_is_released():
    v = Variable(np.arange(4.0), dtype="float64")
    a, b = _split_halves(v, [])
    assert a.node is None and b.node is None and not a.requires_grad
    calls = []
    with GradientTape() as tape:
        a, b = _split_halves(v, calls)
        total = ops.sum(b)
    tape.gradient(total, v)
    assert b.node.backward is None and b.node.inputs == ()  # a non-persistent tape frees the saved state


def test_persistent_tape_runs_a_multi_output_node_per_gradient_call():
    v = Variable(np.arange(4.0), dtype="float64")
    calls = []
    with GradientTape(persistent=True) as tape:
        a, b = _split_halves(v, calls)
        sa, sb = ops.sum(a), ops.sum(b)
    np.testing.assert_allclose(tape.gradient(sa, v).numpy(), [1, 1, 0, 0])
    np.testing.assert_allclose(tape.gradient(sb, v).numpy(), [0, 0, 2, 2])
    assert len(calls) == 2
