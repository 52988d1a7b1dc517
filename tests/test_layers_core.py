"""Core layers: parity with NumPy references of Keras's math, shapes, weights, errors."""
import numpy as np
import pytest

import kcore
from kcore import activations, initializers, layers


def _np_act(name, x):
    refs = {
        "linear": lambda v: v, "relu": lambda v: np.maximum(v, 0), "tanh": np.tanh,
        "sigmoid": lambda v: 1 / (1 + np.exp(-v)), "softplus": lambda v: np.log1p(np.exp(v)),
        "softsign": lambda v: v / (1 + np.abs(v)), "elu": lambda v: np.where(v > 0, v, np.expm1(v)),
        "selu": lambda v: 1.0507009873554805 * np.where(v > 0, v, 1.6732632423543772 * np.expm1(v)),
        "hard_sigmoid": lambda v: np.clip(v + 3, 0, 6) / 6, "swish": lambda v: v / (1 + np.exp(-v)),
        "silu": lambda v: v / (1 + np.exp(-v)), "relu6": lambda v: np.clip(v, 0, 6),
        "leaky_relu": lambda v: np.where(v > 0, v, 0.2 * v), "exponential": np.exp,
        "softmax": lambda v: np.exp(v - v.max(-1, keepdims=True)) / np.exp(v - v.max(-1, keepdims=True)).sum(-1,
                                                                                                    keepdims=True),
    }
    return refs[name](x)


@pytest.mark.parametrize("activation", ["linear", "relu", "tanh", "sigmoid", "softplus", "softsign", "elu", "selu",
                                        "hard_sigmoid", "swish", "silu", "relu6", "leaky_relu", "softmax"])
def test_dense_matches_numpy(activation, rng):
    layer = layers.Dense(7, activation=activation)
    x = rng.standard_normal((5, 4)).astype(np.float32)
    y = layer(x).numpy()
    kernel, bias = rng.standard_normal((4, 7)), rng.standard_normal(7)
    layer.set_weights([kernel, bias])
    expected = _np_act(activation, x.astype(np.float64) @ kernel + bias)
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-5, atol=1e-5)
    assert y.shape == (5, 7) and y.dtype == np.float32


def test_dense_on_3d_input_contracts_last_axis(rng):
    layer = layers.Dense(3, use_bias=False)
    x = rng.standard_normal((2, 5, 4)).astype(np.float32)
    out = layer(x).numpy()
    np.testing.assert_allclose(out, x @ layer.get_weights()[0], rtol=1e-5, atol=1e-6)
    assert len(layer.weights) == 1


def test_activation_layer_matches_numpy(rng):
    x = rng.standard_normal((3, 6)).astype(np.float32)
    for name in ("relu", "tanh", "softmax", "gelu"):
        out = layers.Activation(name)(x).numpy()
        if name == "gelu":
            from math import erf

            ref = np.vectorize(lambda v: 0.5 * v * (1 + erf(v / np.sqrt(2))))(x)
        else:
            ref = _np_act(name, x)
        np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-6)
    assert layers.Activation(activations.get("relu"))(x).shape == (3, 6)


def test_weights_layout_names_and_order():
    layer = layers.Dense(3, input_shape=(4,))
    model = kcore.Sequential([layer])
    k, b = model.get_weights()
    assert k.shape == (4, 3) and b.shape == (3,)
    assert [w.path for w in layer.weights] == ["dense_1/kernel", "dense_1/bias"]
    assert np.all(b == 0)
    limit = np.sqrt(6 / 7)
    assert np.all(np.abs(k) <= limit)


def test_auto_names_count_from_one_per_class():
    names = [layers.Dense(2).name, layers.Dense(2).name, layers.Activation("relu").name, layers.Dropout(0.1).name]
    assert names == ["dense_1", "dense_2", "activation_1", "dropout_1"]
    assert kcore.Sequential().name == "sequential_1"


@pytest.mark.parametrize("name", ["glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform",
                                  "lecun_normal", "random_normal", "random_uniform", "truncated_normal"])
def test_initializer_statistics(name):
    w = initializers.get(name)((400, 300))
    fan_in, fan_out = 400, 300
    expected_std = {
        "glorot_uniform": np.sqrt(2 / (fan_in + fan_out)), "glorot_normal": np.sqrt(2 / (fan_in + fan_out)),
        "he_uniform": np.sqrt(2 / fan_in), "he_normal": np.sqrt(2 / fan_in), "lecun_uniform": np.sqrt(1 / fan_in),
        "lecun_normal": np.sqrt(1 / fan_in), "random_normal": 0.05, "random_uniform": 0.1 / np.sqrt(12),
        "truncated_normal": 0.05 * 0.8796,
    }[name]
    assert abs(w.std() / expected_std - 1) < 0.05
    assert w.dtype == np.float32


def test_orthogonal_constant_zeros_ones():
    q = initializers.get("orthogonal")((6, 4))
    np.testing.assert_allclose(q.T @ q, np.eye(4), atol=1e-5)
    assert np.all(initializers.Constant(3.0)((2, 2)) == 3.0)
    assert np.all(initializers.get("zeros")((2,)) == 0) and np.all(initializers.get("ones")((2,)) == 1)


def test_dropout_only_in_training(rng):
    x = np.ones((100, 20), np.float32)
    layer = layers.Dropout(0.5, seed=1)
    assert np.all(layer(x).numpy() == 1)
    out = layer(x, training=True).numpy()
    assert set(np.unique(out)) == {0.0, 2.0}
    shared = layers.Dropout(0.5, noise_shape=(None, 1), seed=2)(x, training=True).numpy()
    assert all(len(set(row)) == 1 for row in shared)


def test_flatten_and_reshape():
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    assert layers.Flatten()(x).shape == (2, 12)
    assert layers.Reshape((-1, 2))(x).shape == (2, 6, 2)
    with pytest.raises(ValueError, match="total size"):
        layers.Reshape((5, 5))(x)


def test_seed_001_reshape_with_input_length_is_a_clear_error():
    with pytest.raises(ValueError, match="input_length"):
        layers.Reshape((3, 3), input_length=(16,))


def test_bad_layer_arguments_are_clear():
    with pytest.raises(ValueError, match="units"):
        layers.Dense(units=0)
    with pytest.raises(ValueError, match="units"):
        layers.Dense(units=-3)
    with pytest.raises(ValueError, match="Could not interpret activation function identifier"):
        layers.Dense(2, activation="relux")
    with pytest.raises(ValueError, match="Could not interpret initializer identifier"):
        layers.Dense(2, kernel_initializer="glorot_unform")


def test_layer_called_on_a_non_tensor_is_a_type_error():
    with pytest.raises(TypeError, match="builtin_function_or_method"):
        layers.Dense(32)(input)


def test_wrong_feature_count_names_the_layer(rng):
    layer = layers.Dense(3)
    layer(np.zeros((2, 4), np.float32))
    with pytest.raises(ValueError, match=r"dense_1.*expected axis -1 of input shape to have value 4"):
        layer(np.zeros((2, 5), np.float32))


def test_input_and_functional_call():
    inp = kcore.Input(shape=(784,))
    assert inp.shape == (None, 784)
    x = layers.Dense(64, activation="relu")(inp)
    y = layers.Dense(10, activation="softmax")(x)
    model = kcore.Model(inputs=inp, outputs=y)
    assert model.predict(np.zeros((3, 784), np.float32), verbose=0).shape == (3, 10)
    assert model.count_params() == 784 * 64 + 64 + 650
