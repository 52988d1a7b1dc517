"""Native recurrent ops (kcore.ops.simple_rnn / lstm / gru): special cases and Keras parity.

Parity with the NumPy reference (tests/rnn_reference.py, KERAS_SPEC section 4) in float64 and
float32 and the gradient checks over masks, go_backwards, initial states and activations are
op table rows (tests/op_rows_nn.py); this file keeps what one row cannot say.
"""
import json
import os
import sys

import numpy as np
import pytest

import kcore
from kcore import layers, ops
from kcore.backend.autodiff import GradientTape
from kcore.backend.tensor import Variable, convert_to_tensor
from kcore.models import Model, Sequential
from kcore.testing import gradcheck

sys.path.insert(0, os.path.dirname(__file__))
from rnn_reference import make_cell, run_rnn
from rnn_reference_cases import reference_cases

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


def _sample(kind, gates, reset_after, seed, sizes):
    """Float64 inputs (batch, time, features), weights and initial states for one cell kind."""
    rng = np.random.default_rng(seed)
    b_, t, d, u = sizes
    x = rng.standard_normal((b_, t, d))
    w, r, b = _weights(rng, kind, gates, reset_after, d, u)
    states = [rng.standard_normal((b_, u)) for _ in range(2 if kind == "lstm" else 1)]
    return x, w, r, b, states


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
    sizes = b_, t, d, u = (2, 4, 3, 3)
    x, w, r, b, states = _sample(kind, gates, reset_after, seed=6, sizes=sizes)
    rec_mask = (np.random.default_rng(60).random((b_, u)) > 0.4) / 0.6
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


@pytest.mark.parametrize("kind,gates,reset_after", CELLS)
def test_long_sequences_weight_gradients_add_up_over_the_batch(kind, gates, reset_after):
    """Above 4096 rows the weight-gradient GEMMs probe BLAS thread counts in pieces; the sum must not change."""
    rng = np.random.default_rng(7)
    x = rng.standard_normal((64, 70, 3))
    w, r, b = _weights(rng, kind, gates, reset_after, 3, 4, scale=0.3)
    variables = [Variable(a, dtype="float64") for a in (w, r, b)]

    def grads(xs):
        with GradientTape() as tape:
            out, finals = _run_op(kind, reset_after, convert_to_tensor(xs), *variables, None)
            loss = ops.add(ops.sum(out), ops.sum(finals[0]))
        return [g.numpy() for g in tape.gradient(loss, variables)]

    halves = [a + c for a, c in zip(grads(x[:32]), grads(x[32:]))]
    for _ in range(2):  # the first call probes, the second uses the choice
        for got, want in zip(grads(x), halves):
            np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


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


# ================================ layers =====================================================

_KIND = {layers.SimpleRNN: "simple_rnn", layers.LSTM: "lstm", layers.GRU: "gru"}


def _reference_layer(layer, x, mask=None, initial_states=None, rec_mask=None):
    """NumPy outputs of a built SimpleRNN/LSTM/GRU layer: (sequence in processed order, final states)."""
    kind = _KIND[type(layer)]
    w = [v.astype(np.float64) for v in layer.get_weights()]
    b = w[2] if layer.use_bias else None
    step = make_cell(kind, layer.activation, getattr(layer, "recurrent_activation", "sigmoid"),
                     getattr(layer, "reset_after", True))
    n = 2 if kind == "lstm" else 1
    states = initial_states or [np.zeros((x.shape[0], layer.units))] * n
    return run_rnn(step, x, w[0], w[1], b, states, mask, layer.go_backwards, rec_mask)


def _right_padded(rng, batch=4, steps=7, features=3):
    x = rng.standard_normal((batch, steps, features)).astype(np.float32)
    lengths = rng.integers(1, steps + 1, batch)
    lengths[0] = steps
    mask = np.arange(steps)[None, :] < lengths[:, None]
    return x * mask[..., None], mask


def test_keras3_golden_outputs():
    """Keras 3.15 (TensorFlow backend) outputs for the same weights (tests/data/make_keras_rnn_reference.py)."""
    with open(os.path.join(os.path.dirname(__file__), "data", "keras3_rnn_reference.json")) as f:
        ref = json.load(f)
    x, mask = np.array(ref["x"], np.float32), np.array(ref["mask"])
    makers = reference_cases(layers)
    assert len(ref["cases"]) == 2 * len(makers)
    for key, case in ref["cases"].items():
        name, masked = key.split("|")
        layer = makers[name]()
        layer(x)
        layer.set_weights([np.array(w, np.float32) for w in case["weights"]])
        out = layer(x, mask=mask if masked == "1" else None)
        outs = out if isinstance(out, list) else [out]
        assert len(outs) == len(case["outputs"]), key
        for got, want in zip(outs, case["outputs"]):
            np.testing.assert_allclose(got.numpy(), np.array(want), atol=2e-6, err_msg=key)


