"""Layer configs against real Keras 3: each case of tests/data/keras3_layer_configs.json (made by
tests/data/gen/make_keras_layer_configs.py) is built in kcore with the same arguments and input, and its
`get_config()` must equal Keras's (every key and value but the auto-generated name); a config round trip
rebuilds the layer; the outputs of LayerNormalization (including the deprecated rms_scaling), GroupNormalization
and RMSNormalization match Keras's (with non-trivial weights)."""
import json
import os
import warnings

import numpy as np
import pytest

import kcore

CASES = json.load(open(os.path.join(os.path.dirname(__file__), "data", "keras3_layer_configs.json")))
IDS = [f"{c['class']}-{i}" for i, c in enumerate(CASES)]


def _built(case):
    layer = getattr(kcore.layers, case["class"])(**case["kwargs"])
    x = np.asarray(case["input"], dtype=np.int32 if case["class"] == "Embedding" else np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        layer(x)
        layer.set_weights([np.asarray(w, np.float32) for w in case["weights"]])
        y = layer(x)
    return layer, y


def _plain(config):
    return json.loads(json.dumps(config, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o)))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_built_layer_config_equals_keras(case):
    layer, _ = _built(case)
    mine, theirs = _plain(layer.get_config()), dict(case["config"])
    mine.pop("name"), theirs.pop("name")
    assert mine == theirs


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_config_round_trip_rebuilds_the_layer(case):
    layer, y = _built(case)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clone = type(layer).from_config(layer.get_config())
    assert _plain(clone.get_config()) == _plain(layer.get_config())


@pytest.mark.parametrize("case", [c for c in CASES if "output" in c], ids=lambda c: json.dumps(c["kwargs"]))
def test_normalization_outputs_match_keras(case):
    _, y = _built(case)
    np.testing.assert_allclose(np.asarray(y), np.asarray(case["output"]), rtol=2e-5, atol=2e-6)


def test_rms_scaling_warns_and_has_no_beta():
    with pytest.warns(UserWarning, match="rms_scaling=True.*deprecated"):
        layer = kcore.layers.LayerNormalization(rms_scaling=True, center=True, scale=False)
    layer.build((2, 3))
    assert [w.name for w in layer.weights] == ["gamma"]  # Keras: gamma whenever rms_scaling, never beta


def test_unsupported_options_raise_clearly():
    with pytest.raises(NotImplementedError, match=r"BatchNormalization\(renorm=True\).*renorm=False"):
        kcore.layers.BatchNormalization(renorm=True)
    with pytest.raises(NotImplementedError, match=r"Dense\(quantization_config=.*not supported"):
        kcore.layers.Dense(3, quantization_config={"mode": "int8"})
    with pytest.raises(NotImplementedError, match=r"Dense\(lora_rank=4\)"):
        kcore.layers.Dense(3, lora_rank=4)


@pytest.mark.parametrize("make,shape", [
    (lambda: kcore.layers.GroupNormalization(groups=2, dtype="float64"), (2, 3, 4)),
    (lambda: kcore.layers.GroupNormalization(groups=-1, axis=1, dtype="float64"), (2, 3, 4)),
    (lambda: kcore.layers.RMSNormalization(axis=[1, 2], dtype="float64"), (2, 3, 4)),
], ids=["group", "instance_axis1", "rms_two_axes"])
def test_group_and_rms_normalization_gradients_float64(make, shape):
    from kcore.testing import gradcheck

    layer = make()
    x = np.random.default_rng(2).normal(size=shape)
    layer(x)
    layer.set_weights([np.random.default_rng(3).normal(1, 0.3, w.shape) for w in layer.get_weights()])
    gradcheck(lambda t: layer(t), [x])


def test_group_normalization_errors():
    with pytest.raises(ValueError, match="invalid value for argument `groups`"):
        kcore.layers.GroupNormalization(groups=0)
    with pytest.raises(ValueError, match=r"Number of groups \(3\) must be a multiple"):
        kcore.layers.GroupNormalization(groups=3)(np.ones((2, 4), np.float32))
    with pytest.raises(ValueError, match="cannot be more than the number of channels"):
        kcore.layers.GroupNormalization(groups=8)(np.ones((2, 4), np.float32))
