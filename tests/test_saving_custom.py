"""Custom objects through save/load: registration, custom_objects, scopes, Lambda layers (bytecode,
safe_mode), and .keras files with custom objects moving between kcore and real Keras 3."""
import json
import re
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

import kcore
from kcore import layers, ops
from kcore.saving import object_registration

DATA = Path(__file__).parent / "data"


from custom_objects import define  # noqa: E402  (tests/custom_objects.py: shared with the Keras fixture script)

CUSTOM = define(kcore)
ScaleShift, my_act, my_loss = CUSTOM["ScaleShift"], CUSTOM["my_act"], CUSTOM["my_loss"]


class Unregistered(layers.Layer):
    def __init__(self, offset=1.0, **kwargs):
        super().__init__(**kwargs)
        self.offset = offset

    def call(self, x):
        return ops.add(x, self.offset)

    def get_config(self):
        return {**super().get_config(), "offset": self.offset}


def _custom_model():
    return CUSTOM["build"](np.random.default_rng(7))


def _config(path):
    with zipfile.ZipFile(path) as z:
        return json.loads(z.read("config.json"))


def test_registration_api():
    assert kcore.saving.get_registered_name(ScaleShift) == "kcoretest>ScaleShift"
    assert kcore.saving.get_registered_name(my_act) == "kcoretest>swishish"
    assert kcore.saving.get_registered_name(Unregistered) == "Unregistered"
    assert kcore.saving.get_registered_object("kcoretest>ScaleShift") is ScaleShift
    assert kcore.saving.get_custom_objects()["kcoretest>my_loss"] is my_loss
    assert kcore.saving.get_registered_object("Unregistered") is None
    assert kcore.saving.get_registered_object("Unregistered", custom_objects={"Unregistered": Unregistered}) \
        is Unregistered
    with pytest.raises(ValueError, match="get_config"):
        kcore.saving.register_keras_serializable("kcoretest")(type("NoConfig", (), {}))


def test_custom_object_scopes_nest_and_unwind():
    with kcore.saving.custom_object_scope({"A": 1}):
        with kcore.saving.CustomObjectScope({"B": 2}):
            assert kcore.saving.get_registered_object("A") == 1
            assert kcore.saving.get_registered_object("B") == 2
        assert kcore.saving.get_registered_object("B") is None
    assert kcore.saving.get_registered_object("A") is None


def test_registered_layer_activation_loss_and_metric_round_trip(tmp_path):
    model = _custom_model()
    path = tmp_path / "c.keras"
    model.save(path)
    config = _config(path)
    scale, dense = config["config"]["layers"][1], config["config"]["layers"][2]
    assert scale["registered_name"] == "kcoretest>ScaleShift"
    assert dense["config"]["activation"]["config"] == "kcoretest>swishish"
    assert config["compile_config"]["loss"]["config"] == "kcoretest>my_loss"
    loaded = kcore.models.load_model(path, safe_mode=False)
    x = np.random.default_rng(1).standard_normal((4, 3)).astype(np.float32)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert isinstance(loaded.layers[0], ScaleShift) and loaded.layers[0].factor == 3.0
    assert loaded.layers[1].activation is my_act
    assert loaded._compile_args["loss"] is my_loss
    logs = loaded.evaluate(x, np.zeros((4, 2), np.float32), verbose=0, return_dict=True)
    assert set(logs) == {"loss", "my_metric"}


def test_unregistered_layer_needs_custom_objects_or_a_scope(tmp_path):
    model = kcore.Sequential([kcore.Input((2,)), Unregistered(2.5)])
    path = tmp_path / "u.keras"
    model.save(path)
    assert _config(path)["config"]["layers"][1]["registered_name"] == "Unregistered"
    with pytest.raises(ValueError, match="Unknown layer: 'Unregistered'.*custom_objects") as info:
        kcore.models.load_model(path)
    assert str(path) in str(info.value)
    x = np.ones((1, 2), np.float32)
    loaded = kcore.models.load_model(path, custom_objects={"Unregistered": Unregistered})
    np.testing.assert_allclose(loaded.predict(x, verbose=0), [[3.5, 3.5]])
    with kcore.saving.custom_object_scope({"Unregistered": Unregistered}):
        np.testing.assert_allclose(kcore.models.load_model(path).predict(x, verbose=0), [[3.5, 3.5]])


class Hinged(kcore.losses.Loss):
    def __init__(self, margin=1.0, name="hinged", reduction="sum_over_batch_size"):
        super().__init__(name=name, reduction=reduction)
        self.margin = margin

    def call(self, y, p):
        return ops.mean(ops.relu(ops.subtract(self.margin, ops.multiply(y, p))), axis=-1)

    def get_config(self):
        return {**super().get_config(), "margin": self.margin}


