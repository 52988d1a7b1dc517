"""mixed_bfloat16 end to end: layers and models against real Keras 3 with copied weights (bfloat16 tolerance),
predict / fit / evaluate, losses and metrics in float32, .keras files (Keras-written and round trips), and
training that reaches float32's accuracy. References: tests/data/gen/make_keras_mixed_precision_reference.py."""
import json
import os
import zipfile

import ml_dtypes
import numpy as np
import pytest
from mixed_precision_cases import layer_cases

import kcore
from kcore import dtype_policies, layers, mixed_precision

DATA = os.path.join(os.path.dirname(__file__), "data")
with open(os.path.join(DATA, "keras3_mixed_precision.json")) as f:
    REF = json.load(f)
ARRAYS = np.load(os.path.join(DATA, "keras3_mixed_precision.npz"))
CASES = layer_cases(layers)


@pytest.fixture(autouse=True)
def _mixed_global_policy():
    mixed_precision.set_global_policy("mixed_bfloat16")
    yield
    dtype_policies._follow_floatx()


def close_to_keras(actual, want, what):
    """bfloat16 has 8 significant bits (relative step 2**-8 = 0.4%): Keras (TF) rounds after every op while kcore
    rounds once per fused op, so results may differ by a few bfloat16 steps of the largest value."""
    actual = np.asarray(actual, np.float32)
    scale = max(float(np.abs(want).max()), 1e-3)
    np.testing.assert_allclose(actual, want, rtol=2e-2, atol=2e-2 * scale, err_msg=what)


def _run(name):
    make, _, integer, kwargs = CASES[name]
    layer = make()
    x = ARRAYS[f"{name}|x"]
    layer(x, **kwargs)
    layer.set_weights([ARRAYS[f"{name}|w{i}"] for i in range(len(layer.weights))])
    xt = kcore.convert_to_tensor(x)
    with kcore.GradientTape() as tape:
        if not integer:
            tape.watch(xt)
        y = layer(xt, **kwargs)
        loss = kcore.ops.sum(kcore.ops.multiply(kcore.ops.cast(y, "float32"), ARRAYS[f"{name}|r"]))
    grads = tape.gradient(loss, layer.trainable_weights + ([] if integer else [xt]))
    return layer, y, grads, integer


@pytest.mark.parametrize("name", sorted(CASES))
def test_layer_dtypes_match_keras(name):
    layer, y, grads, integer = _run(name)
    want = REF["layers"][name]
    assert y.dtype == want["output"]
    assert (layer.dtype_policy.name, layer.compute_dtype, layer.variable_dtype, layer.dtype) == \
        (want["policy"], want["compute_dtype"], want["variable_dtype"], want["dtype"])
    assert [w.dtype for w in layer.weights] == want["variables"]
    assert [g.dtype for g in grads[:len(layer.trainable_weights)]] == want["gradients"]
    if not integer:
        assert grads[-1].dtype == want["input_gradient"]


@pytest.mark.parametrize("name", sorted(CASES))
def test_layer_numbers_match_keras(name):
    layer, y, grads, integer = _run(name)
    close_to_keras(y.numpy(), ARRAYS[f"{name}|o"], f"{name} output")
    for i, g in enumerate(grads[:len(layer.trainable_weights)]):
        close_to_keras(g.numpy(), ARRAYS[f"{name}|g{i}"], f"{name} gradient of weight {i}")
    if not integer:
        close_to_keras(grads[-1].numpy(), ARRAYS[f"{name}|gx"], f"{name} input gradient")
    for i, w in enumerate(layer.get_weights()):  # BatchNormalization's moving statistics moved as in Keras
        assert w.dtype == np.float32
        np.testing.assert_allclose(w, ARRAYS[f"{name}|after{i}"], rtol=1e-5, atol=1e-6, err_msg=f"{name} weight {i}")


def test_functional_model_matches_keras():
    inputs = kcore.Input((6,))
    a = layers.Dense(4, activation="relu")(inputs)
    b = layers.Dense(4)(inputs)
    joined = layers.Concatenate()([a, b])
    outputs = layers.Dense(2, activation="softmax", dtype="float32")(joined)
    model = kcore.Model(inputs, outputs)
    model.set_weights([ARRAYS[f"functional|w{i}"] for i in range(6)])
    assert [t.dtype for t in (inputs, a, b, joined, outputs)] == REF["models"]["functional_layer_outputs"]
    y = model.predict(ARRAYS["functional|x"], verbose=0)
    assert y.dtype == np.float32
    close_to_keras(y, ARRAYS["functional|o"], "functional model")


