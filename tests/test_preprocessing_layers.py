"""Normalization (adapt on arrays and on batches, given statistics, invert), Rescaling, UnitNormalization and
Identity against real Keras 3 (tests/data/keras3_preprocessing.npz, made by
tests/data/gen/make_keras_preprocessing_reference.py): outputs, weights and configs; save/load; errors."""
import json
import os

import numpy as np
import pytest

import kcore
from kcore import layers

REF = np.load(os.path.join(os.path.dirname(__file__), "data", "keras3_preprocessing.npz"))
CASES = json.loads(str(REF["cases"]))
CONFIGS = json.loads(str(REF["configs"]))
X = REF["x"]


def _layer(name):
    cls, kwargs, mode = CASES[name]
    layer = getattr(layers, cls)(**kwargs)
    if mode == "adapt":
        layer.adapt(X)
    elif mode == "batches":
        layer.adapt([X[:3], X[3:5], X[5:]])
    return layer


@pytest.mark.parametrize("name", sorted(CASES))
def test_output_weights_and_config_match_keras(name):
    layer = _layer(name)
    np.testing.assert_allclose(np.asarray(layer(X)), REF[f"{name}_y"], rtol=2e-6, atol=2e-6)
    weights = layer.get_weights()
    assert len(weights) == len([k for k in REF.files if k.startswith(f"{name}_w")])
    for i, w in enumerate(weights):
        np.testing.assert_allclose(w, REF[f"{name}_w{i}"], rtol=1e-6, atol=1e-6)
    config = json.loads(json.dumps(layer.get_config(), default=list))
    config.pop("name")
    assert config == CONFIGS[name]


def test_adapted_normalization_saves_and_loads(tmp_path):
    model = kcore.Sequential([kcore.Input((4, 3)), layers.Normalization(), layers.Flatten(), layers.Dense(2)])
    model.layers[0].adapt(X)
    model.save(tmp_path / "m.keras")
    loaded = kcore.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(loaded.predict(X, verbose=0), model.predict(X, verbose=0), rtol=1e-6)


def test_normalization_errors():
    with pytest.raises(ValueError, match="both `mean` and `variance` must be set"):
        layers.Normalization(mean=1.0)
    with pytest.raises(ValueError, match="same shape"):
        layers.Normalization(mean=[1.0, 2.0], variance=[1.0])
    layer = layers.Normalization(axis=3)
    with pytest.raises(ValueError, match=r"range \[-ndim, ndim\)"):
        layer.adapt(X)
    adapted = layers.Normalization()
    adapted.adapt(X)
    with pytest.raises(ValueError, match="incompatible shape"):
        adapted.adapt(np.ones((2, 4, 5)))
    with pytest.raises(ValueError, match="empty iterable"):
        layers.Normalization().adapt([])
    with pytest.raises(TypeError, match="adapt: expected numeric data"):
        layers.Normalization().adapt(np.array([["a", "b"]]))
    with pytest.raises(ValueError, match="adapt\\(\\) got no samples"):
        layers.Normalization().adapt(np.zeros((0, 3), np.float32))
    with pytest.raises(TypeError, match="Rescaling: `scale`"):
        layers.Rescaling("half")