def test_custom_loss_class_through_custom_objects(tmp_path):
    model = kcore.Sequential([kcore.Input((3,)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss=Hinged(0.5))
    path = tmp_path / "l.keras"
    model.save(path)
    assert _config(path)["compile_config"]["loss"]["class_name"] == "Hinged"
    with pytest.raises(ValueError, match="Hinged"):
        kcore.models.load_model(path)
    loaded = kcore.models.load_model(path, custom_objects={"Hinged": Hinged})
    loss = loaded._compile_args["loss"]
    assert isinstance(loss, Hinged) and loss.margin == 0.5


# -- Lambda ------------------------------------------------------------------------------------------


def test_lambda_needs_safe_mode_false(tmp_path):
    scale = 3.0
    model = kcore.Sequential([kcore.Input((2,)), layers.Lambda(lambda x, k=1.0: x * scale + k, output_shape=(2,),
                                                                name="affine")])
    path = tmp_path / "lam.keras"
    model.save(path)
    function = _config(path)["config"]["layers"][1]["config"]["function"]
    assert function["class_name"] == "__lambda__" and function["config"]["closure"] == [3.0]
    assert function["config"]["defaults"] == [1.0]
    with pytest.raises(ValueError, match=r"'affine'.*safe_mode=False.*enable_unsafe_deserialization") as info:
        kcore.models.load_model(path)
    assert str(path) in str(info.value)
    x = np.array([[1.0, -2.0]], np.float32)
    loaded = kcore.models.load_model(path, safe_mode=False)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), [[4.0, -5.0]])
    assert loaded.layers[0].get_config()["output_shape"] == [2]


def test_enable_unsafe_deserialization(tmp_path, monkeypatch):
    path = tmp_path / "lam.keras"
    kcore.Sequential([kcore.Input((2,)), layers.Lambda(lambda x: x + 1.0)]).save(path)
    monkeypatch.setattr(object_registration, "_UNSAFE_GLOBALLY", [False])
    kcore.saving.enable_unsafe_deserialization()
    np.testing.assert_allclose(kcore.models.load_model(path).predict(np.zeros((1, 2)), verbose=0), [[1.0, 1.0]])


def test_lambda_with_a_named_function_loads_in_safe_mode(tmp_path):
    def plus_two(x):
        return x + 2.0

    path = tmp_path / "named.keras"
    kcore.Sequential([kcore.Input((2,)), layers.Lambda(my_act), layers.Lambda(plus_two)]).save(path)
    with pytest.raises(ValueError, match="plus_two"):
        kcore.models.load_model(path)
    loaded = kcore.models.load_model(path, custom_objects={"plus_two": plus_two})
    want = 0.5 / (1 + np.exp(-0.5)) + 2.0
    np.testing.assert_allclose(loaded.predict(np.full((1, 2), 0.5), verbose=0), [[want, want]], rtol=1e-6)


def test_lambda_capturing_an_unsaveable_value_says_so():
    table = object()
    layer = layers.Lambda(lambda x: x if table else x)
    with pytest.raises(TypeError, match="captures a value of type object"):
        layer.get_config()


def test_lambda_from_config_refuses_bytecode_by_default():
    config = layers.Lambda(lambda x: x * 2.0, name="double").get_config()
    with pytest.raises(ValueError, match="safe_mode=False"):
        layers.Lambda.from_config(config)
    layer = layers.Lambda.from_config(config, safe_mode=False)
    np.testing.assert_allclose(layer(np.ones((1, 2), np.float32)).numpy(), [[2.0, 2.0]])


# -- files written by the other library -------------------------------------------------------------


FIXTURE_PYTHON = (3, 11)  # the CPython whose bytecode the fixtures' Lambda holds


def _refused_on_another_python(path):
    """Lambda bytecode is only valid in the Python that wrote it: elsewhere the load is refused with a clear
    error (or, where the bytecode happens to decode the same, it loads and must then predict correctly)."""
    if sys.version_info[:2] == FIXTURE_PYTHON:
        return False
    try:
        kcore.models.load_model(path, safe_mode=False)
    except ValueError as e:
        assert re.search("cannot (run|be read)", str(e)), e
        return True
    return False


def test_keras_file_with_custom_objects_loads_in_kcore():
    path = DATA / "keras3_custom.keras"
    with pytest.raises(ValueError, match="safe_mode=False"):
        kcore.models.load_model(path)
    if _refused_on_another_python(path):
        return
    model = kcore.models.load_model(path, safe_mode=False)
    io = np.load(DATA / "keras3_custom_io.npz")
    np.testing.assert_allclose(model.predict(io["x"], verbose=0), io["y"], rtol=1e-5, atol=1e-6)
    assert isinstance(model.layers[0], ScaleShift) and model.layers[1].activation is my_act
    assert model._compile_args["loss"] is my_loss


def _normalized(config):
    """A config without what differs between writers of the same model (names, modules, bytecode)."""
    if isinstance(config, dict):
        return {k: _normalized(v) for k, v in config.items()
                if k not in ("name", "module", "code", "python_version")}
    if isinstance(config, list):
        return [_normalized(v) for v in config]
    return config


