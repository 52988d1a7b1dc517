"""Recurrent cells, RNN(cell) and StackedRNNCells against real Keras 3 (tests/data/gen/make_keras_cells_reference.py).

Weights are copied from Keras; outputs, states and gradients must match Keras's float32 numbers.
"""
import json
import os
import sys
import zipfile

import numpy as np
import pytest

import kcore
from kcore import layers as L
from kcore import ops
from kcore.backend.autodiff import GradientTape
from kcore.backend.tensor import convert_to_tensor

sys.path.insert(0, os.path.dirname(__file__))
from issue13_cases import cell_cases, make_tanh_cell, sequence_cases, series  # noqa: E402

DATA = os.path.join(os.path.dirname(__file__), "data")


@pytest.fixture(scope="module")
def ref():
    return dict(np.load(os.path.join(DATA, "keras3_cells_reference.npz")))


CELLS = cell_cases(L)
SEQUENCES = sequence_cases(L)
TanhCell = make_tanh_cell(L, ops)


def _flatten(x):
    return [t for s in x for t in _flatten(s)] if isinstance(x, (list, tuple)) else [x]


@pytest.mark.parametrize("name", sorted(CELLS))
def test_cell_step_matches_keras(ref, name):
    cell = CELLS[name]()
    x = ref["step_x"]
    states = series(ref, f"cell_{name}|s")
    cell(x, states)
    cell.set_weights(series(ref, f"cell_{name}|w"))
    y, new = cell(x, states)
    got = [y] + list(new)
    want = series(ref, f"cell_{name}|o")
    assert len(got) == len(want)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g.numpy(), w, atol=2e-6)


def test_cell_weights_names_and_state_sizes():
    lstm, gru, simple = L.LSTMCell(3), L.GRUCell(2), L.SimpleRNNCell(5)
    for cell in (lstm, gru, simple):
        cell(np.zeros((1, 4), np.float32), [np.zeros((1, s), np.float32) for s in _flatten([cell.state_size])])
    assert [w.name for w in lstm.weights] == ["kernel", "recurrent_kernel", "bias"]
    assert [w.shape for w in lstm.get_weights()] == [(4, 12), (3, 12), (12,)]
    assert [w.shape for w in gru.get_weights()] == [(4, 6), (2, 6), (2, 6)]
    assert (lstm.state_size, gru.state_size, simple.state_size) == ([3, 3], 2, 5)
    assert lstm.output_size == 3
    # a single state given without a list comes back without a list, as in Keras
    y, h = gru(np.ones((2, 4), np.float32), np.zeros((2, 2), np.float32))
    assert not isinstance(h, list) and h is y


@pytest.mark.parametrize("masked", [0, 1])
@pytest.mark.parametrize("name", sorted(SEQUENCES))
def test_rnn_over_cells_matches_keras_outputs_and_gradients(ref, name, masked):
    key = f"{name}_m{masked}"
    layer = SEQUENCES[name]()
    x = ref["seq_x"]
    layer(x)
    layer.set_weights(series(ref, f"{key}|w"))
    xt = convert_to_tensor(x)
    xt.requires_grad = True
    variables = layer.trainable_weights
    with GradientTape() as tape:
        res = layer(xt, mask=ref["seq_mask"] if masked else None)
        flat = _flatten(res)
        loss = ops.sum(ops.multiply(flat[0], ref[f"{key}|r"]))
    grads = tape.gradient(loss, variables + [xt])
    want = series(ref, f"{key}|o")
    assert len(flat) == len(want)
    for g, w in zip(flat, want):
        np.testing.assert_allclose(g.numpy(), w, atol=3e-6, err_msg=key)
    for g, w in zip(grads, series(ref, f"{key}|g")):
        np.testing.assert_allclose(np.asarray(g.numpy()), w, atol=2e-5, err_msg=key)


def test_rnn_over_builtin_cells_uses_the_fused_path_and_user_cells_step():
    assert L.RNN(L.LSTMCell(2))._native is not None
    assert L.RNN([L.LSTMCell(2), L.GRUCell(3)])._native is not None
    assert L.RNN([L.LSTMCell(2), TanhCell(3)])._native is None

    class MyLSTM(L.LSTMCell):  # a subclass with its own step is the user's cell
        def call(self, inputs, states, training=None):
            return super().call(inputs, states, training=training)

    assert L.RNN(MyLSTM(2))._native is None


