"""Losses against real Keras 3: every reduction (with sample weights of each shape and ignore_class masks),
crossentropies along another `axis`, and a user-written Loss subclass trained with fit.

Expected values come from tests/data/keras_losses_parity.json, written by
tests/data/gen/make_keras_losses_parity.py with Keras 3 (TensorFlow backend).
"""
import json
import os
import sys

import numpy as np
import pytest

import kcore
from kcore import layers, losses, ops, optimizers
from kcore.backend.tensor import Tensor
from kcore.testing import gradcheck

sys.path.insert(0, os.path.dirname(__file__))
from custom_objects import weighted_abs_error  # noqa: E402  (tests/custom_objects.py: shared with the Keras script)

_DATA = json.load(open(os.path.join(os.path.dirname(__file__), "data", "keras_losses_parity.json")))
_INPUTS = {k: (np.asarray(a, np.float32), np.asarray(b, np.float32)) for k, (a, b) in _DATA["inputs"].items()}
_WEIGHTS = {k: None if v is None else np.asarray(v, np.float32) for k, v in _DATA["weights"].items()}


@pytest.mark.parametrize("case", _DATA["reductions"],
                         ids=lambda c: f"{c['loss']}-{c['kwargs']}-{c['inputs']}-{c['reduction']}-w_{c['weights']}")
def test_reductions_and_sample_weights_match_keras(case):
    y, p = _INPUTS[case["inputs"]]
    loss = getattr(losses, case["loss"])(reduction=case["reduction"], **case["kwargs"])
    got = loss(y, p, sample_weight=_WEIGHTS[case["weights"]])
    assert isinstance(got, Tensor) and got.dtype == "float32"
    np.testing.assert_allclose(got.numpy(), case["result"], rtol=2e-6, atol=1e-6)


@pytest.mark.parametrize("case", _DATA["axis"], ids=lambda c: f"{c.get('fn') or c.get('cls')}-{c['kwargs']}")
def test_crossentropy_axis_matches_keras(case):
    y, p = _INPUTS[case["inputs"]]
    if "fn" in case:
        got = getattr(losses, case["fn"])(y, p, **case["kwargs"])
    else:
        got = getattr(losses, case["cls"])(**case["kwargs"])(y, p)
    np.testing.assert_allclose(got.numpy(), case["result"], rtol=2e-5, atol=2e-6)


def test_crossentropy_axis_gradients():
    y, p = _INPUTS["cat_axis1"]
    _, z = _INPUTS["logits_axis1"]
    y64, p64, z64 = y.astype(np.float64), p.astype(np.float64), z.astype(np.float64)
    assert gradcheck(lambda t: losses.categorical_crossentropy(y64, t, axis=1), [p64])
    assert gradcheck(lambda t: losses.categorical_crossentropy(y64, t, axis=1, from_logits=True), [z64])
    assert gradcheck(lambda t: losses.categorical_focal_crossentropy(y64, t, axis=1, from_logits=True), [z64])
    yb, pb = _INPUTS["bin_3d"]
    assert gradcheck(lambda t: losses.binary_crossentropy(yb.astype(np.float64), t, axis=1), [pb.astype(np.float64)])


def test_bad_axis_and_reduction_are_clear_errors():
    y, p = _INPUTS["cat"]
    with pytest.raises(ValueError, match=r"categorical_crossentropy: axis must be an integer in \[-2, 2\)"):
        losses.categorical_crossentropy(y, p, axis=3)
    with pytest.raises(ValueError, match="binary_crossentropy: axis must be an integer"):
        losses.binary_crossentropy(y, p, axis=True)
    with pytest.raises(ValueError, match="Invalid value for argument `reduction`"):
        losses.MeanSquaredError(reduction="average")


class ScaledError(losses.Loss):
    """A user-written loss: scale * err^2 + |err|, averaged over the last axis."""

    def __init__(self, scale=2.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale
        self.seen = []

    def call(self, y_true, y_pred):
        self.seen.append((type(y_true), y_true.dtype, type(y_pred), y_pred.dtype))
        err = y_pred - y_true
        return ops.mean(self.scale * ops.square(err) + ops.abs(err), axis=-1)


def test_custom_loss_receives_float32_tensors():
    loss = ScaledError()
    value = loss(np.array([[1], [2]], np.int64), np.array([[0.5], [1.0]], np.float64))
    assert loss.seen == [(Tensor, "float32", Tensor, "float32")]
    assert value.dtype == "float32" and float(value.numpy()) == pytest.approx((2 * 0.25 + 0.5 + 2 * 1 + 1) / 2)
    assert loss.name == "scaled_error" and loss.get_config() == {"name": "scaled_error",
                                                                 "reduction": "sum_over_batch_size"}


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "mean_with_sample_weight", "sum"])
def test_custom_loss_subclass_trains_like_keras(reduction):
    ref = _DATA["custom_loss_training"]
    x, y, sw = (np.asarray(ref[k], np.float32) for k in ("x", "y", "sample_weight"))
    model = kcore.Sequential([layers.Input((3,)), layers.Dense(4, activation="tanh"), layers.Dense(1)])
    model.set_weights([np.asarray(w, np.float32) for w in ref["init"]])
    loss = ScaledError(scale=1.5, reduction=reduction)
    model.compile(optimizer=optimizers.SGD(0.01), loss=loss)
    history = model.fit(x, y, sample_weight=sw, epochs=3, batch_size=8, shuffle=False, verbose=0)
    expected = ref[reduction]
    np.testing.assert_allclose(history.history["loss"], expected["history"], rtol=1e-5)
    for got, want in zip(model.get_weights(), expected["weights"]):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    direct = ScaledError(1.5, reduction=reduction)(y, model.predict(x, verbose=0), sw)
    assert float(direct.numpy()) == pytest.approx(expected["direct"], rel=1e-5)
    assert all(seen == (Tensor, "float32", Tensor, "float32") for seen in loss.seen)


