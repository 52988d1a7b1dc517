"""Convolution, pooling and spatial reshaping layers: shapes, weights, the seed-004 CNN, errors, learning."""
import re
from pathlib import Path

import numpy as np
import pytest

import kcore
from kcore import layers as L
from kcore.backend.autodiff import GradientTape

SEED_004 = Path(__file__).resolve().parents[1].parent / "shared" / "seeds" / "004_c6680f8a6756f81d.txt"


@pytest.mark.parametrize("layer, in_shape, out_shape, params", [
    (lambda: L.Conv1D(4, 3), (2, 10, 3), (2, 8, 4), 3 * 3 * 4 + 4),
    (lambda: L.Conv1D(4, 3, padding="causal", dilation_rate=2), (2, 10, 3), (2, 10, 4), 40),
    (lambda: L.Conv1D(4, 3, strides=2, padding="same", use_bias=False), (2, 9, 3), (2, 5, 4), 36),
    (lambda: L.Conv2D(5, (3, 2), strides=(2, 1)), (2, 9, 6, 3), (2, 4, 5, 5), 3 * 2 * 3 * 5 + 5),
    (lambda: L.Conv2D(5, 3, padding="same", strides=2), (2, 7, 6, 3), (2, 4, 3, 5), 140),
    (lambda: L.Conv2D(5, 3, padding="same", data_format="channels_first"), (2, 3, 7, 6), (2, 5, 7, 6), 140),
    (lambda: L.Conv3D(2, 2, strides=2), (1, 5, 4, 6, 3), (1, 2, 2, 3, 2), 2 * 2 * 2 * 3 * 2 + 2),
    (lambda: L.Conv1DTranspose(4, 3, strides=2), (2, 5, 3), (2, 11, 4), 3 * 4 * 3 + 4),
    (lambda: L.Conv2DTranspose(5, 3, strides=2, padding="same"), (2, 4, 3, 3), (2, 8, 6, 5), 3 * 3 * 5 * 3 + 5),
    (lambda: L.Conv2DTranspose(2, (2, 3), strides=(3, 2), padding="same", output_padding=(1, 1)), (1, 3, 3, 2),
     (1, 7, 6, 2), 2 * 3 * 2 * 2 + 2),
    (lambda: L.Conv2DTranspose(3, 3, data_format="channels_first", use_bias=False), (2, 2, 4, 4), (2, 3, 6, 6), 54),
    (lambda: L.Conv3DTranspose(2, 2, strides=2), (1, 2, 3, 2, 3), (1, 4, 6, 4, 2), 2 * 2 * 2 * 2 * 3 + 2),
    (lambda: L.MaxPooling1D(), (2, 9, 3), (2, 4, 3), 0),
    (lambda: L.AveragePooling1D(3, 1, "same"), (2, 9, 3), (2, 9, 3), 0),
    (lambda: L.MaxPooling2D((2, 3), padding="same"), (2, 7, 7, 3), (2, 4, 3, 3), 0),
    (lambda: L.AveragePooling2D(), (2, 7, 7, 3), (2, 3, 3, 3), 0),
    (lambda: L.MaxPooling2D(data_format="channels_first"), (2, 3, 6, 4), (2, 3, 3, 2), 0),
    (lambda: L.MaxPooling3D(), (1, 4, 5, 6, 2), (1, 2, 2, 3, 2), 0),
    (lambda: L.AveragePooling3D(2, 1), (1, 4, 5, 6, 2), (1, 3, 4, 5, 2), 0),
    (lambda: L.GlobalMaxPooling1D(), (2, 5, 3), (2, 3), 0),
    (lambda: L.GlobalAveragePooling2D(keepdims=True), (2, 5, 4, 3), (2, 1, 1, 3), 0),
    (lambda: L.GlobalAveragePooling2D(data_format="channels_first"), (2, 3, 5, 4), (2, 3), 0),
    (lambda: L.GlobalMaxPooling3D(), (2, 2, 3, 4, 5), (2, 5), 0),
    (lambda: L.ZeroPadding1D((1, 2)), (2, 5, 3), (2, 8, 3), 0),
    (lambda: L.ZeroPadding2D(((1, 0), (2, 3))), (2, 5, 4, 3), (2, 6, 9, 3), 0),
    (lambda: L.ZeroPadding2D(1, data_format="channels_first"), (2, 3, 5, 4), (2, 3, 7, 6), 0),
    (lambda: L.ZeroPadding3D(), (1, 2, 3, 4, 2), (1, 4, 5, 6, 2), 0),
    (lambda: L.Cropping1D((1, 2)), (2, 6, 3), (2, 3, 3), 0),
    (lambda: L.Cropping2D(((1, 0), (2, 1))), (2, 5, 6, 3), (2, 4, 3, 3), 0),
    (lambda: L.Cropping2D(1, data_format="channels_first"), (2, 3, 5, 4), (2, 3, 3, 2), 0),
    (lambda: L.Cropping3D(), (1, 3, 4, 5, 2), (1, 1, 2, 3, 2), 0),
    (lambda: L.UpSampling1D(3), (2, 4, 3), (2, 12, 3), 0),
    (lambda: L.UpSampling2D((2, 3)), (2, 4, 3, 2), (2, 8, 9, 2), 0),
])
def test_output_shapes_and_params(layer, in_shape, out_shape, params):
    lyr = layer()
    y = lyr(np.random.default_rng(0).standard_normal(in_shape).astype(np.float32))
    assert tuple(y.shape) == out_shape
    assert lyr.compute_output_shape((None,) + in_shape[1:]) == (None,) + out_shape[1:]
    assert lyr.count_params() == params
    symbolic = layer()(kcore.Input(in_shape[1:]))
    assert tuple(symbolic.shape) == (None,) + out_shape[1:]


