"""Native recurrent ops (kcore.ops.simple_rnn / lstm / gru): gradients and parity with NumPy.

The NumPy reference (tests/rnn_reference.py) steps through time exactly as KERAS_SPEC section 4
writes the equations; the native kernels must match it in float64 (to rounding) and float32.
"""
import os
import sys

import numpy as np
import pytest

from kcore import ops
from kcore.backend.autodiff import GradientTape
from kcore.backend.tensor import Variable, convert_to_tensor
from kcore.testing import gradcheck

sys.path.insert(0, os.path.dirname(__file__))
from rnn_reference import make_cell, run_rnn  # noqa: E402

# (kind, gates, reset_after)
CELLS = [("simple_rnn", 1, True), ("lstm", 4, True), ("gru", 3, True), ("gru", 3, False)]
MASK = np.array([[1, 1, 0, 1], [0, 1, 1, 0]])  # holes, a masked first step and a masked last step


def _weights(rng, kind, gates, reset_after, d, u, scale=0.5):
    w = rng.standard_normal((d, gates * u)) * scale
    r = rng.standard_normal((u, gates * u)) * scale
    b = rng.standard_normal((2, gates * u) if kind == "gru" and reset_after else (gates * u,)) * scale
    return w, r, b


def _run_op(kind, reset_after, x, w, r, b, states, **kw):
    """Calls the native op; returns (outputs, [final states])."""
    init = list(states) if states else None
    if kind == "lstm":
        out, h, c = ops.lstm(x, w, r, b, initial_state=init, **kw)
        return out, [h, c]
    if kind == "gru":
        out, h = ops.gru(x, w, r, b, initial_state=init, reset_after=reset_after, **kw)
        return out, [h]
    kw.pop("recurrent_activation", None)
    out, h = ops.simple_rnn(x, w, r, b, initial_state=init, **kw)
    return out, [h]


@pytest.mark.parametrize("kind,gates,reset_after", CELLS)
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("masked", [False, True])
def test_forward_matches_reference_float64(kind, gates, reset_after, go_backwards, masked):
    rng = np.random.default_rng(0)
    b_, t, d, u = 2, 4, 3, 5
    x = rng.standard_normal((b_, t, d))
    w, r, b = _weights(rng, kind, gates, reset_after, d, u)
    states = [rng.standard_normal((b_, u)) for _ in range(2 if kind == "lstm" else 1)]
    mask = MASK if masked else None
    out, finals = _run_op(kind, reset_after, *map(convert_to_tensor, (x, w, r, b)), [convert_to_tensor(s) for s in states],
                          mask=mask, go_backwards=go_backwards)
    ref_out, ref_states = run_rnn(make_cell(kind, reset_after=reset_after), x, w, r, b, states, mask, go_backwards)
    np.testing.assert_allclose(out.numpy(), ref_out, atol=1e-12)
    for got, want in zip(finals, ref_states):
        np.testing.assert_allclose(got.numpy(), want, atol=1e-12)


@pytest.mark.parametrize("activation,recurrent_activation", [
    ("tanh", "sigmoid"), ("relu", "hard_sigmoid"), ("linear", "hard_sigmoid_k2"), ("sigmoid", "sigmoid")])
@pytest.mark.parametrize("kind,gates,reset_after", CELLS)
def test_float32_activations_match_reference(kind, gates, reset_after, activation, recurrent_activation):
    rng = np.random.default_rng(1)
    b_, t, d, u = 3, 6, 4, 8
    x = rng.standard_normal((b_, t, d))
    w, r, b = _weights(rng, kind, gates, reset_after, d, u, scale=0.3)
    f32 = [convert_to_tensor(a.astype(np.float32)) for a in (x, w, r, b)]
    out, finals = _run_op(kind, reset_after, *f32, None, activation=activation,
                          recurrent_activation=recurrent_activation)
    rec = recurrent_activation if kind != "simple_rnn" else "sigmoid"
    step = make_cell(kind, activation, rec, reset_after)
    zeros = [np.zeros((b_, u))] * (2 if kind == "lstm" else 1)
    ref_out, ref_states = run_rnn(step, x, *(a.astype(np.float32).astype(np.float64) for a in (w, r, b)), zeros)
    assert out.dtype == "float32"
    np.testing.assert_allclose(out.numpy(), ref_out, atol=2e-5)
    np.testing.assert_allclose(finals[0].numpy(), ref_states[0], atol=2e-5)


@pytest.mark.parametrize("kind,gates,reset_after", CELLS)
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("masked", [False, True])
def test_gradcheck_all_inputs(kind, gates, reset_after, go_backwards, masked):
    """Gradients of x, kernel, recurrent kernel, bias and initial states, through outputs and final states."""
    rng = np.random.default_rng(2)
    b_, t, d, u = 2, 4, 3, 3
    x = rng.standard_normal((b_, t, d))
    w, r, b = _weights(rng, kind, gates, reset_after, d, u)
    states = [rng.standard_normal((b_, u)) for _ in range(2 if kind == "lstm" else 1)]
    mask = MASK if masked else None

    def fn(x, w, r, b, *states):
        out, finals = _run_op(kind, reset_after, x, w, r, b, states, mask=mask, go_backwards=go_backwards)
        return ops.concatenate([ops.reshape(out, (b_, t * u))] + finals, axis=1)

    assert gradcheck(fn, [x, w, r, b, *states])