def test_kcore_file_with_custom_objects_loads_in_keras(tmp_path):
    """kcore_custom.keras was loaded by real Keras 3 with the same registrations (make_keras_custom_fixtures.py),
    which recorded its predictions; kcore's writer must still produce that file's config."""
    fixture = DATA / "kcore_custom.keras"
    model = _custom_model()
    model.save(tmp_path / "now.keras")
    assert _normalized(_config(tmp_path / "now.keras")) == _normalized(_config(fixture))
    if _refused_on_another_python(fixture):
        return
    io = np.load(DATA / "kcore_custom_keras_io.npz")
    loaded = kcore.models.load_model(fixture, safe_mode=False)
    np.testing.assert_allclose(loaded.predict(io["x"], verbose=0), io["y"], rtol=1e-5, atol=1e-6)


def test_serialize_and_deserialize_keras_object():
    config = kcore.saving.serialize_keras_object(my_loss)
    assert config == {"module": "builtins", "class_name": "function", "config": "kcoretest>my_loss",
                      "registered_name": "function"}  # what Keras 3 writes (tests/data/keras3_custom.keras)
    assert kcore.saving.deserialize_keras_object(config) is my_loss
    loss = kcore.saving.deserialize_keras_object(kcore.saving.serialize_keras_object(Hinged(0.25)),
                                                 custom_objects={"Hinged": Hinged})
    assert isinstance(loss, Hinged) and loss.margin == 0.25
    assert kcore.saving.serialize_keras_object("mse") == "mse"
    with pytest.raises(ValueError, match="Unknown object: 'ModelCheckpoint'"):  # only modelling classes
        kcore.saving.deserialize_keras_object({"module": "keras.callbacks", "class_name": "ModelCheckpoint",
                                               "config": {"filepath": "x"}, "registered_name": None})


def test_lambda_of_a_kcore_op_is_saved_by_its_keras_ops_name(tmp_path):
    model = kcore.Sequential([kcore.Input((2,)), layers.Lambda(ops.abs)])
    assert model.layers[0].get_config()["function"] == {"module": "keras.ops", "class_name": "function",
                                                        "config": "abs", "registered_name": "abs"}
    model.save(tmp_path / "abs.keras")
    loaded = kcore.models.load_model(tmp_path / "abs.keras")  # no code in the file: safe mode loads it
    np.testing.assert_array_equal(loaded.predict(np.array([[-1.5, 2.0]]), verbose=0), [[1.5, 2.0]])


@kcore.saving.register_keras_serializable(package="kcoretest")
class MaxError(kcore.metrics.Metric):
    def __init__(self, scale=1.0, name="max_error", dtype=None):
        self.scale = scale
        super().__init__(name=name, dtype=dtype)

    def reset_state(self):
        self.value = 0.0

    def update_state(self, y_true, y_pred, sample_weight=None):
        err = np.max(np.abs(np.asarray(y_true) - np.asarray(y_pred))) * self.scale
        self.value = max(self.value, float(err))

    def result(self):
        return self.value

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


def test_registered_metric_class_round_trip(tmp_path):
    model = kcore.Sequential([kcore.Input((2,)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", metrics=[MaxError(2.0)])
    model.save(tmp_path / "m.keras")
    metric = _config(tmp_path / "m.keras")["compile_config"]["metrics"][0]
    assert metric["registered_name"] == "kcoretest>MaxError" and metric["config"]["scale"] == 2.0
    loaded = kcore.models.load_model(tmp_path / "m.keras")
    x, y = np.ones((4, 2), np.float32), np.zeros((4, 1), np.float32)
    want = model.evaluate(x, y, verbose=0, return_dict=True)
    got = loaded.evaluate(x, y, verbose=0, return_dict=True)
    assert set(got) == {"loss", "max_error"}
    assert got["max_error"] == pytest.approx(want["max_error"])


def test_lambda_bytecode_from_another_python_is_refused(tmp_path):
    model = kcore.Sequential([layers.Lambda(lambda t: t * 2.0 + 1.0, input_shape=(3,))])
    model.save(tmp_path / "m.keras")
    config = _config(tmp_path / "m.keras")
    fn = config["config"]["layers"][-1]["config"]["function"]["config"]
    assert fn["python_version"] == f"{sys.version_info[0]}.{sys.version_info[1]}"
    np.testing.assert_allclose(kcore.models.load_model(tmp_path / "m.keras", safe_mode=False)
                               .predict(np.ones((1, 3), "float32"), verbose=0), 3.0)
    from kcore.saving.function_code import load_function

    other = dict(fn, python_version="3.7")
    with pytest.raises(ValueError, match="written by Python 3.7 and cannot run"):
        load_function({"class_name": "__lambda__", "config": other}, "Lambda 'x'", safe_mode=False)
    garbled = dict(fn, python_version=None, code=__import__("base64").encodebytes(
        __import__("marshal").dumps((lambda: 0).__code__.replace(co_code=b"\x00\x00" * 4))).decode())
    with pytest.raises(ValueError, match="cannot run"):
        load_function({"class_name": "__lambda__", "config": garbled}, "Lambda 'x'", safe_mode=False)
