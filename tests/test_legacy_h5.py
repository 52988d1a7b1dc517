"""Keras 2 legacy HDF5 (.h5): models and weights written by tf_keras load in kcore and predict the same, and
kcore's .h5 files keep the layout tf_keras and Keras 3 load (fixtures: tests/data/gen/gen_keras2_h5.py and
tests/data/gen/check_kcore_h5.py, run with tf_keras / Keras 3)."""
import json
import warnings
from pathlib import Path

import h5py
import numpy as np
import pytest

import kcore
from kcore import layers

DATA = Path(__file__).parent / "data" / "keras2"
MODELS = ["mlp", "cnn", "rnn", "gru_v2", "two_branch", "bidir", "nested", "keras3_nested"]


def _io(name):
    io = np.load(DATA / f"{name}_io.npz")
    xs = [io[k] for k in sorted(io.files) if k.startswith("x")]
    return (xs if len(xs) > 1 else xs[0]), io["y"]


def _predict(model, x):
    return np.asarray(model.predict(x, verbose=0))


@pytest.mark.parametrize("name", MODELS)
def test_tf_keras_model_loads_and_predicts_the_same(name):
    x, y = _io(name)
    model = kcore.models.load_model(DATA / f"{name}.h5")
    np.testing.assert_allclose(_predict(model, x), y, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", ["mlp", "cnn", "rnn"])
def test_tf_keras_weight_file_loads_by_order(name):
    x, y = _io(name)
    model = kcore.models.load_model(DATA / f"{name}.h5", compile=False)
    for w in model.weights:
        w.assign(np.zeros(w.shape, "float32"))
    model.load_weights(DATA / f"{name}_weights.h5")
    np.testing.assert_allclose(_predict(model, x), y, rtol=1e-5, atol=1e-5)


def _kcore_mlp(names=("dense", "dropout", "dense_1"), units=8):
    return kcore.Sequential([layers.Dense(units, activation="relu", input_shape=(5,), name=names[0]),
                             layers.Dropout(0.2, name=names[1]), layers.Dense(3, activation="softmax", name=names[2])])


def test_weights_into_a_model_built_in_kcore_and_from_a_full_model_file():
    x, y = _io("mlp")
    model = _kcore_mlp(names=("a", "b", "c"))  # names differ: loading is by order
    model.load_weights(DATA / "mlp_weights.h5")
    np.testing.assert_allclose(_predict(model, x), y, rtol=1e-5, atol=1e-5)
    other = _kcore_mlp(names=("p", "q", "r"))
    other.load_weights(DATA / "mlp.h5")  # a whole-model file: its model_weights group
    np.testing.assert_allclose(_predict(other, x), y, rtol=1e-5, atol=1e-5)


def test_load_weights_by_name_and_skip_mismatch():
    x, y = _io("mlp")
    with h5py.File(DATA / "mlp_weights.h5", "r") as f:
        head_bias = np.asarray(f["dense_1/dense_1/bias:0"])
    model = kcore.Sequential([layers.Dense(8, activation="relu", input_shape=(5,), name="dense"),
                              layers.Dense(3, activation="softmax", name="dense_1"), layers.Dense(2, name="extra")])
    extra = model.layers[2].get_weights()
    model.load_weights(DATA / "mlp_weights.h5", by_name=True)
    np.testing.assert_allclose(model.layers[1].bias.numpy(), head_bias)
    np.testing.assert_allclose(_predict(kcore.Sequential(model.layers[:2]), x), y, rtol=1e-5, atol=1e-5)
    for a, b in zip(model.layers[2].get_weights(), extra):  # no group of that name: left alone
        np.testing.assert_array_equal(a, b)

    wide = _kcore_mlp(units=6)
    with pytest.raises(ValueError, match=r"'dense'.*\(5, 6\).*\(5, 8\)"):
        wide.load_weights(DATA / "mlp_weights.h5", by_name=True)
    before = wide.layers[0].kernel.numpy()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        wide.load_weights(DATA / "mlp_weights.h5", by_name=True, skip_mismatch=True)
    messages = [str(w.message) for w in caught]
    assert len(messages) == 3 and all(m.startswith("Skipping a weight: Layer 'dense") for m in messages)
    assert "'kernel' expects shape (5, 6), but the file holds shape (5, 8)" in messages[0]
    np.testing.assert_array_equal(wide.layers[0].kernel.numpy(), before)
    np.testing.assert_allclose(wide.layers[2].bias.numpy(), head_bias)  # matching layers still load
    with pytest.raises(ValueError, match="by_name"):
        wide.load_weights(DATA.parent / "keras3_cnn.keras", by_name=True)


def test_legacy_arguments_in_configs():
    model = kcore.models.load_model(DATA / "mlp_legacy_adam.h5")  # Adam(lr=0.003, decay=0.0) of Keras 2.2
    assert type(model.optimizer).__name__ == "Adam"
    assert model.optimizer.learning_rate == pytest.approx(0.003)
    assert model._compile_args["loss"] == "categorical_crossentropy"
    assert model._compile_args["metrics"] == ["accuracy"]
    assert model.optimizer.decay == 0.0


def test_keras2_learning_rate_decay_both_directions(tmp_path):
    def with_decay(f):
        tc = json.loads(f.attrs["training_config"])
        tc["optimizer_config"]["config"]["decay"] = 0.01
        f.attrs["training_config"] = json.dumps(tc)

    model = kcore.models.load_model(_copy_with(DATA / "mlp_legacy_adam.h5", tmp_path / "decay.h5", with_decay))
    assert model.optimizer.decay == pytest.approx(0.01) and model.optimizer.learning_rate == pytest.approx(0.003)
    with pytest.warns(UserWarning, match="legacy"):
        model.save(tmp_path / "again.h5")
    with h5py.File(tmp_path / "again.h5", "r") as f:
        config = json.loads(f.attrs["training_config"])["optimizer_config"]["config"]
    assert config["decay"] == pytest.approx(0.01)
    assert kcore.models.load_model(tmp_path / "again.h5").optimizer.decay == pytest.approx(0.01)


def test_legacy_model_configs():
    x, y = _io("rnn")
    legacy = kcore.models.load_model(DATA / "rnn_legacy.h5")  # Keras 2.0: bare layer list, GRU w/o reset_after
    assert legacy.layers[2].reset_after is False
    np.testing.assert_allclose(_predict(legacy, x), y, rtol=1e-5, atol=1e-5)
    assert kcore.models.load_model(DATA / "gru_v2.h5").layers[0].reset_after is True


def _attr_names(group, name):
    return [v.decode() if isinstance(v, bytes) else v for v in group.attrs[name]]


def _layout(path):
    """Everything of a Keras 2 file's layout but the values: attributes, layer and weight names, shapes."""
    with h5py.File(path, "r") as f:
        g = f["model_weights"]
        out = {"keras_version": f.attrs["keras_version"], "backend": f.attrs["backend"],
               "config": json.loads(f.attrs["model_config"]), "layers": _attr_names(g, "layer_names")}
        for name in out["layers"]:
            weight_names = list(g[name].attrs["weight_names"])
            out[name] = [(n.decode(), g[name][n.decode()].shape) for n in weight_names]
    return out


@pytest.mark.parametrize("name", ["nested", "rnn"])
def test_kcore_written_h5_fixture_matches_tf_keras_and_keras3(name, tmp_path):
    """kcore_<name>.h5 was written by kcore; tf_keras and Keras 3 loaded it and predicted y_tf_keras / y_keras3.
    kcore still reads it, and writes the same layout today."""
    x, y = _io(name)
    ref = np.load(DATA / f"kcore_{name}_ref.npz")
    np.testing.assert_allclose(ref["y_tf_keras"], y, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ref["y_keras3"], y, rtol=1e-5, atol=1e-5)
    model = kcore.models.load_model(DATA / f"kcore_{name}.h5")
    np.testing.assert_allclose(_predict(model, x), ref["y_tf_keras"], rtol=1e-5, atol=1e-5)
    with pytest.warns(UserWarning, match="legacy"):
        kcore.models.load_model(DATA / f"{name}.h5").save(tmp_path / "again.h5")
    assert _layout(tmp_path / "again.h5") == _layout(DATA / f"kcore_{name}.h5")


def test_saved_h5_layout_and_round_trip(tmp_path, rng):
    model = kcore.Sequential([layers.Conv1D(3, 2, input_shape=(6, 2)), layers.BatchNormalization(),
                              layers.Flatten(), layers.Dense(2)])
    model.compile(optimizer=kcore.optimizers.Adam(learning_rate=0.01), loss="mse", metrics=["mae"])
    x = rng.standard_normal((8, 6, 2)).astype("float32")
    model.fit(x, rng.standard_normal((8, 2)).astype("float32"), epochs=1, verbose=0)
    with pytest.warns(UserWarning, match="legacy"):
        model.save(tmp_path / "m.h5")
    with h5py.File(tmp_path / "m.h5", "r") as f:
        assert set(f.attrs) == {"keras_version", "backend", "model_config", "training_config"}
        assert f.attrs["backend"] == "tensorflow" and f.attrs["keras_version"].startswith("2.")
        config = json.loads(f.attrs["model_config"])
        assert config["class_name"] == "Sequential"
        first = config["config"]["layers"][0]
        assert first["class_name"] == "InputLayer" and first["config"]["batch_input_shape"] == [None, 6, 2]
        tc = json.loads(f.attrs["training_config"])
        # Settings tf.keras's classic Adam and Keras 3 both read; the loss alias spelled out for Keras 3.
        assert tc["optimizer_config"] == {"class_name": "Adam", "config": {
            "name": "adam", "learning_rate": float(np.float32(0.01)), "clipnorm": None, "clipvalue": None,
            "global_clipnorm": None, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07, "amsgrad": False}}
        assert tc["loss"] == "mean_squared_error" and tc["metrics"] == ["mae"]
        g = f["model_weights"]
        assert _attr_names(g, "layer_names") == [layer.name for layer in model.layers]
        bn = model.layers[1].name
        assert [n.split("/")[-1] for n in _attr_names(g[bn], "weight_names")] == [
            "gamma:0", "beta:0", "moving_mean:0", "moving_variance:0"]
        assert len(g[model.layers[2].name].attrs["weight_names"]) == 0
    loaded = kcore.models.load_model(tmp_path / "m.h5")
    np.testing.assert_allclose(_predict(loaded, x), _predict(model, x), rtol=1e-6, atol=1e-6)
    assert loaded.optimizer.learning_rate == pytest.approx(0.01)
    with pytest.raises(ValueError, match="weights.h5"):
        model.save_weights(tmp_path / "w.h5")  # Keras 3: save_weights writes .weights.h5 only
    bare = kcore.models.load_model(tmp_path / "m.h5", compile=False)
    assert getattr(bare, "optimizer", None) is None


def _write(path, build):
    with h5py.File(path, "w") as f:
        build(f)
    return path


def test_bad_files_give_clear_errors(tmp_path):
    model = _kcore_mlp()
    with pytest.raises(FileNotFoundError):
        model.load_weights(tmp_path / "missing.h5")
    junk = tmp_path / "junk.h5"
    junk.write_bytes(b"not hdf5 at all" * 10)
    with pytest.raises(ValueError, match="not a readable HDF5"):
        kcore.models.load_model(junk)
    other = _write(tmp_path / "other.h5", lambda f: f.create_dataset("table/values", data=np.arange(4)))
    with pytest.raises(ValueError, match="no 'model_config'"):
        kcore.models.load_model(other)
    with pytest.raises(ValueError, match="not a Keras weights file"):
        model.load_weights(other)
    fewer = kcore.Sequential([layers.Dense(8, input_shape=(5,))])  # the file has one more layer with weights
    with pytest.raises(ValueError, match=r"2 layers \['dense', 'dense_1'\].*1 layers with weights"):
        fewer.load_weights(DATA / "mlp_weights.h5")
    no_bias = kcore.Sequential([layers.Dense(8, input_shape=(5,), use_bias=False), layers.Dense(3)])
    with pytest.raises(ValueError, match=r"expects 1 weight\(s\) with shapes \[\(5, 8\)\].*\[\(5, 8\), \(8,\)\]"):
        no_bias.load_weights(DATA / "mlp_weights.h5")


def _copy_with(src, dst, edit):
    with h5py.File(src, "r") as s, h5py.File(dst, "w") as d:
        for k, v in s.attrs.items():
            d.attrs[k] = v
        for k in s:
            s.copy(k, d)
        edit(d)
    return dst


def test_hostile_files_are_refused(tmp_path):
    model = _kcore_mlp()

    def external(f):
        del f["dense/dense/kernel:0"]
        raw = tmp_path / "outside.bin"
        raw.write_bytes(np.zeros(40, "float32").tobytes())
        f.create_dataset("dense/dense/kernel:0", shape=(5, 8), dtype="float32", external=[(str(raw), 0, 160)])

    with pytest.raises(ValueError, match="external storage"):
        model.load_weights(_copy_with(DATA / "mlp_weights.h5", tmp_path / "ext.h5", external))

    def linked(f):
        del f["dense/dense/kernel:0"]
        f["dense/dense/kernel:0"] = h5py.ExternalLink(str(DATA / "mlp.h5"), "/model_weights/dense/dense/kernel:0")

    with pytest.raises(ValueError, match="ExternalLink"):
        model.load_weights(_copy_with(DATA / "mlp_weights.h5", tmp_path / "link.h5", linked))

    def linked_group(f):
        del f["dense"]
        f["dense"] = h5py.ExternalLink(str(DATA / "mlp.h5"), "/model_weights/dense")

    with pytest.raises(ValueError, match="ExternalLink"):
        model.load_weights(_copy_with(DATA / "mlp_weights.h5", tmp_path / "link2.h5", linked_group))

    def strings(f):
        del f["dense/dense/bias:0"]
        f.create_dataset("dense/dense/bias:0", data=np.array([b"x"] * 8))

    with pytest.raises(ValueError, match="expected a numeric dtype"):
        model.load_weights(_copy_with(DATA / "mlp_weights.h5", tmp_path / "str.h5", strings))

    def empty(f):
        del f["dense/dense/bias:0"]
        f.create_dataset("dense/dense/bias:0", data=h5py.Empty("float32"))

    with pytest.raises(ValueError, match="holds no data"):
        model.load_weights(_copy_with(DATA / "mlp_weights.h5", tmp_path / "empty.h5", empty))

    def missing(f):
        del f["dense/dense/bias:0"]

    with pytest.raises(ValueError, match="listed but missing"):
        model.load_weights(_copy_with(DATA / "mlp_weights.h5", tmp_path / "miss.h5", missing))

    def unlisted_layer(f):
        del f["dense_1"]

    with pytest.raises(ValueError, match="'dense_1' is listed in layer_names but has no group"):
        model.load_weights(_copy_with(DATA / "mlp_weights.h5", tmp_path / "nolayer.h5", unlisted_layer))

    def deep(f):
        f.attrs["model_config"] = "[" * 5000 + "]" * 5000

    with pytest.raises(ValueError, match="nests 5000 levels"):
        kcore.models.load_model(_copy_with(DATA / "mlp.h5", tmp_path / "deep.h5", deep))

    def broken(f):
        f.attrs["model_config"] = '{"class_name": "Sequential", "config": '

    with pytest.raises(ValueError, match="not valid JSON"):
        kcore.models.load_model(_copy_with(DATA / "mlp.h5", tmp_path / "broken.h5", broken))

    def bad_node(f):
        config = json.loads(f.attrs["model_config"])
        config["config"]["layers"][-1]["inbound_nodes"] = [[["nowhere", "x", 0, {}]]]
        f.attrs["model_config"] = json.dumps(config)

    with pytest.raises(ValueError, match="Invalid Keras 2 node reference"):
        kcore.models.load_model(_copy_with(DATA / "two_branch.h5", tmp_path / "node.h5", bad_node))

    def lambda_code(f):  # Keras 2 keeps a Lambda's function as marshalled bytecode
        config = json.loads(f.attrs["model_config"])
        config["config"]["layers"].insert(2, {"class_name": "Lambda", "config": {
            "name": "lam", "function": ["4wEAAAAAAAAA", None, None], "function_type": "lambda"}})
        f.attrs["model_config"] = json.dumps(config)

    with pytest.raises(ValueError, match="'lam' is a Lambda.*bytecode"):
        kcore.models.load_model(_copy_with(DATA / "mlp.h5", tmp_path / "lambda.h5", lambda_code))

    def time_major(f):
        config = json.loads(f.attrs["model_config"])
        config["config"]["layers"][2]["config"]["time_major"] = True
        f.attrs["model_config"] = json.dumps(config)

    with pytest.raises(ValueError, match="'lstm' \\(LSTM\\) has time_major=True"):
        kcore.models.load_model(_copy_with(DATA / "rnn.h5", tmp_path / "tm.h5", time_major))


def test_big_config_is_refused(tmp_path, monkeypatch):
    from kcore.saving import legacy_config

    monkeypatch.setattr(legacy_config, "MAX_CONFIG_BYTES", 100)
    with pytest.raises(ValueError, match="more than the 100"):
        kcore.models.load_model(DATA / "mlp.h5")


def test_keras3_layout_under_a_plain_h5_name_still_loads(tmp_path, rng):
    model = _kcore_mlp()
    model.save_weights(tmp_path / "w.weights.h5")
    (tmp_path / "w.weights.h5").rename(tmp_path / "w.h5")
    fresh = _kcore_mlp()
    fresh.load_weights(tmp_path / "w.h5")
    x = rng.standard_normal((2, 5)).astype("float32")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(_predict(fresh, x), _predict(model, x))


def test_shared_layer_and_nested_model_node_numbering_as_keras2_writes_it(tmp_path):
    """Keras 2 numbers a layer's calls inside the model (a shared Dense: nodes 0 and 1) and counts a nested
    functional model's own input node (its first call is node 1)."""
    inner_in = kcore.Input((8,))
    inner = kcore.Model(inner_in, layers.Dense(2, name="inner_dense")(inner_in), name="inner")
    a, b = kcore.Input((4,), name="a"), kcore.Input((4,), name="b")
    shared = layers.Dense(4, name="shared")
    joined = layers.Concatenate(name="joined")([shared(a), shared(b)])
    model = kcore.Model([a, b], [inner(joined), joined])
    with pytest.warns(UserWarning, match="legacy"):
        model.save(tmp_path / "m.h5")
    with h5py.File(tmp_path / "m.h5", "r") as f:
        config = json.loads(f.attrs["model_config"])["config"]
    nodes = {e["name"]: e["inbound_nodes"] for e in config["layers"]}
    assert nodes["shared"] == [[["a", 0, 0, {}]], [["b", 0, 0, {}]]]
    assert nodes["joined"] == [[["shared", 0, 0, {}], ["shared", 1, 0, {}]]]
    assert nodes["inner"] == [[["joined", 0, 0, {}]]]
    assert config["output_layers"] == [["inner", 1, 0], ["joined", 0, 0]]
    assert config["input_layers"] == [["a", 0, 0], ["b", 0, 0]]
    loaded = kcore.models.load_model(tmp_path / "m.h5")
    x = [np.ones((2, 4), "float32"), np.arange(8, dtype="float32").reshape(2, 4)]
    for got, want in zip(loaded.predict(x, verbose=0), model.predict(x, verbose=0)):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


def test_long_name_lists_are_chunked_as_keras_does(tmp_path):
    from kcore.saving.legacy_h5 import _names_attr, _set_names_attr

    names = [f"layer_with_a_long_name_{i:05d}" for i in range(4000)]
    with h5py.File(tmp_path / "n.h5", "w") as f:
        _set_names_attr(f, "layer_names", names)
        assert "layer_names" not in f.attrs and "layer_names0" in f.attrs and "layer_names1" in f.attrs
        assert _names_attr(f, "layer_names", "n.h5") == names


def test_loss_and_metric_settings_survive_both_directions(tmp_path):
    """tf_keras compiled CategoricalCrossentropy(from_logits=True, label_smoothing=0.1), AUC(curve='PR',
    from_logits=True) and RMSprop(0.01): kcore rebuilds them (evaluate gives tf_keras's numbers) and writes
    them back with their settings."""
    io = np.load(DATA / "compiled_io.npz")
    model = kcore.models.load_model(DATA / "compiled.h5")
    assert type(model.optimizer).__name__ == "RMSprop"
    assert model.optimizer.learning_rate == pytest.approx(0.01)
    np.testing.assert_allclose(model.evaluate(io["x0"], io["labels"], verbose=0), io["evaluate"], rtol=1e-5)
    with pytest.warns(UserWarning, match="legacy"):
        model.save(tmp_path / "again.h5")
    with h5py.File(tmp_path / "again.h5", "r") as f:
        tc = json.loads(f.attrs["training_config"])
    assert tc["loss"]["class_name"] == "CategoricalCrossentropy"
    assert tc["loss"]["config"]["from_logits"] is True and tc["loss"]["config"]["label_smoothing"] == 0.1
    assert tc["metrics"][1]["class_name"] == "AUC" and tc["metrics"][1]["config"]["curve"] == "PR"
    again = kcore.models.load_model(tmp_path / "again.h5")
    np.testing.assert_allclose(again.evaluate(io["x0"], io["labels"], verbose=0), io["evaluate"], rtol=1e-5)


def test_new_style_optimizer_settings_keep_tf_keras_marker(tmp_path):
    model = kcore.Sequential([layers.Dense(2, input_shape=(3,))])
    model.compile(optimizer=kcore.optimizers.AdamW(learning_rate=0.02, weight_decay=0.1), loss="mse")
    with pytest.warns(UserWarning, match="legacy"):
        model.save(tmp_path / "m.h5")
    with h5py.File(tmp_path / "m.h5", "r") as f:
        opt = json.loads(f.attrs["training_config"])["optimizer_config"]
    assert opt["class_name"] == "Custom>AdamW" and opt["config"]["weight_decay"] == 0.1
    loaded = kcore.models.load_model(tmp_path / "m.h5")
    assert type(loaded.optimizer).__name__ == "AdamW" and loaded.optimizer.weight_decay == pytest.approx(0.1)
    with pytest.raises(ValueError, match="optimizer 'Nonesuch'"):
        from kcore.saving.legacy_config import compile_from_training_config

        compile_from_training_config(loaded, {"optimizer_config": {"class_name": "Nonesuch"}}, "x.h5")


@pytest.mark.parametrize("name", ["resume_adam", "resume_rmsprop"])
def test_tf_keras_optimizer_state_resumes_training(name):
    """One more full-batch step after loading gives tf_keras's weights only with the saved Adam (amsgrad) /
    RMSprop (momentum, centered) slots and iteration count restored."""
    io = np.load(DATA / f"{name}_io.npz")
    model = kcore.models.load_model(DATA / f"{name}.h5")
    assert model.optimizer.iterations == 3
    model.fit(io["x"], io["y"], epochs=1, batch_size=5, shuffle=False, verbose=0)
    np.testing.assert_allclose(model.layers[0].kernel.numpy(), io["after"], rtol=1e-5, atol=1e-5)
    fresh = kcore.models.load_model(DATA / f"{name}.h5", compile=False)
    fresh.compile(optimizer=type(model.optimizer)(**{k: v for k, v in model.optimizer.get_config().items()
                                                     if k != "name"}), loss="mse")
    fresh.fit(io["x"], io["y"], epochs=1, batch_size=5, shuffle=False, verbose=0)
    assert np.abs(fresh.layers[0].kernel.numpy() - io["after"]).max() > 1e-3


def test_unmappable_optimizer_state_is_skipped_with_a_warning(tmp_path):
    def older(f):  # Keras 2.2 named its state Adam/iterations:0, Adam/lr:0, training/Adam/Variable:0, ...
        g = f["optimizer_weights"]
        for k in list(g):
            del g[k]
        g.create_dataset("Adam/iterations:0", data=np.int64(7))
        g.attrs["weight_names"] = np.array([b"Adam/iterations:0"])

    path = _copy_with(DATA / "resume_adam.h5", tmp_path / "old.h5", older)
    with pytest.warns(UserWarning, match="optimizer state does not match Adam.*starts afresh"):
        model = kcore.models.load_model(path)
    assert model.optimizer.iterations == 0


def _mutations(value, rng, depth=0):
    """Yields copies of a JSON config with one entry removed or replaced by a value of another type."""
    if isinstance(value, dict) and value:
        key = sorted(value)[rng.integers(len(value))]
        for variant in ("drop", "swap", "recurse"):
            out = dict(value)
            if variant == "drop":
                del out[key]
            elif variant == "swap":
                out[key] = [None, 7, "x", {"a": []}, -1.5][rng.integers(5)]
            elif depth < 12:
                for inner in _mutations(value[key], rng, depth + 1):
                    yield dict(value, **{key: inner})
                continue
            yield out
    elif isinstance(value, list) and value:
        i = int(rng.integers(len(value)))
        yield value[:i] + value[i + 1:]
        for inner in _mutations(value[i], rng, depth + 1):
            yield value[:i] + [inner] + value[i + 1:]


@pytest.mark.parametrize("name", ["nested", "bidir", "two_branch"])
def test_damaged_model_configs_raise_value_errors(name, tmp_path):
    """Randomly damaged configs either still load or raise ValueError (never another exception)."""
    with h5py.File(DATA / f"{name}.h5", "r") as f:
        config = json.loads(f.attrs["model_config"])
    rng = np.random.default_rng(0)
    path = tmp_path / "damaged.h5"
    tried = 0
    for _ in range(25):
        for damaged in _mutations(config, rng):
            _copy_with(DATA / f"{name}.h5", path, lambda f: f.attrs.__setitem__("model_config", json.dumps(damaged)))  # noqa: B023 (run in this iteration)
            tried += 1
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    kcore.models.load_model(path, compile=False)
            except ValueError:
                pass
    assert tried > 50