def test_conv_weights_follow_keras_names_and_layouts():
    lyr = L.Conv2D(6, (3, 2))
    lyr(np.zeros((1, 5, 5, 4), np.float32))
    assert [w.name for w in lyr.weights] == ["kernel", "bias"]
    assert [tuple(w.shape) for w in lyr.weights] == [(3, 2, 4, 6), (6,)]
    kernel = np.random.default_rng(1).standard_normal((3, 2, 4, 6)).astype(np.float32)
    lyr.set_weights([kernel, np.arange(6, dtype=np.float32)])
    x = np.random.default_rng(2).standard_normal((1, 5, 5, 4)).astype(np.float32)
    want = np.einsum("hwc,hwcf->f", x[0, :3, :2], kernel) + np.arange(6)
    np.testing.assert_allclose(lyr(x).numpy()[0, 0, 0], want, rtol=1e-5)


def test_activation_and_config_round_trip():
    lyr = L.Conv1D(3, 2, strides=1, padding="causal", activation="relu", name="c")
    config = lyr.get_config()
    assert config["kernel_size"] == (2,) and config["padding"] == "causal" and config["activation"] == "relu"
    clone = L.Conv1D.from_config({**config, "name": "c2"})
    x = np.random.default_rng(3).standard_normal((2, 6, 4)).astype(np.float32)
    y = lyr(x)
    clone(x)
    clone.set_weights(lyr.get_weights())
    np.testing.assert_array_equal(clone(x).numpy(), y.numpy())
    assert y.numpy().min() >= 0
    pool = L.MaxPooling2D(3, 2, "same")
    assert type(pool).from_config(pool.get_config()).get_config()["strides"] == (2, 2)


def test_gradients_reach_kernel_and_bias():
    lyr = L.Conv2D(2, 3, padding="same")
    x = np.random.default_rng(4).standard_normal((2, 5, 5, 3)).astype(np.float32)
    with GradientTape() as tape:
        loss = kcore.ops.sum(kcore.ops.square(lyr(x)))
    gk, gb = tape.gradient(loss, lyr.trainable_weights)
    assert tuple(gk.shape) == (3, 3, 3, 2) and tuple(gb.shape) == (2,)
    assert np.abs(gk.numpy()).sum() > 0 and np.abs(gb.numpy()).sum() > 0


def test_cropping_values_gradient_and_error():
    x = np.arange(2 * 5 * 4 * 1, dtype=np.float32).reshape(2, 5, 4, 1)
    lyr = L.Cropping2D(((1, 2), (0, 1)))
    np.testing.assert_array_equal(lyr(x).numpy(), x[:, 1:3, 0:3])
    v = kcore.Variable(x)
    with GradientTape() as tape:
        total = kcore.ops.sum(lyr(v))
    expected = np.zeros_like(x)
    expected[:, 1:3, 0:3] = 1
    np.testing.assert_array_equal(tape.gradient(total, v).numpy(), expected)
    with pytest.raises(ValueError, match="leaves nothing"):
        L.Cropping1D((3, 3))(np.zeros((1, 5, 2), np.float32))