def test_step_path_equals_fused_path(rng):
    """The same weights through RNN's Python loop (a subclassed cell) and the native sequence kernels."""

    class SteppedGRU(L.GRUCell):
        def call(self, inputs, states, training=None):
            return super().call(inputs, states, training=training)

    x = rng.standard_normal((3, 6, 4)).astype(np.float32)
    mask = np.array([[1, 1, 0, 1, 1, 0], [1] * 6, [0, 1, 1, 1, 1, 1]], bool)
    fused = L.RNN([L.GRUCell(3), L.LSTMCell(2)], return_sequences=True, return_state=True, go_backwards=True)
    stepped = L.RNN([SteppedGRU(3), L.LSTMCell(2)], return_sequences=True, return_state=True, go_backwards=True)
    fused(x)
    stepped(x)
    stepped.set_weights(fused.get_weights())
    for a, b in zip(_flatten(fused(x, mask=mask)), _flatten(stepped(x, mask=mask))):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-6)


def test_lstm_gru_simplernn_expose_their_cell():
    lstm = L.LSTM(3, recurrent_activation="hard_sigmoid", dropout=0.1, unit_forget_bias=False)
    assert isinstance(lstm.cell, L.LSTMCell) and lstm.cell.name == "lstm_cell"
    assert (lstm.units, lstm.recurrent_activation, lstm.dropout, lstm.unit_forget_bias) == (3, "hard_sigmoid", 0.1,
                                                                                           False)
    assert isinstance(L.GRU(2).cell, L.GRUCell) and L.GRU(2, reset_after=False).reset_after is False
    assert isinstance(L.SimpleRNN(2).cell, L.SimpleRNNCell)
    config = lstm.get_config()
    assert "cell" not in config and config["units"] == 3 and config["recurrent_activation"] == "hard_sigmoid"
    lstm(np.zeros((1, 2, 5), np.float32))
    assert [w.path for w in lstm.weights] == [f"{lstm.name}/lstm_cell/{n}" for n in ("kernel", "recurrent_kernel",
                                                                                     "bias")]


def test_stacked_cells_weight_paths_nested_states_and_config():
    rnn = L.RNN(L.StackedRNNCells([L.LSTMCell(4), L.GRUCell(3)]), return_state=True)
    out = rnn(np.zeros((2, 5, 3), np.float32))
    assert [tuple(o.shape) for o in _flatten(out)] == [(2, 3), (2, 4), (2, 4), (2, 3)]
    assert isinstance(out[1], list) and len(out) == 3  # [output, [h, c], h2] as Keras nests them
    stack = rnn.cell
    assert [w.path for w in rnn.weights][0] == f"{rnn.name}/{stack.name}/{stack.cells[0].name}/kernel"
    assert stack.state_size == [[4, 4], 3] and stack.output_size == 3
    clone = L.RNN.from_config(rnn.get_config())
    assert [type(c).__name__ for c in clone.cell.cells] == ["LSTMCell", "GRUCell"]
    assert clone.return_state and clone.cell.cells[1].units == 3


def test_user_cell_trains_like_keras(ref):
    """A user-written cell inside RNN, SGD(0.1) from Keras's weights: the same loss curve as Keras 3."""
    model = kcore.Sequential([L.Input((7, 3)), L.RNN(TanhCell(5)), L.Dense(1)])
    model.set_weights(series(ref, "train|w"))
    model.compile(optimizer=kcore.optimizers.SGD(learning_rate=0.1), loss="mse")
    history = model.fit(ref["train|x"], ref["train|y"], batch_size=16, epochs=6, shuffle=False, verbose=0)
    np.testing.assert_allclose(history.history["loss"], ref["train|loss"], rtol=1e-5)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_real_keras3_file_with_stacked_cells_loads_predicts_and_round_trips(tmp_path):
    """keras3_cells.keras: RNN(StackedRNNCells([LSTMCell, GRUCell])) + RNN(SimpleRNNCell, go_backwards) + Dense."""
    model = kcore.models.load_model(os.path.join(DATA, "keras3_cells.keras"))
    io = np.load(os.path.join(DATA, "keras3_cells_io.npz"))
    got = model.predict(io["x"], verbose=0)
    np.testing.assert_allclose(got, io["y"], rtol=1e-5, atol=1e-6)
    model.save(tmp_path / "again.keras")
    again = kcore.models.load_model(tmp_path / "again.keras")
    np.testing.assert_array_equal(again.predict(io["x"], verbose=0), got)


