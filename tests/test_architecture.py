"""Structure rules of issue 12 checked on the source: import cycles, the shared registry helper."""
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

import kcore
from kcore.utils.registry import LAYERS, Registry

ROOT = Path(__file__).resolve().parents[1]


def _import_cycles():
    spec = importlib.util.spec_from_file_location("import_cycles", ROOT / "tools" / "import_cycles.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("import_cycles", module)
    spec.loader.exec_module(module)
    return module


def test_no_module_level_import_cycle_wider_than_three_modules():
    top, _ = _import_cycles().report(ROOT / "kcore")
    assert not top or len(top[0]) <= 3, top[0]


def test_cycle_checker_sees_cycles_and_package_inits(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from pkg.sub.c import x\n")
    (pkg / "sub" / "__init__.py").write_text("from pkg import a\n")  # importing pkg.sub.c runs this
    (pkg / "sub" / "c.py").write_text("x = 1\n\ndef f():\n    from pkg import b\n")
    (pkg / "b.py").write_text("from pkg.sub import c\n")
    top, combined = _import_cycles().report(pkg)
    assert top == [["pkg.a", "pkg.sub"]]
    assert combined == [["pkg.a", "pkg.b", "pkg.sub", "pkg.sub.c"]]  # with the lazy import in f()


def test_layers_and_models_register_themselves_for_loading():
    assert LAYERS.lookup("Conv2D") is kcore.layers.Conv2D
    assert LAYERS.lookup("Convolution2D") is kcore.layers.Conv2D  # exported aliases too
    assert LAYERS.lookup("Model") is kcore.models.Functional
    assert LAYERS.lookup("Sequential") is kcore.models.Sequential
    assert LAYERS.lookup("InputSpec") is None  # not a layer


def test_saving_does_not_import_the_layer_set():
    source = (ROOT / "kcore" / "saving" / "serialization.py").read_text()
    assert "import kcore.layers as" not in source and "vars(kl)" not in source


def test_registry_get_serialize_deserialize_follow_keras_rules():
    class Thing:
        def __init__(self, k=1):
            self.k = k

        def __call__(self):
            return self.k

        def get_config(self):
            return {"k": self.k}

        @classmethod
        def from_config(cls, config):
            return cls(**config)

    reg = Registry("thing", "keras.things", {"thing": Thing, "Thing": Thing})
    assert reg.get(None) is None
    assert isinstance(reg.get("thing"), Thing)
    made = reg.get({"class_name": "Thing", "config": {"k": 3}})
    assert made.k == 3
    assert reg.serialize(made) == {"module": "keras.things", "class_name": "Thing", "config": {"k": 3},
                                   "registered_name": None}
    assert reg.deserialize(reg.serialize(made)).k == 3
    with pytest.raises(ValueError, match="Could not interpret thing identifier: nope"):
        reg.get("nope")
    with pytest.raises(ValueError, match="Could not interpret thing identifier"):
        reg.get(42)
    folded = Registry("optimizer", "keras.optimizers", {"adam": Thing}, fold_case=True)
    assert folded.lookup("ADAM") is Thing


@pytest.mark.parametrize("module, name", [("constraints", "max_norm"), ("regularizers", "l2"),
                                          ("initializers", "glorot_uniform")])
def test_families_share_the_registry_round_trip(module, name):
    family = getattr(kcore, module)
    obj = family.get(name)
    config = family.serialize(obj)
    assert config["module"] == f"keras.{module}" and config["class_name"] == type(obj).__name__
    again = family.get(config)
    assert type(again) is type(obj) and again.get_config() == obj.get_config()
    assert family.serialize(None) is None
    with pytest.raises(ValueError, match="unsupported_key"):
        type(obj).from_config({**obj.get_config(), "unsupported_key": 5})


def test_layers_reach_the_engine_only_through_ops():
    """No layer file imports the native module (the recurrent family is being moved by its own change)."""
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "kcore" / "layers").rglob("*.py")
                 if "kcore.backend.native" in p.read_text() and p.parent.name != "rnn"]
    assert offenders == []


def test_backend_device_does_not_know_models():
    source = (ROOT / "kcore" / "backend" / "device.py").read_text()
    assert ".weights" not in source and "model" not in source.lower().replace("models", "")


def test_random_ops_follow_the_reference_tensor():
    from kcore.ops import random
    from kcore.ops.nn import assign_moving_average

    like = kcore.ops.convert_to_tensor(np.zeros((1,), "float64"))
    mask = random.dropout_mask((50, 40), 0.25, 7, like).numpy()
    assert mask.dtype == np.float64 and mask.shape == (50, 40)
    assert set(np.unique(mask)) <= {0.0, 1 / 0.75} and 0.15 < (mask == 0).mean() < 0.35
    u = random.uniform_like((1000,), 3, like, -2.0, 2.0).numpy()
    assert u.min() >= -2.0 and u.max() < 2.0 and abs(u.mean()) < 0.2
    var = kcore.backend.Variable(np.full((3,), 2.0, "float32"))
    assign_moving_average(var, kcore.ops.convert_to_tensor(np.array([0.0, 1.0, 4.0])), 0.75)
    np.testing.assert_allclose(var.numpy(), [1.5, 1.75, 2.5])


def test_spatial_layers_share_one_base_and_one_size_rule():
    from kcore.layers import spatial
    from kcore.layers.convolutional import BaseConv, BaseConvTranspose

    for cls in (kcore.layers.Conv2D, kcore.layers.Conv2DTranspose, kcore.layers.DepthwiseConv2D,
                kcore.layers.MaxPooling2D, kcore.layers.GlobalAveragePooling2D, kcore.layers.ZeroPadding2D,
                kcore.layers.Cropping2D, kcore.layers.UpSampling2D):
        assert issubclass(cls, spatial.SpatialLayer), cls
    assert "build" not in vars(BaseConvTranspose) and "build" in vars(BaseConv)


@pytest.mark.parametrize("data_format, shape, expected", [
    ("channels_last", (None, 7, 9, 3), (None, 4, 5, 8)),
    ("channels_first", (2, 3, 7, None), (2, 8, 4, None)),
])
def test_spatial_output_shape_maps_each_spatial_axis(data_format, shape, expected):
    layer = kcore.layers.Conv2D(8, 3, strides=2, padding="same", data_format=data_format)
    assert layer.compute_output_shape(shape) == expected
    assert layer.spatial_axes() == ([1, 2] if data_format == "channels_last" else [2, 3])
    with pytest.raises(ValueError, match=r"expected ndim=4 .*found ndim=3"):
        layer.compute_output_shape(shape[1:])
