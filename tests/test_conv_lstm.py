"""ConvLSTM1D/2D/3D beyond the Keras parity cases of test_layers_issue13.py: layouts, the cell's own step,
saving, training, errors."""
import numpy as np
import pytest

import kcore
from kcore import layers as L
from kcore.layers.rnn.conv_lstm import ConvLSTMCell


def test_channels_first_equals_channels_last(rng):
    x = rng.standard_normal((2, 3, 5, 4, 2)).astype(np.float32)
    last = L.ConvLSTM2D(3, 3, padding="same", return_sequences=True, return_state=True)
    first = L.ConvLSTM2D(3, 3, padding="same", return_sequences=True, return_state=True,
                         data_format="channels_first")
    x_first = np.ascontiguousarray(x.transpose(0, 1, 4, 2, 3))
    last(x)
    first(x_first)
    first.set_weights(last.get_weights())
    seq, h, c = last(x)
    seq_f, h_f, c_f = first(x_first)
    np.testing.assert_allclose(seq_f.numpy(), seq.numpy().transpose(0, 1, 4, 2, 3), atol=1e-5)
    np.testing.assert_allclose(c_f.numpy(), c.numpy().transpose(0, 3, 1, 2), atol=1e-5)


def test_cell_called_step_by_step_equals_the_layer(rng):
    x = rng.standard_normal((2, 4, 6, 2)).astype(np.float32)
    layer = L.ConvLSTM1D(3, 3, strides=2, return_sequences=True)
    seq = layer(x).numpy()
    cell = layer.cell
    assert isinstance(cell, ConvLSTMCell) and cell.name == "conv_lstm_cell" and layer.filters == 3
    states = cell.get_initial_state(2)
    for t in range(4):
        h, states = cell(x[:, t], states)
        np.testing.assert_allclose(h.numpy(), seq[:, t], atol=1e-5)


def test_weights_config_and_saving(tmp_path, rng):
    layer = L.ConvLSTM2D(4, (3, 2), padding="same", unit_forget_bias=True, return_sequences=True)
    model = kcore.Sequential([L.Input((3, 5, 5, 2)), layer, L.TimeDistributed(L.GlobalAveragePooling2D()),
                              L.LSTM(2)])
    assert [w.shape for w in layer.get_weights()] == [(3, 2, 2, 16), (3, 2, 4, 16), (16,)]
    np.testing.assert_array_equal(layer.get_weights()[2], [0] * 4 + [1] * 4 + [0] * 8)
    assert [w.path for w in layer.weights][0] == f"{layer.name}/conv_lstm_cell/kernel"
    config = layer.get_config()
    assert config["kernel_size"] == (3, 2) and config["filters"] == 4 and "cell" not in config
    assert L.ConvLSTM2D.from_config(config).get_config() == config
    x = rng.standard_normal((2, 3, 5, 5, 2)).astype(np.float32)
    model.save(tmp_path / "m.keras")
    again = kcore.models.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))


def test_conv_lstm_trains(rng):
    x = rng.standard_normal((16, 4, 6, 6, 1)).astype(np.float32)
    y = x.mean(axis=(1, 2, 3, 4))[:, None]
    model = kcore.Sequential([L.Input((4, 6, 6, 1)), L.ConvLSTM2D(4, 3, dropout=0.1, recurrent_dropout=0.1, seed=1),
                              L.GlobalAveragePooling2D(), L.Dense(1)])
    model.compile(optimizer=kcore.optimizers.Adam(learning_rate=0.01), loss="mse")
    history = model.fit(x, y, epochs=8, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_conv_lstm_errors():
    with pytest.raises(ValueError, match="ndim=5"):
        L.ConvLSTM2D(2, 3)(np.zeros((2, 3, 5, 5), np.float32))
    with pytest.raises(ValueError, match="filters"):
        L.ConvLSTM2D(0, 3)
    with pytest.raises(ValueError, match="dilation_rate"):
        L.ConvLSTM1D(2, 3, strides=2, dilation_rate=2)
    with pytest.raises(ValueError, match="padding"):
        L.ConvLSTM1D(2, 3, padding="causal")
    layer = L.ConvLSTM1D(2, 3, return_state=True)
    layer(np.zeros((2, 3, 5, 1), np.float32))
    with pytest.raises(ValueError, match=r"initial state must have shape \(2, 3, 2\)"):
        layer(np.zeros((2, 3, 5, 1), np.float32), initial_state=[np.zeros((2, 2))] * 2)


def test_float64_gradcheck_of_inputs_and_weights(rng):
    """Finite differences in float64 through the hoisted input conv, the step loop and a mask."""
    from kcore.testing import gradcheck

    layer = L.ConvLSTM2D(2, 2, padding="same", return_sequences=True, dtype="float64")
    x = rng.standard_normal((2, 3, 3, 3, 1))
    mask = np.array([[1, 0, 1], [1, 1, 1]], bool)
    layer(x)
    cell = layer.cell
    weights = [w.numpy() for w in (cell.kernel, cell.recurrent_kernel, cell.bias)]

    def run(inputs, kernel, recurrent_kernel, bias):
        cell.kernel, cell.recurrent_kernel, cell.bias = kernel, recurrent_kernel, bias
        return layer(inputs, mask=mask)

    try:
        assert gradcheck(run, [x] + weights, atol=1e-6)
    finally:
        cell.kernel, cell.recurrent_kernel, cell.bias = cell._weights