def test_sparse_crossentropy_axis_equals_one_hot_categorical():
    # Keras's TensorFlow backend refuses axis != -1 here (its JAX/torch backends accept it); kcore moves the class
    # axis last, so the result equals categorical_crossentropy on one-hot labels, checked against Keras above.
    y, p = _INPUTS["cat_axis1"]
    labels = np.argmax(y, axis=1)  # (N, T)
    sparse = losses.sparse_categorical_crossentropy(labels, p, axis=1).numpy()
    dense = losses.categorical_crossentropy(y, p, axis=1).numpy()
    np.testing.assert_allclose(sparse, dense, rtol=1e-6)
    ignored = losses.sparse_categorical_crossentropy(labels, p, axis=1, ignore_class=0).numpy()
    np.testing.assert_allclose(ignored, np.where(labels == 0, 0.0, dense), rtol=1e-6)


@pytest.mark.parametrize("case", _DATA["configs"], ids=lambda c: f"{c['cls']}-{c['kwargs']}")
def test_loss_configs_have_keras_keys_and_round_trip(case):
    cls = getattr(losses, case["cls"])
    config = cls(**case["kwargs"]).get_config()
    for key, value in case["config"].items():  # kcore keeps delta / axis too, which Keras's configs drop
        assert config[key] == value, key
    clone = cls.from_config(config)
    assert type(clone) is cls and clone.get_config() == config
    assert cls.from_config(case["config"]).get_config().items() >= case["config"].items()  # a Keras config loads
    assert losses.deserialize(losses.serialize(clone)).get_config() == config


def test_every_metric_class_has_a_keras_config_case():
    from kcore import metrics

    with open(os.path.join(os.path.dirname(__file__), "data", "keras_metrics_parity.json")) as f:
        covered = {case["metric"] for case in json.load(f)["configs"]}
    abstract = {"Metric", "MeanMetricWrapper"}
    assert {cls.__name__ for cls in metrics._ALL_CLASSES} - abstract <= covered
    assert {c["cls"] for c in _DATA["configs"]} >= {cls.__name__ for cls in losses._ALL_CLASSES} - {
        "Loss", "LossFunctionWrapper"}


WeightedAbsError = weighted_abs_error(kcore)


def test_metrics_and_weighted_metrics_in_fit_match_keras():
    # metrics ignore sample_weight, weighted_metrics use it; a clashing name gets "weighted_" (Keras 3)
    ref = _DATA["custom_loss_training"]
    x, y, sw = (np.asarray(ref[k], np.float32) for k in ("x", "y", "sample_weight"))
    model = kcore.Sequential([layers.Input((3,)), layers.Dense(4, activation="tanh"), layers.Dense(1)])
    model.set_weights([np.asarray(w, np.float32) for w in ref["init"]])
    model.compile(optimizer=optimizers.SGD(0.01), loss="mse", metrics=["mae", WeightedAbsError()],
                  weighted_metrics=["mae", WeightedAbsError(name="wae")])
    history = model.fit(x, y, sample_weight=sw, epochs=2, batch_size=8, shuffle=False, verbose=0).history
    expected = ref["metrics_in_fit"]
    assert set(history) == set(expected)
    for key, values in expected.items():
        np.testing.assert_allclose(history[key], values, rtol=1e-5, err_msg=key)


def test_metric_state_variables_reset():
    metric = WeightedAbsError()
    metric.update_state(np.ones((2, 1), np.float32), np.zeros((2, 1), np.float32))
    assert float(np.asarray(metric.result())) == 1.0 and len(metric.variables) == 2
    metric.reset_state()
    assert [float(v.numpy()) for v in metric.variables] == [0.0, 0.0]


def test_masked_sequence_output_leaves_padding_out_of_loss_and_metrics():
    # Embedding(mask_zero) -> LSTM(return_sequences): the output carries the padding mask, which Keras applies
    # to the loss (every reduction) and to the metrics, in evaluate and in fit
    ref = _DATA["masked_sequence"]
    x = np.asarray(ref["x"])
    y, sw = np.asarray(ref["y"], np.float32), np.asarray(ref["sample_weight"], np.float32)
    model = kcore.Sequential([layers.Input((5,)), layers.Embedding(10, 4, mask_zero=True),
                              layers.LSTM(3, return_sequences=True)])
    model.set_weights([np.asarray(w, np.float32) for w in ref["init"]])
    model.compile(optimizer=optimizers.SGD(0.1), loss="mse", metrics=["mae"], weighted_metrics=["mae"])
    for got, want in [(model.evaluate(x, y, verbose=0, return_dict=True), ref["evaluate"]),
                      (model.evaluate(x, y, sample_weight=sw, verbose=0, return_dict=True), ref["evaluate_weighted"])]:
        assert got.keys() == want.keys()
        for key in want:
            assert got[key] == pytest.approx(want[key], rel=1e-5), key
    history = model.fit(x, y, sample_weight=sw, epochs=2, batch_size=3, shuffle=False, verbose=0).history
    for key, values in ref["fit"].items():
        np.testing.assert_allclose(history[key], values, rtol=1e-5, err_msg=key)
    for got, want in zip(model.get_weights(), ref["weights"]):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)