def test_weights_names_shapes_order_and_initializers():
    x = np.zeros((2, 3, 4), np.float32)
    lstm, gru, gru0, rnn = layers.LSTM(2), layers.GRU(3), layers.GRU(3, reset_after=False), layers.SimpleRNN(5)
    for layer in (lstm, gru, gru0, rnn):
        layer(x)
    assert [w.path for w in lstm.weights] == [f"{lstm.name}/lstm_cell/{n}" for n in
                                             ("kernel", "recurrent_kernel", "bias")]
    assert [w.shape for w in lstm.get_weights()] == [(4, 8), (2, 8), (8,)]
    np.testing.assert_array_equal(lstm.get_weights()[2], [0, 0, 1, 1, 0, 0, 0, 0])  # unit_forget_bias
    assert [w.shape for w in gru.get_weights()] == [(4, 9), (3, 9), (2, 9)]
    assert [w.shape for w in gru0.get_weights()] == [(4, 9), (3, 9), (9,)]
    assert [w.shape for w in rnn.get_weights()] == [(4, 5), (5, 5), (5,)]
    rk = rnn.get_weights()[1]
    np.testing.assert_allclose(rk @ rk.T, np.eye(5), atol=1e-5)  # orthogonal recurrent kernel
    assert len(layers.LSTM(2, use_bias=False)(x).shape) == 2


@pytest.mark.parametrize("cls", [layers.SimpleRNN, layers.LSTM, layers.GRU])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_layer_matches_reference_with_masked_right_padded_batch(cls, go_backwards, rng):
    x, mask = _right_padded(rng)
    layer = cls(6, return_sequences=True, return_state=True, go_backwards=go_backwards)
    seq, *states = layer(x, mask=mask)
    ref_seq, ref_states = _reference_layer(layer, x, mask)
    np.testing.assert_allclose(seq.numpy(), ref_seq, atol=2e-5)
    for got, want in zip(states, ref_states):
        np.testing.assert_allclose(got.numpy(), want, atol=2e-5)
    last = cls(6, go_backwards=go_backwards)
    last(x)
    last.set_weights(layer.get_weights())
    np.testing.assert_allclose(last(x, mask=mask).numpy(), ref_seq[:, -1], atol=2e-5)
    assert seq._keras_mask is not None and last(x, mask=mask)._keras_mask is None


def test_gru_reset_before_and_activations_match_reference(rng):
    x, _ = _right_padded(rng)
    for layer in (layers.GRU(4, reset_after=False, return_sequences=True),
                  layers.LSTM(4, activation="relu", recurrent_activation="hard_sigmoid", return_sequences=True),
                  layers.SimpleRNN(4, activation="sigmoid", use_bias=False, return_sequences=True)):
        np.testing.assert_allclose(layer(x).numpy(), _reference_layer(layer, x)[0], atol=2e-5)


def test_initial_state_and_stateful_layers(rng):
    x = rng.standard_normal((2, 6, 3)).astype(np.float32)
    h0, c0 = rng.standard_normal((2, 4)).astype(np.float32), rng.standard_normal((2, 4)).astype(np.float32)
    lstm = layers.LSTM(4, return_state=True)
    _, h, c = lstm(x, initial_state=[h0, c0])
    _, (rh, rc) = _reference_layer(lstm, x, initial_states=[h0, c0])
    np.testing.assert_allclose(h.numpy(), rh, atol=2e-5)
    np.testing.assert_allclose(c.numpy(), rc, atol=2e-5)

    stateful = layers.GRU(4, stateful=True)
    whole = layers.GRU(4)
    whole(x)
    stateful(x[:, :3])
    stateful.set_weights(whole.get_weights())
    stateful.reset_states()
    stateful(x[:, :3])
    np.testing.assert_allclose(stateful(x[:, 3:]).numpy(), whole(x).numpy(), atol=1e-5)  # state carried
    stateful.reset_state()
    np.testing.assert_allclose(stateful(x[:, :3]).numpy(), whole(x[:, :3]).numpy(), atol=1e-5)
    with pytest.raises(ValueError, match="fixed batch size"):
        stateful(x[:1])