def test_user_cell_saves_and_loads_with_custom_objects(tmp_path, rng):
    x = rng.standard_normal((2, 4, 3)).astype(np.float32)
    model = kcore.Sequential([L.Input((4, 3)), L.RNN(TanhCell(2), return_sequences=True)])
    model.save(tmp_path / "cell.keras")
    again = kcore.models.load_model(tmp_path / "cell.keras", custom_objects={"TanhCell": TanhCell})
    np.testing.assert_array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))


def test_cell_state_mismatch_and_bad_inputs_are_clear_errors():
    class TwoStates(TanhCell):
        def call(self, inputs, states):
            h, _ = super().call(inputs, states)
            return h, [h, h]

    class WrongOutput(TanhCell):
        def call(self, inputs, states):
            h, _ = super().call(inputs, states)
            return ops.concatenate([h, h], axis=-1), [h]

    x = np.zeros((2, 3, 4), np.float32)
    with pytest.raises(ValueError, match=r"state_size 2 .*returned 2 state\(s\) of shapes \[\(2, 2\), \(2, 2\)\]"):
        L.RNN(TwoStates(2), name="bad_rnn")(x)
    with pytest.raises(ValueError, match="output of shape"):
        L.RNN(WrongOutput(2))(x)
    with pytest.raises(ValueError, match="`call` method"):
        L.RNN(object())
    with pytest.raises(ValueError, match="`state_size` attribute"):
        L.RNN(L.Dense(2))
    with pytest.raises(ValueError, match="time axis is missing"):
        L.RNN(L.LSTMCell(2))(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="initial state"):
        L.RNN([L.LSTMCell(2), L.GRUCell(2)])(x, initial_state=[np.zeros((2, 2))] * 2)
    with pytest.raises(ValueError, match="has 2 state"):
        L.LSTMCell(2)(np.zeros((2, 4), np.float32), [np.zeros((2, 2), np.float32)])
    with pytest.raises(ValueError, match="step input"):
        L.GRUCell(2)(np.zeros((2, 3, 4), np.float32), [np.zeros((2, 2), np.float32)])
    with pytest.raises(ValueError, match="units"):
        L.LSTMCell(0)


def test_cell_dropout_masks_are_drawn_once_per_sequence(rng):
    cell = L.GRUCell(3, dropout=0.5, recurrent_dropout=0.5, seed=2)
    x = rng.standard_normal((4, 5)).astype(np.float32)
    h = np.zeros((4, 3), np.float32)
    cell(x, [h])
    inference = cell(x, [h])[0].numpy()
    train = [cell(x, [h], training=True)[0].numpy() for _ in range(2)]
    np.testing.assert_array_equal(train[0], train[1])  # the cached masks are reused step after step
    assert not np.allclose(train[0], inference)
    cell.reset_dropout_mask()
    cell.reset_recurrent_dropout_mask()
    assert cell._dropout_mask is None and cell._recurrent_dropout_mask is None
    rnn = L.RNN(cell, return_sequences=True)
    first = rnn(rng.standard_normal((4, 6, 5)).astype(np.float32), training=True)
    assert first.shape == (4, 6, 3)


def test_bidirectional_over_rnn_of_cells_and_of_a_user_cell(rng):
    x = rng.standard_normal((2, 5, 3)).astype(np.float32)
    stacked = L.Bidirectional(L.RNN([L.LSTMCell(2), L.GRUCell(3)], return_sequences=True))
    assert stacked(x).shape == (2, 5, 6) and len(stacked.weights) == 12
    user = L.Bidirectional(L.RNN(TanhCell(2)), merge_mode="sum")
    out = user(x)
    fw, bw = user.forward_layer, user.backward_layer
    np.testing.assert_allclose(out.numpy(), fw(x).numpy() + bw(x).numpy(), atol=1e-6)
    assert type(bw.cell) is TanhCell and bw.go_backwards


