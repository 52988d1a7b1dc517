"""Functional models list layers and weights in Keras 3's order, and compile's per-output losses/metrics behave
as in Keras 3. Expected values: tests/data/keras3_training_parity.json, written by real Keras 3.15
(tests/data/gen/gen_training_parity.py)."""
import json
import os

import numpy as np
import pytest

import kcore
import training_parity_models as tpm

REF = json.load(open(os.path.join(os.path.dirname(__file__), "data", "keras3_training_parity.json")))


def _short(v):
    return "/".join(v.path.split("/")[-2:])


def _arrays(values):
    return [np.asarray(v, dtype=np.float32) for v in values]


@pytest.mark.parametrize("name", sorted(tpm.TOPOLOGIES))
def test_layer_and_weight_order_match_keras(name):
    ref = REF["topologies"][name]
    model = tpm.TOPOLOGIES[name](kcore)
    assert [layer.name for layer in model.layers] == ref["layers"]
    assert [_short(w) for w in model.weights] == ref["weights"]
    assert [list(w.shape) for w in model.weights] == ref["shapes"]
    assert [_short(w) for w in model.trainable_weights] == ref["trainable"]
    assert [_short(w) for w in model.non_trainable_weights] == ref["non_trainable"]
    assert [_short(w) for w in model.variables] == ref["weights"]
    model.set_weights(_arrays(ref["values"]))
    x = _arrays(ref["x"]) if isinstance(ref["x"][0][0], list) else np.asarray(ref["x"], dtype=np.float32)
    preds = model.predict(x, verbose=0)
    expected = ref["pred"]
    if isinstance(preds, list):
        for p, e in zip(preds, expected):
            np.testing.assert_allclose(p, np.asarray(e), rtol=1e-5, atol=1e-6)
    else:
        np.testing.assert_allclose(preds, np.asarray(expected), rtol=1e-5, atol=1e-6)
    for got, want in zip(model.get_weights(), ref["values"]):
        np.testing.assert_array_equal(got, np.asarray(want, dtype=np.float32))


def test_shared_weights_listed_once():
    layer = kcore.layers.Dense(2)
    a, b = kcore.Input((2,)), kcore.Input((2,))
    model = kcore.Model([a, b], kcore.layers.Add()([layer(a), layer(b)]))
    outer = kcore.Sequential([kcore.Input((2,)), layer])
    assert len(model.weights) == 2 and len(outer.weights) == 2