def test_models_hand_float32_inputs_to_their_layers_uncast():
    x, kernel = ARRAYS["exact|x"], ARRAYS["exact|w0"]
    sequential = kcore.Sequential([kcore.Input((3,)), layers.Dense(2, use_bias=False, dtype="float32")])
    inputs = kcore.Input((3,))
    functional = kcore.Model(inputs, layers.Dense(2, use_bias=False, dtype="float32")(inputs))
    for name, model in (("sequential", sequential), ("functional", functional)):
        assert model.dtype_policy.name == "mixed_bfloat16"
        model.set_weights([kernel])
        np.testing.assert_allclose(model.predict(x, verbose=0), ARRAYS[f"exact|{name}"], rtol=1e-6)
        np.testing.assert_allclose(model(x).numpy(), x @ kernel, rtol=1e-6)


def _cnn():
    return kcore.Sequential([kcore.Input((8, 8, 1)), layers.Conv2D(4, 3, activation="relu"), layers.MaxPooling2D(),
                             layers.Flatten(), layers.Dense(10), layers.Activation("softmax", dtype="float32")])


def test_predict_returns_what_keras_returns():
    models = REF["models"]
    x = np.random.default_rng(0).random((3, 8), np.float32)
    plain = kcore.Sequential([kcore.Input((8,)), layers.Dense(4), layers.Dense(3)])
    y = plain.predict(x, verbose=0)
    assert isinstance(y, np.ndarray) and str(y.dtype) == models["bf16_head_predict_dtype"]
    assert y.dtype == ml_dtypes.bfloat16
    assert plain(x).dtype == "bfloat16"
    cnn = _cnn()
    x = np.random.default_rng(1).random((2, 8, 8, 1), np.float32)
    assert str(cnn.predict(x, verbose=0).dtype) == models["cnn_predict_dtype"]
    assert cnn(x).dtype == models["cnn_call_dtype"]


def test_losses_and_metrics_compute_in_float32():
    y_pred = kcore.convert_to_tensor(np.array([[0.2, 0.8], [0.6, 0.4]], np.float32)).astype("bfloat16")
    y_true = np.array([[0.0, 1.0], [1.0, 0.0]], np.float32)
    loss = kcore.losses.MeanSquaredError()(y_true, y_pred)
    assert loss.dtype == REF["models"]["loss_dtype"]
    metric = kcore.metrics.CategoricalAccuracy()
    metric.update_state(y_true, y_pred)
    assert metric.dtype == REF["models"]["metric_dtype"]
    assert float(metric.result()) == 1.0
    mean_loss = kcore.metrics.MeanSquaredError()
    mean_loss.update_state(y_true, y_pred)
    np.testing.assert_allclose(float(mean_loss.result()), 0.1, rtol=1e-2)  # 0.2, 0.6 round in bfloat16


def test_losses_and_metrics_take_dtype_policies():
    y_pred = kcore.convert_to_tensor(np.array([[0.2, 0.8], [0.6, 0.4]], np.float32)).astype("bfloat16")
    y_true = np.array([[0.0, 1.0], [1.0, 0.0]], np.float32)
    loss = kcore.losses.MeanSquaredError(dtype=kcore.DTypePolicy("mixed_bfloat16"))(y_true, y_pred)
    want_dtype, want_value = REF["models"]["policy_loss"]
    assert loss.dtype == want_dtype
    np.testing.assert_allclose(float(loss), want_value, rtol=1e-2)
    metric = kcore.metrics.MeanSquaredError(dtype=kcore.DTypePolicy("mixed_bfloat16"))
    assert metric.dtype == REF["models"]["policy_metric_dtype"]


def test_loads_a_keras_mixed_bfloat16_file():
    model = kcore.models.load_model(os.path.join(DATA, "keras3_mixed_bfloat16.keras"))
    assert [layer.dtype_policy.name for layer in model.layers] == \
        ["mixed_bfloat16"] * 4 + ["float32"]
    assert all(w.dtype == "float32" for w in model.weights)
    io = np.load(os.path.join(DATA, "keras3_mixed_bfloat16_io.npz"))
    y = model.predict(io["x"], verbose=0)
    assert y.dtype == np.float32
    close_to_keras(y, io["y"], "Keras-saved mixed CNN")


def test_save_load_round_trip_keeps_policies(tmp_path):
    model = _cnn()
    x = np.random.default_rng(1).random((4, 8, 8, 1), np.float32)
    path = str(tmp_path / "mixed.keras")
    model.save(path)
    with zipfile.ZipFile(path) as zf:
        config = json.loads(zf.read("config.json"))
    want = REF["models"]["cnn_config"]["config"]
    assert config["config"]["dtype"]["config"] == want["dtype"]["config"]
    got_layers = [entry["config"].get("dtype") for entry in config["config"]["layers"]]
    assert got_layers == [entry["config"].get("dtype") for entry in want["layers"]]
    again = kcore.models.load_model(path)
    assert [layer.dtype_policy for layer in again.layers] == [layer.dtype_policy for layer in model.layers]
    np.testing.assert_array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))
    weights_path = str(tmp_path / "mixed.weights.h5")
    model.save_weights(weights_path)
    fresh = _cnn()
    fresh.load_weights(weights_path)
    np.testing.assert_array_equal(fresh.predict(x, verbose=0), model.predict(x, verbose=0))