def test_stacked_return_sequences_in_sequential(rng):
    x, _ = _right_padded(rng)
    model = Sequential([layers.Input((7, 3)), layers.LSTM(5, return_sequences=True), layers.GRU(4),
                        layers.Dense(2)])
    first, second = model.layers[0], model.layers[1]
    seq, _ = _reference_layer(first, x)
    _, (h,) = _reference_layer(second, seq)
    w, b = model.layers[2].get_weights()
    np.testing.assert_allclose(model.predict(x, verbose=0), h @ w + b, atol=2e-5)
    assert model.layers[1].output_shape == (None, 4)


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
def test_bidirectional_merge_modes_match_reference(merge_mode, rng):
    x, mask = _right_padded(rng)
    bi = layers.Bidirectional(layers.LSTM(3, return_sequences=True), merge_mode=merge_mode)
    out = bi(x, mask=mask)
    fw_seq, _ = _reference_layer(bi.forward_layer, x, mask)
    bw_seq, _ = _reference_layer(bi.backward_layer, x, mask)
    fw_seq, bw_seq = fw_seq * mask[..., None], bw_seq[:, ::-1] * mask[..., None]  # aligned, masked steps zero
    want = {"concat": np.concatenate([fw_seq, bw_seq], -1), "sum": fw_seq + bw_seq, "mul": fw_seq * bw_seq,
            "ave": (fw_seq + bw_seq) / 2, None: [fw_seq, bw_seq]}[merge_mode]
    for got, ref in zip(out if merge_mode is None else [out], want if merge_mode is None else [want]):
        np.testing.assert_allclose(got.numpy(), ref, atol=2e-5)
    assert len(bi.get_weights()) == 6
    inner = bi.forward_layer.name[len("forward_"):]
    assert [w.path.split("/")[0] for w in bi.weights] == [f"forward_{inner}"] * 3 + [f"backward_{inner}"] * 3


def test_bidirectional_return_state_and_functional_model(rng):
    x = rng.standard_normal((2, 5, 3)).astype(np.float32)
    inp = layers.Input((5, 3))
    outs = layers.Bidirectional(layers.LSTM(4, return_state=True))(inp)
    assert [tuple(o.shape) for o in outs] == [(None, 8)] + [(None, 4)] * 4
    model = Model(inp, outs)
    got = model.predict(x, verbose=0)
    assert [g.shape for g in got] == [(2, 8)] + [(2, 4)] * 4
    np.testing.assert_allclose(got[0][:, :4], got[1], atol=1e-6)  # forward output == forward h


def test_dropout_only_in_training_and_recurrent_dropout_is_one_mask_per_sequence(rng):
    x = rng.standard_normal((3, 5, 4)).astype(np.float32)
    layer = layers.LSTM(6, dropout=0.5, recurrent_dropout=0.5, seed=1, return_sequences=True)
    plain = layer(x).numpy()
    np.testing.assert_allclose(plain, _reference_layer(layer, x)[0], atol=2e-5)  # inference: no dropout
    assert not np.allclose(layer(x, training=True).numpy(), plain)
    rec_only = layers.GRU(6, recurrent_dropout=0.4, seed=3, return_sequences=True)
    rec_only(x)
    out = rec_only(x, training=True).numpy()
    rec_mask = rec_only.cell._recurrent_dropout_mask.numpy()
    assert set(np.unique(rec_mask)) <= {0.0, np.float32(1 / 0.6)}
    np.testing.assert_allclose(out, _reference_layer(rec_only, x, rec_mask=rec_mask)[0], atol=2e-5)


def test_config_round_trip_and_legacy_arguments():
    layer = layers.GRU(3, reset_after=False, recurrent_activation="hard_sigmoid_k2", return_sequences=True,
                       go_backwards=True, dropout=0.1, implementation=1, unroll=True, input_shape=(4, 2))
    clone = layers.GRU.from_config(layer.get_config())
    for key in ("units", "reset_after", "recurrent_activation", "return_sequences", "go_backwards", "dropout"):
        assert getattr(clone, key) == getattr(layer, key)
    model = Sequential([layer])
    assert model.layers[0].output_shape == (None, 4, 3)
    legacy = Sequential([layers.LSTM(5, input_dim=2, input_length=4), layers.Dense(1)])  # Keras 2 style
    assert legacy.layers[0].output_shape == (None, 5)
    assert legacy.predict(np.zeros((3, 4, 2), np.float32), verbose=0).shape == (3, 1)
    bi = layers.Bidirectional(layers.SimpleRNN(2), merge_mode="sum")
    assert layers.Bidirectional.from_config(bi.get_config()).merge_mode == "sum"


def test_layer_errors_are_clear():
    with pytest.raises(ValueError, match="time axis is missing"):
        layers.LSTM(4)(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="ndim=3"):
        layers.GRU(4)(np.zeros((2, 3, 4, 5), np.float32))
    with pytest.raises(ValueError, match="positive integer"):
        layers.SimpleRNN(0)
    with pytest.raises(ValueError, match="activation"):
        layers.LSTM(3, activation="softmax")
    with pytest.raises(ValueError, match="dropout"):
        layers.LSTM(3, dropout=1.5)
    with pytest.raises(ValueError, match="merge mode"):
        layers.Bidirectional(layers.LSTM(3), merge_mode="max")
    layer = layers.LSTM(3)
    layer(np.zeros((2, 3, 4), np.float32))
    with pytest.raises(ValueError, match="axis -1"):
        layer(np.zeros((2, 3, 5), np.float32))
    with pytest.raises(ValueError, match="initial state"):
        layer(np.zeros((2, 3, 4), np.float32), initial_state=[np.zeros((2, 3))])


