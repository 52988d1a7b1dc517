"""BatchNormalization / LayerNormalization layers: Keras math, moving statistics.

The ops' NumPy parity and gradient checks are op table rows (tests/op_rows_nn.py)."""
import numpy as np

import kcore
from kcore import layers

R = np.random.default_rng(3)


def _np_bn(x, gamma, beta, mean, var, eps=1e-3):
    return gamma * (x - mean) / np.sqrt(var + eps) + beta


def test_batch_norm_layer_matches_keras_math_and_updates_moving_stats():
    layer = layers.BatchNormalization(momentum=0.9)
    x = R.standard_normal((16, 3)).astype(np.float32) * 2 + 1
    layer(x)
    gamma, beta = R.random(3).astype(np.float32) + 0.5, R.standard_normal(3).astype(np.float32)
    layer.set_weights([gamma, beta, np.zeros(3), np.ones(3)])
    out = layer(x, training=True).numpy()
    mean, var = x.mean(0), x.var(0)  # biased variance
    np.testing.assert_allclose(out, _np_bn(x, gamma, beta, mean, var), rtol=1e-4, atol=1e-5)
    mm, mv = layer.get_weights()[2:]
    np.testing.assert_allclose(mm, 0.1 * mean, rtol=1e-5)
    np.testing.assert_allclose(mv, 0.9 + 0.1 * var, rtol=1e-5)
    infer = layer(x, training=False).numpy()
    np.testing.assert_allclose(infer, _np_bn(x, gamma, beta, mm, mv), rtol=1e-4, atol=1e-5)
    assert [w.name for w in layer.weights] == ["gamma", "beta", "moving_mean", "moving_variance"]
    assert len(layer.trainable_weights) == 2 and len(layer.non_trainable_weights) == 2


def test_frozen_batch_norm_uses_moving_statistics_in_training():
    layer = layers.BatchNormalization()
    x = R.standard_normal((8, 2)).astype(np.float32) + 3
    layer(x)
    layer.trainable = False
    before = layer.get_weights()
    out = layer(x, training=True).numpy()
    np.testing.assert_allclose(out, _np_bn(x, 1, 0, 0, 1), rtol=1e-5)
    for a, b in zip(before, layer.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert layer.trainable_weights == []


def test_batch_norm_on_channels_first_images():
    x = R.standard_normal((4, 3, 5, 5)).astype(np.float32)
    out = layers.BatchNormalization(axis=1)(x, training=True).numpy()
    mean, var = x.mean((0, 2, 3), keepdims=True), x.var((0, 2, 3), keepdims=True)
    np.testing.assert_allclose(out, (x - mean) / np.sqrt(var + 1e-3), rtol=1e-4, atol=1e-5)


def test_layer_norm_matches_numpy():
    x = R.standard_normal((4, 6)).astype(np.float32)
    layer = layers.LayerNormalization()
    out = layer(x).numpy()
    ref = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-3)
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-5)
    assert [w.shape for w in layer.weights] == [(6,), (6,)]


def test_summary_counts_non_trainable_statistics():
    model = kcore.Sequential([layers.Dense(8, input_shape=(4,)), layers.BatchNormalization(), layers.Dense(2)])
    lines = []
    model.summary(print_fn=lines.append)
    assert "Total params: 90" in lines and "Trainable params: 74" in lines and "Non-trainable params: 16" in lines


def test_bn_model_trains():
    x = R.standard_normal((256, 4)).astype(np.float32)
    y = (x[:, 0] * x[:, 1] > 0).astype(np.float32)[:, None]
    model = kcore.Sequential([layers.Dense(16, activation="relu", input_shape=(4,)), layers.BatchNormalization(),
                              layers.Dense(16, activation="relu"), layers.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=60, batch_size=32, verbose=0)
    assert model.evaluate(x, y, verbose=0)[1] > 0.9
