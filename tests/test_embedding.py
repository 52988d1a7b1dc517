"""Embedding and Masking layers: shapes, gradients (native gather / scatter-add), masks into RNNs."""
import os
import sys

import numpy as np
import pytest

from kcore import layers, ops
from kcore.backend.autodiff import GradientTape
from kcore.models import Sequential
from kcore.testing import gradcheck

sys.path.insert(0, os.path.dirname(__file__))
from rnn_reference import make_cell, run_rnn  # noqa: E402


def test_seed_embedding_shape_and_initializer():
    """Seed 001: Embedding(100, 64, input_length=32) on a (100, 32) batch gives (100, 32, 64)."""
    layer = layers.Embedding(100, 64, input_length=32)
    ids = np.random.default_rng(0).integers(0, 100, (100, 32))
    out = layer(ids)
    assert out.shape == (100, 32, 64) and out.dtype == "float32"
    table = layer.get_weights()[0]
    assert table.shape == (100, 64) and np.abs(table).max() <= 0.05  # RandomUniform(-0.05, 0.05)
    np.testing.assert_array_equal(out.numpy(), table[ids])
    assert layer.weights[0].path == f"{layer.name}/embeddings"


def test_input_length_builds_sequential_and_is_checked():
    model = Sequential([layers.Embedding(100, 8, input_length=32), layers.Flatten(), layers.Dense(1)])
    assert model.layers[0].output_shape == (None, 32, 8)
    assert model.layers[1].output_shape == (None, 256)
    assert model.predict(np.zeros((3, 32), np.int64), verbose=0).shape == (3, 1)
    with pytest.raises(ValueError, match="input_length=32"):
        model.layers[0](np.zeros((3, 31), np.int64))


def test_gradient_scatter_adds_repeated_ids():
    table = np.random.default_rng(1).standard_normal((6, 3))
    ids = np.array([[0, 2, 2], [5, 0, 2]])
    assert gradcheck(lambda t: ops.take(t, ids), [table])
    layer = layers.Embedding(6, 3)
    layer(ids)
    with GradientTape() as tape:
        loss = ops.sum(layer(ids))
    grad = tape.gradient(loss, layer.embeddings).numpy()
    np.testing.assert_array_equal(grad[:, 0], [2, 0, 3, 0, 0, 1])  # counts of each id


def test_float_ids_are_accepted_and_bad_ids_rejected():
    layer = layers.Embedding(10, 2)
    np.testing.assert_array_equal(layer(np.array([[1.0, 3.0]])).numpy(), layer(np.array([[1, 3]])).numpy())
    with pytest.raises(ValueError, match="integer ids"):
        layer(np.array([[1.5, 3.0]]))
    with pytest.raises(ValueError):
        layer(np.array([[1, 10]]))  # out of range
    with pytest.raises(ValueError, match="positive integer"):
        layers.Embedding(0, 3)


def test_mask_zero_masks_downstream_lstm():
    ids = np.array([[3, 1, 4, 0, 0], [2, 7, 1, 8, 2], [5, 0, 0, 0, 0]])
    emb = layers.Embedding(10, 4, mask_zero=True)
    lstm = layers.LSTM(3, return_sequences=True)
    vectors = emb(ids)
    np.testing.assert_array_equal(vectors._keras_mask.numpy(), ids != 0)
    out = lstm(vectors)
    w = [a.astype(np.float64) for a in lstm.get_weights()]
    ref, _ = run_rnn(make_cell("lstm"), vectors.numpy(), *w, [np.zeros((3, 3))] * 2, mask=ids != 0)
    np.testing.assert_allclose(out.numpy(), ref, atol=2e-5)
    np.testing.assert_array_equal(out._keras_mask.numpy(), ids != 0)


def test_mask_zero_in_a_trained_sequential_model():
    model = Sequential([layers.Embedding(20, 4, mask_zero=True), layers.GRU(3), layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    ids = np.array([[1, 2, 0, 0], [3, 4, 5, 0]])
    history = model.fit(ids, np.array([[1.0], [0.0]]), epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    padded = np.array([[1, 2, 0, 0, 0, 0]])
    np.testing.assert_allclose(model.predict(padded, verbose=0), model.predict(padded[:, :2], verbose=0),
                               atol=1e-6)  # padding does not change the prediction


def test_masking_layer():
    x = np.array([[[1.0, 2.0], [0.0, 0.0], [3.0, 0.0]]], np.float32)
    layer = layers.Masking(mask_value=0.0)
    out = layer(x)
    np.testing.assert_array_equal(out._keras_mask.numpy(), [[1, 0, 1]])
    np.testing.assert_array_equal(out.numpy(), x)
    seq = layers.SimpleRNN(2, return_sequences=True)(out)
    np.testing.assert_array_equal(seq.numpy()[0, 1], seq.numpy()[0, 0])  # masked step repeats the output