def test_lstm_learns_the_sign_of_a_sequence_sum():
    """Sequential + compile/fit: LSTM(16) classifies sign(sum(x)) of 12-step sequences to >= 90% in 8 epochs."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (1024, 12, 1)).astype(np.float32)
    y = (x.sum(axis=(1, 2)) > 0).astype(np.float32)[:, None]
    model = Sequential([layers.Input((12, 1)), layers.LSTM(16), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=kcore.optimizers.Adam(learning_rate=0.02), loss="binary_crossentropy",
                  metrics=["accuracy"])
    model.fit(x[:768], y[:768], batch_size=32, epochs=8, verbose=0)
    _, accuracy = model.evaluate(x[768:], y[768:], verbose=0)
    assert accuracy >= 0.90, accuracy


@pytest.mark.parametrize("name", ["lstm", "bidir"])
def test_real_keras3_recurrent_models_load_predict_and_round_trip(name, tmp_path):
    """Keras 3 .keras files (tests/data/README.md): Embedding(mask_zero)+LSTM+GRU, Bidirectional+SimpleRNN+GRU."""
    data = os.path.join(os.path.dirname(__file__), "data")
    model = kcore.models.load_model(os.path.join(data, f"keras3_{name}.keras"))
    io = np.load(os.path.join(data, f"keras3_{name}_io.npz"))
    got = model.predict(io["x"], verbose=0)
    np.testing.assert_allclose(got, io["y"], rtol=1e-5, atol=1e-6)
    model.save(tmp_path / "again.keras")
    again = kcore.models.load_model(tmp_path / "again.keras")
    np.testing.assert_array_equal(again.predict(io["x"], verbose=0), got)


@pytest.mark.parametrize("kind,gates,reset_after,which",
                         [cell + ("h",) for cell in CELLS] + [("lstm", 4, True, "c"), ("lstm", 4, True, "h_and_c")])
def test_gradcheck_through_final_states_only(kind, gates, reset_after, which):
    """The sequence output gets no gradient: the node's backward sees only the final states'."""
    sizes = b_, t, d, u = (2, 4, 3, 3)
    x, w, r, b, states = _sample(kind, gates, reset_after, seed=7, sizes=sizes)

    def fn(x, w, r, b, *states):
        _, finals = _run_op(kind, reset_after, x, w, r, b, states, mask=MASK)
        picked = {"h": finals[:1], "c": finals[1:], "h_and_c": finals}[which]
        return ops.concatenate(picked, axis=1) if len(picked) > 1 else picked[0]

    assert gradcheck(fn, [x, w, r, b, *states])


def test_mask_goes_to_the_inputs_device_not_the_current_one(monkeypatch):
    """With another current device, a mask for CPU inputs stays on the CPU (no transfer is attempted)."""
    from kcore.backend import device

    rng = np.random.default_rng(8)
    x = rng.standard_normal((2, 4, 3))
    w, r, b = _weights(rng, "lstm", 4, True, 3, 2)
    args = list(map(convert_to_tensor, (x, w, r, b)))
    monkeypatch.setattr(device, "_current", "cuda")  # a transfer to it would load CUDA (and fail without it)
    out, _, _ = ops.lstm(*args, mask=MASK)
    ref_out, _ = run_rnn(make_cell("lstm"), x, w, r, b, [np.zeros((2, 2))] * 2, MASK)
    np.testing.assert_allclose(out.numpy(), ref_out, atol=1e-12)


def test_activation_names_come_from_the_native_list():
    from kcore import layers
    from kcore.backend.native import _C
    from kcore.ops.rnn import ACTIVATIONS

    assert set(ACTIVATIONS) == {"tanh", "relu", "sigmoid", "linear", "hard_sigmoid", "hard_sigmoid_k2"}
    assert all(ACTIVATIONS[name] == getattr(_C.RnnActivation, name) for name in ACTIVATIONS)
    with pytest.raises(ValueError, match="must be one of .*hard_sigmoid_k2"):
        layers.LSTM(2, activation="softplus")
    with pytest.raises(ValueError, match="support the activations"):
        ops.lstm(np.zeros((1, 1, 1)), np.zeros((1, 4)), np.zeros((1, 4)), activation="gelu")