@pytest.mark.parametrize("kind,gates,reset_after", CELLS)
def test_gradcheck_without_bias_or_states_with_sigmoid_activation(kind, gates, reset_after):
    rng = np.random.default_rng(3)
    b_, t, d, u = 2, 3, 2, 3
    x = rng.standard_normal((b_, t, d))
    w, r, _ = _weights(rng, kind, gates, reset_after, d, u)

    def fn(x, w, r):
        out, _ = _run_op(kind, reset_after, x, w, r, None, None, activation="sigmoid",
                         recurrent_activation="tanh")
        return out

    assert gradcheck(fn, [x, w, r])


@pytest.mark.parametrize("kind,gates,reset_after", CELLS)
def test_recurrent_dropout_mask_matches_reference_and_gradcheck(kind, gates, reset_after):
    rng = np.random.default_rng(6)
    b_, t, d, u = 2, 4, 3, 3
    x = rng.standard_normal((b_, t, d))
    w, r, b = _weights(rng, kind, gates, reset_after, d, u)
    states = [rng.standard_normal((b_, u)) for _ in range(2 if kind == "lstm" else 1)]
    rec_mask = (rng.random((b_, u)) > 0.4) / 0.6
    out, finals = _run_op(kind, reset_after, *map(convert_to_tensor, (x, w, r, b)),
                          [convert_to_tensor(s) for s in states], mask=MASK, recurrent_dropout_mask=rec_mask)
    ref_out, ref_states = run_rnn(make_cell(kind, reset_after=reset_after), x, w, r, b, states, MASK,
                                  rec_mask=rec_mask)
    np.testing.assert_allclose(out.numpy(), ref_out, atol=1e-12)
    np.testing.assert_allclose(finals[-1].numpy(), ref_states[-1], atol=1e-12)

    def fn(x, w, r, b, *states):
        out, finals = _run_op(kind, reset_after, x, w, r, b, states, mask=MASK, recurrent_dropout_mask=rec_mask)
        return ops.concatenate([ops.reshape(out, (b_, t * u))] + finals, axis=1)

    assert gradcheck(fn, [x, w, r, b, *states])


def test_gradient_of_final_state_only_and_of_sequence_only_add_up():
    """The two gradient paths (sequence, final states) of one native node combine correctly."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 5, 3))
    w, r, b = _weights(rng, "lstm", 4, True, 3, 4)
    kv = Variable(w, dtype="float64")

    def grad(use_seq, use_h, use_c):
        with GradientTape() as tape:
            out, h, c = ops.lstm(convert_to_tensor(x), kv, convert_to_tensor(r), convert_to_tensor(b))
            terms = ([ops.sum(out)] if use_seq else []) + ([ops.sum(h)] if use_h else []) + \
                    ([ops.sum(c)] if use_c else [])
            total = terms[0]
            for t in terms[1:]:
                total = ops.add(total, t)
        return tape.gradient(total, kv).numpy()

    both = grad(True, True, True)
    np.testing.assert_allclose(both, grad(True, False, False) + grad(False, True, False) + grad(False, False, True),
                               atol=1e-12)
    assert np.abs(grad(False, False, True)).sum() > 0


def test_masked_first_steps_output_zero_and_keep_initial_state():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((1, 3, 2))
    w, r, b = _weights(rng, "gru", 3, True, 2, 3)
    h0 = np.ones((1, 3))
    out, h = ops.gru(*map(convert_to_tensor, (x, w, r, b)), initial_state=[convert_to_tensor(h0)],
                     mask=np.array([[0, 0, 0]]))
    np.testing.assert_array_equal(out.numpy(), 0.0)  # Keras: masked steps repeat the previous output (zeros)
    np.testing.assert_array_equal(h.numpy(), h0)     # and carry the state


def test_zero_length_sequence_returns_initial_state():
    x = np.zeros((2, 0, 3))
    w, r = np.ones((3, 8)), np.ones((2, 8))
    h0, c0 = np.full((2, 2), 0.5), np.full((2, 2), -0.5)
    out, h, c = ops.lstm(*map(convert_to_tensor, (x, w, r)), initial_state=[convert_to_tensor(h0),
                                                                             convert_to_tensor(c0)])
    assert out.shape == (2, 0, 2)
    np.testing.assert_array_equal(h.numpy(), h0)
    np.testing.assert_array_equal(c.numpy(), c0)


def test_bad_inputs_raise_clear_errors():
    x = convert_to_tensor(np.zeros((4, 3), np.float32))
    w, r = convert_to_tensor(np.zeros((3, 8), np.float32)), convert_to_tensor(np.zeros((2, 8), np.float32))
    with pytest.raises(ValueError, match="time axis is missing"):
        ops.lstm(x, w, r)
    x3 = convert_to_tensor(np.zeros((4, 5, 3), np.float32))
    with pytest.raises(ValueError, match="kernel must have shape"):
        ops.lstm(x3, convert_to_tensor(np.zeros((2, 8), np.float32)), r)
    with pytest.raises(ValueError, match="recurrent_kernel"):
        ops.gru(x3, convert_to_tensor(np.zeros((3, 6), np.float32)), r)
    with pytest.raises(ValueError, match="bias must have shape"):
        ops.gru(x3, convert_to_tensor(np.zeros((3, 6), np.float32)),
                convert_to_tensor(np.zeros((2, 6), np.float32)), convert_to_tensor(np.zeros((6,), np.float32)))
    with pytest.raises(ValueError, match="mask must have shape"):
        ops.lstm(x3, w, r, mask=np.ones((4, 4)))
    with pytest.raises(ValueError, match="initial h state"):
        ops.lstm(x3, w, r, initial_state=[np.zeros((3, 2)), np.zeros((4, 2))])
    with pytest.raises(ValueError, match="expected 2 initial state"):
        ops.lstm(x3, w, r, initial_state=[np.zeros((4, 2))])
    with pytest.raises(ValueError, match="activations"):
        ops.lstm(x3, w, r, activation="softmax")