def test_global_average_pooling_1d_honours_mask():
    x = np.arange(12, dtype=np.float32).reshape(2, 3, 2)
    mask = np.array([[1, 1, 0], [1, 0, 0]], dtype=bool)
    y = L.GlobalAveragePooling1D()(x, mask=mask).numpy()
    np.testing.assert_allclose(y, [[1, 2], [6, 7]])


def _seed_004_model():
    text = SEED_004.read_text(encoding="utf-8")
    code = next(m.group(1) for m in re.finditer(r"```\s*python\n([\s\S]*?)```", text) if "create_model" in m.group(1))
    namespace = {}
    exec(compile(code.replace("keras", "kcore"), "seed_004", "exec"), namespace)
    return namespace["model"]


@pytest.mark.skipif(not SEED_004.exists(), reason="seed documents not available")
def test_seed_004_cnn_summary():
    kcore.backend.clear_session()
    model = _seed_004_model()
    lines = []
    model.summary(print_fn=lines.append)
    assert "Total params: 241,546" in lines
    assert any(line.startswith("conv2d_3 (Conv2D)            (None, 7, 7, 128)         73856") for line in lines)
    assert any(line.startswith("max_pooling2d_3 (MaxPooling2 (None, 3, 3, 128)") for line in lines)
    assert model.count_params() == 241546
    assert model.predict(np.zeros((2, 28, 28, 1), np.float32), verbose=0).shape == (2, 10)


@pytest.mark.parametrize("make, shape, error, match", [
    (lambda: L.Conv2D(4, 3), (28, 28, 1), ValueError, "expected ndim=4.*batch axis"),
    (lambda: L.Conv1D(4, 3), (10,), ValueError, "expected ndim=3"),
    (lambda: L.MaxPooling2D(), (28, 28), ValueError, "expected ndim=4"),
    (lambda: L.Conv2D(4, 5), (1, 3, 3, 1), ValueError, "negative or zero|smaller than"),
    (lambda: L.MaxPooling2D(4), (1, 3, 3, 1), ValueError, "smaller than"),
])
def test_bad_inputs_raise_clear_errors(make, shape, error, match):
    with pytest.raises(error, match=match):
        make()(np.zeros(shape, np.float32))


def test_wrong_channels_after_build():
    lyr = L.Conv2D(4, 3)
    lyr(np.zeros((1, 5, 5, 3), np.float32))
    with pytest.raises(ValueError, match="axis -1"):
        lyr(np.zeros((1, 5, 5, 2), np.float32))