def test_summary_under_mixed_precision(capsys):
    model = _cnn()
    model.summary()
    text = capsys.readouterr().out
    assert f"{REF['models']['cnn_params']:,}" in text
    assert model.count_params() == REF["models"]["cnn_params"]


def _digits():
    (x_train, y_train), (x_test, y_test) = kcore.datasets.digits.load_data()
    return (x_train[..., None] / 16.0, y_train), (x_test[..., None] / 16.0, y_test)


def _train_digits_cnn(policy):
    mixed_precision.set_global_policy(policy)
    kcore.utils.set_random_seed(3)
    (x_train, y_train), (x_test, y_test) = _digits()
    model = kcore.Sequential([kcore.Input((8, 8, 1)), layers.Conv2D(16, 3, padding="same", activation="relu"),
                              layers.MaxPooling2D(), layers.Flatten(), layers.Dense(32, activation="relu"),
                              layers.Dense(10), layers.Activation("softmax", dtype="float32")])
    model.compile(kcore.optimizers.Adam(3e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, batch_size=32, epochs=4, verbose=0)
    assert all(w.dtype == "float32" for w in model.weights)
    assert all(v.dtype in ("float32", "int64") for v in model.optimizer.variables)
    return history, model.evaluate(x_test, y_test, verbose=0)[1]


def test_digits_cnn_trains_under_mixed_bfloat16_as_in_float32():
    _, float32_accuracy = _train_digits_cnn("float32")
    history, mixed_accuracy = _train_digits_cnn("mixed_bfloat16")
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert mixed_accuracy > 0.9 and float32_accuracy > 0.9
    assert abs(mixed_accuracy - float32_accuracy) < 0.03


def test_text_lstm_example_trains_under_mixed_bfloat16_as_in_float32():
    from kcore.examples import text_classification

    float32_accuracy = text_classification.main(epochs=3, verbose=0, samples=800, dtype_policy="float32")
    mixed_accuracy = text_classification.main(epochs=3, verbose=0, samples=800, dtype_policy="mixed_bfloat16")
    assert float32_accuracy > 0.75 and mixed_accuracy > 0.75
    assert abs(mixed_accuracy - float32_accuracy) < 0.05


def test_recurrent_layers_under_mixed_precision_keep_bfloat16_outputs_and_states():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 5, 4)).astype(np.float32)
    x[0, 3:] = 0.0
    lstm = layers.LSTM(6, return_sequences=True, return_state=True, dropout=0.2, recurrent_dropout=0.2)
    out, h, c = lstm(layers.Masking()(x), training=True)
    assert (out.dtype, h.dtype, c.dtype) == ("bfloat16",) * 3
    gru = layers.GRU(3, return_state=True, stateful=True)
    y, state = gru(x[:, :2])
    assert (y.dtype, state.dtype, gru.states[0].dtype) == ("bfloat16",) * 3
    gru(x[:, 2:])  # carries its bfloat16 state on
    bidirectional = layers.Bidirectional(layers.SimpleRNN(4))
    assert bidirectional(x).dtype == "bfloat16"
    assert all(w.dtype == "float32" for w in lstm.weights + gru.weights + bidirectional.weights)
    initial = [np.zeros((3, 6), np.float32)] * 2
    assert layers.LSTM(6)(x, initial_state=initial).dtype == "bfloat16"
    conv_lstm = layers.ConvLSTM1D(2, 3, padding="same")  # the fused native kernel, on bfloat16
    frames = rng.standard_normal((2, 3, 6, 2)).astype(np.float32)
    with kcore.GradientTape() as tape:
        y = conv_lstm(frames)
        loss = kcore.ops.sum(kcore.ops.cast(y, "float32"))
    grads = tape.gradient(loss, conv_lstm.trainable_weights)
    assert y.dtype == "bfloat16" and [g.dtype for g in grads] == ["float32"] * 3
    mixed_precision.set_global_policy("float32")
    reference = layers.ConvLSTM1D(2, 3, padding="same")
    reference(frames)
    reference.set_weights(conv_lstm.get_weights())
    np.testing.assert_allclose(y.numpy().astype(np.float32), reference(frames).numpy(), atol=2e-2)