def test_symbolic_initial_state_in_a_functional_encoder_decoder(tmp_path, rng):
    enc_in, dec_in = L.Input((5, 3)), L.Input((4, 3))
    _, h, c = L.LSTM(6, return_state=True)(enc_in)
    decoder = L.RNN(L.LSTMCell(6), return_sequences=True)
    model = kcore.Model([enc_in, dec_in], L.Dense(2)(decoder(dec_in, initial_state=[h, c])))
    x = [rng.standard_normal((2, 5, 3)).astype(np.float32), rng.standard_normal((2, 4, 3)).astype(np.float32)]
    got = model.predict(x, verbose=0)
    encoder, dense = model.layers[2], model.layers[-1]
    _, h0, c0 = encoder(x[0])
    np.testing.assert_allclose(got, dense(decoder(x[1], initial_state=[h0, c0])).numpy(), atol=1e-6)
    model.save(tmp_path / "s2s.keras")
    np.testing.assert_array_equal(kcore.models.load_model(tmp_path / "s2s.keras").predict(x, verbose=0), got)


@pytest.mark.parametrize("cells", ["stacked", "user"])
def test_stateful_rnn_over_cells_carries_states(cells, rng):
    def make(**kw):
        cell = [L.LSTMCell(3), L.GRUCell(2)] if cells == "stacked" else TanhCell(3)
        return L.RNN(cell, **kw)

    x = rng.standard_normal((2, 6, 4)).astype(np.float32)
    whole, stateful, unrolled = make(), make(stateful=True), make(unroll=True)
    whole(x)
    stateful(x[:, :3])
    unrolled(x)
    stateful.set_weights(whole.get_weights())
    unrolled.set_weights(whole.get_weights())
    stateful.reset_states()
    stateful(x[:, :3])
    np.testing.assert_allclose(stateful(x[:, 3:]).numpy(), whole(x).numpy(), atol=1e-6)
    np.testing.assert_array_equal(unrolled(x).numpy(), whole(x).numpy())
    stateful.reset_states()
    np.testing.assert_allclose(stateful(x[:, :3]).numpy(), whole(x[:, :3]).numpy(), atol=1e-6)


def test_float64_gradcheck_of_the_step_loop_with_a_mask(rng):
    """The Python step loop (user cell, masked steps carried over, go_backwards) against finite differences."""
    from kcore.testing import gradcheck

    rnn = L.RNN(TanhCell(3, dtype="float64"), return_sequences=True, go_backwards=True, dtype="float64")
    x = rng.standard_normal((2, 4, 2))
    mask = np.array([[1, 1, 0, 1], [0, 1, 1, 1]], bool)
    rnn(x)
    cell = rnn.cell
    weights = [w.numpy() for w in cell._weights]

    def run(inputs, kernel, recurrent_kernel, bias, h0):
        cell.kernel, cell.recurrent_kernel, cell.bias = kernel, recurrent_kernel, bias
        return rnn(inputs, mask=mask, initial_state=[h0])

    try:
        assert gradcheck(run, [x] + weights + [rng.standard_normal((2, 3))], atol=1e-6)
    finally:
        cell.kernel, cell.recurrent_kernel, cell.bias = cell._weights


def test_real_keras3_encoder_decoder_with_initial_state_loads_and_round_trips(tmp_path):
    """keras3_s2s.keras: decoders started from encoder states (Keras stores initial_state in the node kwargs)."""
    model = kcore.models.load_model(os.path.join(DATA, "keras3_s2s.keras"))
    io = np.load(os.path.join(DATA, "keras3_s2s_io.npz"))
    x = [io["x0"], io["x1"]]
    got = model.predict(x, verbose=0)
    np.testing.assert_allclose(got, io["y"], rtol=1e-5, atol=1e-6)
    model.save(tmp_path / "again.keras")
    with zipfile.ZipFile(tmp_path / "again.keras") as z:
        config = json.loads(z.read("config.json"))
    decoder = [layer for layer in config["config"]["layers"] if layer["class_name"] == "RNN"][0]
    node = decoder["inbound_nodes"][0]
    assert len(node["kwargs"]["initial_state"]) == 2 and node["args"][0]["class_name"] == "__keras_tensor__"
    assert decoder["build_config"]["input_shape"] == [None, 4, 3]
    np.testing.assert_array_equal(kcore.models.load_model(tmp_path / "again.keras").predict(x, verbose=0), got)