@pytest.mark.parametrize("make, error, match", [
    (lambda: L.Conv2D(4, 3, strides=2, dilation_rate=2), ValueError, "dilation_rate"),
    (lambda: L.Conv2D(4, 0), ValueError, "kernel_size"),
    (lambda: L.Conv2D(4, 3, strides=(1, 0)), ValueError, "strides"),
    (lambda: L.Conv2D(0, 3), ValueError, "filters"),
    (lambda: L.Conv2D(4, 3, padding="causal"), ValueError, "padding"),
    (lambda: L.Conv2D(5, 3, groups=2), ValueError, "divisible"),
    (lambda: L.Conv2D(4, (3, 3, 3)), ValueError, "tuple of 2"),
    (lambda: L.MaxPooling2D(0), ValueError, "pool_size"),
    (lambda: L.ZeroPadding2D(-1), ValueError, "non-negative"),
    (lambda: L.Cropping2D(((1, 1), (1,))), ValueError, "Cropping2D"),
    (lambda: L.UpSampling2D(interpolation="cubic"), ValueError, "nearest"),
    (lambda: L.Conv2DTranspose(4, 3, strides=2, output_padding=2), ValueError, "output_padding"),
    (lambda: L.Conv1DTranspose(4, 3, padding="causal"), ValueError, "padding"),
    (lambda: L.Conv2D(4, 3, data_format="nhwc"), ValueError, "data_format"),
])
def test_bad_arguments(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_small_cnn_learns_to_find_a_pattern():
    """A Conv1D + global max pooling model learns whether a [1, -1, 1] motif occurs anywhere."""
    kcore.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.integers(-1, 2, size=(256, 16, 1)).astype(np.float32)
    windows = np.lib.stride_tricks.sliding_window_view(x[..., 0], 3, axis=1)
    y = np.any(np.all(windows == np.array([1, -1, 1], np.float32), axis=-1), axis=1).astype(np.float32)
    model = kcore.Sequential([L.Conv1D(8, 3, activation="relu", input_shape=(16, 1)), L.GlobalMaxPooling1D(),
                              L.Dense(1, activation="sigmoid")])
    model.compile(kcore.optimizers.Adam(0.03), "binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=30, batch_size=32, verbose=0)
    assert history.history["accuracy"][-1] > 0.9


def test_keras2_conv1d_input_dim_and_input_length():
    model = kcore.Sequential([L.Conv1D(4, 3, input_dim=5, input_length=10), L.MaxPooling1D(np.int64(2))])
    assert model.output_shape == (None, 4, 4)
    assert model.count_params() == 3 * 5 * 4 + 4
    assert L.Conv2D(np.int32(3), (np.int64(3), 3)).kernel_size == (3, 3)


def test_regularizers_and_constraints():
    lyr = L.Conv2D(2, 3, kernel_regularizer="l2", bias_regularizer="l1", activity_regularizer="l1",
                   kernel_constraint="non_neg")
    x = np.ones((2, 5, 5, 1), np.float32)
    with GradientTape():
        y = lyr(x)
    kernel = lyr.kernel.numpy()
    penalties = [float(p) for p in lyr.losses]  # Keras 3 order: the call's activity penalty, then the weights'
    assert penalties[1] == pytest.approx(0.01 * float(np.sum(kernel.astype(np.float64) ** 2)), rel=1e-5)
    assert penalties[0] == pytest.approx(0.01 * float(np.abs(y.numpy()).sum()) / 2, rel=1e-5)
    model = kcore.Sequential([L.Conv2D(2, 3, kernel_constraint="non_neg", input_shape=(5, 5, 1)), L.Flatten(),
                              L.Dense(1)])
    model.compile("sgd", "mse")
    model.fit(np.random.default_rng(0).random((8, 5, 5, 1)), np.ones((8, 1)), epochs=1, verbose=0)
    assert model.layers[0].kernel.numpy().min() >= 0


DATA = Path(__file__).resolve().parent / "data"


@pytest.mark.parametrize("name", ["cnn", "conv_pool", "conv1d_3d", "conv1d", "conv2d", "conv3d"])
def test_real_keras_conv_models_load_and_predict_the_same(name, tmp_path):
    """.keras files written by Keras 3 (TF backend; see data/make_keras_conv_fixtures.py)."""
    model = kcore.models.load_model(DATA / f"keras3_{name}.keras")
    io = np.load(DATA / f"keras3_{name}_io.npz")
    xs = [io[k] for k in sorted(io.files) if k.startswith("x")]
    want = [io[k] for k in sorted(io.files) if k.startswith("y")][0]
    np.testing.assert_allclose(model.predict(xs[0], verbose=0), want, rtol=1e-5, atol=1e-5)
    model.save(tmp_path / "again.keras")
    again = kcore.models.load_model(tmp_path / "again.keras")
    np.testing.assert_array_equal(again.predict(xs[0], verbose=0), model.predict(xs[0], verbose=0))


def test_cnn_reaches_97_percent_on_digits():
    (xt, yt), (xs, ys) = kcore.datasets.digits.load_data()
    xt, xs = xt[..., None].astype(np.float32) / 16, xs[..., None].astype(np.float32) / 16
    kcore.utils.set_random_seed(0)
    model = kcore.Sequential([L.Conv2D(16, 3, padding="same", activation="relu", input_shape=(8, 8, 1)),
                              L.MaxPooling2D(), L.Conv2D(32, 3, padding="same", activation="relu"),
                              L.Flatten(), L.Dense(64, activation="relu"), L.Dense(10, activation="softmax")])
    model.compile(kcore.optimizers.Adam(0.005), "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(xt, yt, epochs=15, batch_size=32, verbose=0)
    assert model.evaluate(xs, ys, verbose=0)[1] >= 0.97
