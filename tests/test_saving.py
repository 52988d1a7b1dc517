"""Saving and loading: .keras archives and .weights.h5 in Keras 3's layout."""
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

import kcore
from kcore import layers

DATA = Path(__file__).parent / "data"


def _trained_model(rng):
    model = kcore.Sequential([layers.Dense(8, activation="relu", input_shape=(5,)), layers.BatchNormalization(),
                              layers.Dropout(0.1), layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x = rng.standard_normal((64, 5)).astype(np.float32)
    y = rng.integers(0, 3, 64)
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    return model, x, y


def test_keras_archive_layout(tmp_path, rng):
    model, x, _ = _trained_model(rng)
    path = tmp_path / "m.keras"
    model.save(path)
    with zipfile.ZipFile(path) as z:
        assert [i.filename for i in z.infolist()] == ["metadata.json", "config.json", "model.weights.h5"]
        assert all(i.compress_type == zipfile.ZIP_STORED for i in z.infolist())
        config = json.loads(z.read("config.json"))
    assert config["class_name"] == "Sequential"
    assert [entry["class_name"] for entry in config["config"]["layers"]] == [
        "InputLayer", "Dense", "BatchNormalization", "Dropout", "Dense"]
    assert config["compile_config"]["loss"] == "sparse_categorical_crossentropy"


def test_round_trip_predictions_and_optimizer_state_exactly(tmp_path, rng):
    model, x, y = _trained_model(rng)
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = kcore.models.load_model(path)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.optimizer.iterations == model.optimizer.iterations
    for a, b in zip(loaded.optimizer.variables, model.optimizer.variables):
        np.testing.assert_array_equal(a, b)
    # one more identical step on both keeps them identical
    kcore.utils.set_random_seed(3)
    model.train_on_batch(x[:16], y[:16])
    kcore.utils.set_random_seed(3)
    loaded.train_on_batch(x[:16], y[:16])
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_functional_round_trip(tmp_path, rng):
    a, b = kcore.Input((4,), name="a"), kcore.Input((3,), name="b")
    h = layers.Dense(6, activation="tanh")(a)
    shared = layers.Dense(5)
    merged = layers.Concatenate()([shared(h), shared(layers.Dense(6)(b))])
    model = kcore.Model([a, b], [layers.Dense(2, name="out1")(merged), layers.Dense(1, name="out2")(merged)])
    xs = [rng.standard_normal((3, 4)).astype(np.float32), rng.standard_normal((3, 3)).astype(np.float32)]
    model.save(tmp_path / "f.keras")
    loaded = kcore.models.load_model(tmp_path / "f.keras")
    for p, q in zip(loaded.predict(xs, verbose=0), model.predict(xs, verbose=0)):
        np.testing.assert_array_equal(p, q)
    assert loaded.count_params() == model.count_params()


@pytest.mark.parametrize("name", ["functional", "mlp", "cnn", "conv_pool", "conv1d_3d", "lstm", "bidir"])
def test_real_keras_files_load_and_predict_the_same(name):
    model = kcore.models.load_model(DATA / f"keras3_{name}.keras")
    io = np.load(DATA / f"keras3_{name}_io.npz")
    xs = [io[k] for k in sorted(io.files) if k.startswith("x")]
    ys = [io[k] for k in sorted(io.files) if k.startswith("y")]
    out = model.predict(xs if len(xs) > 1 else xs[0], verbose=0)
    for got, want in zip(out if isinstance(out, list) else [out], ys):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_save_and_load_weights(tmp_path, rng):
    model, x, _ = _trained_model(rng)
    model.save_weights(tmp_path / "w.weights.h5")
    fresh, _, _ = _trained_model(np.random.default_rng(99))
    fresh.load_weights(tmp_path / "w.weights.h5")
    np.testing.assert_array_equal(fresh.predict(x, verbose=0), model.predict(x, verbose=0))
    with pytest.raises(ValueError, match="weights.h5"):
        model.save_weights(tmp_path / "w.h5")


def test_bad_paths_and_files(tmp_path, rng):
    model, _, _ = _trained_model(rng)
    with pytest.raises(ValueError, match=".keras"):
        model.save(tmp_path / "model")
    with pytest.raises(FileNotFoundError):
        kcore.models.load_model(tmp_path / "missing.keras")
    good = tmp_path / "m.keras"
    model.save(good)
    truncated = tmp_path / "t.keras"
    truncated.write_bytes(good.read_bytes()[:500])
    with pytest.raises(ValueError, match="not a valid .keras archive"):
        kcore.models.load_model(truncated)
    foreign = tmp_path / "foreign.keras"
    with zipfile.ZipFile(foreign, "w") as z:
        z.writestr("readme.txt", "hello")
    with pytest.raises(ValueError, match="not a Keras model archive"):
        kcore.models.load_model(foreign)
    other = kcore.Sequential([layers.Dense(4, input_shape=(5,)), layers.Dense(3)])
    with pytest.raises(ValueError, match="shape"):
        other.load_weights(good)


def test_save_is_atomic(tmp_path, rng, monkeypatch):
    model, x, _ = _trained_model(rng)
    path = tmp_path / "m.keras"
    model.save(path)
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(zipfile.ZipFile, "writestr", crash)
    with pytest.raises(RuntimeError, match="disk full"):
        model.save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.keras"]  # no temporary file left behind


class Scale(layers.Layer):
    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def build(self, input_shape):
        self.w = self.add_weight("w", (input_shape[-1],), "ones")

    def call(self, x):
        return kcore.ops.multiply(kcore.ops.multiply(x, self.w), self.factor)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


def test_custom_objects(tmp_path):
    model = kcore.Sequential([Scale(3.0, input_shape=(2,))])
    model.save(tmp_path / "c.keras")
    with pytest.raises(ValueError, match="custom_objects"):
        kcore.models.load_model(tmp_path / "c.keras")
    loaded = kcore.models.load_model(tmp_path / "c.keras", custom_objects={"Scale": Scale})
    np.testing.assert_allclose(loaded.predict(np.ones((1, 2), np.float32), verbose=0), [[3.0, 3.0]])


def test_recurrent_and_conv_models_round_trip(tmp_path, rng):
    rnn = kcore.Sequential([layers.Embedding(30, 6, mask_zero=True, input_shape=(7,)),
                            layers.Bidirectional(layers.LSTM(4, return_sequences=True)), layers.GRU(3),
                            layers.Dense(1, activation="sigmoid")])
    cnn = kcore.Sequential([layers.Conv2D(3, 3, padding="same", activation="relu", input_shape=(8, 8, 1)),
                            layers.MaxPooling2D(), layers.Flatten(), layers.Dense(2)])
    for model, x in ((rnn, rng.integers(0, 30, (4, 7))), (cnn, rng.random((2, 8, 8, 1)).astype(np.float32))):
        model.save(tmp_path / "m.keras")
        loaded = kcore.models.load_model(tmp_path / "m.keras")
        np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_nested_functional_and_deep_sequential_models_round_trip(tmp_path, rng):
    x = rng.standard_normal((2, 3)).astype(np.float32)
    inner_in = kcore.Input((3,))
    model = kcore.Model(inner_in, layers.Dense(3, activation="tanh")(inner_in))
    for _ in range(4):  # functional models used as layers of functional models
        inp = kcore.Input((3,))
        model = kcore.Model(inp, layers.Dense(3)(model(inp)))
    deep = kcore.Sequential([kcore.Input((3,)), layers.Dense(3)])
    for _ in range(30):  # far deeper nesting than real models, still under the config depth limit
        deep = kcore.Sequential([deep, layers.Dense(3)])
    deep.build((None, 3))
    for m in (model, deep):
        m.save(tmp_path / "n.keras")
        loaded = kcore.models.load_model(tmp_path / "n.keras")
        np.testing.assert_array_equal(loaded.predict(x, verbose=0), m.predict(x, verbose=0))
