"""Optimizer options as in Keras 3: use_ema (and its overwrite frequency, finalize at the end of fit),
exclude_from_weight_decay, zero-argument callable learning rates, optimizers.get, and the learning-rate callbacks
refusing to replace a LearningRateSchedule. Expected values written by real Keras 3.15
(tests/data/gen/gen_training_parity.py -> tests/data/keras3_training_parity.json)."""
import json
import os

import numpy as np
import pytest

import kcore
from kcore import layers, optimizers

REF = json.load(open(os.path.join(os.path.dirname(__file__), "data", "keras3_training_parity.json")))
OPT = REF["optimizers"]


def _arrays(values):
    return [np.asarray(v, dtype=np.float32) for v in values]


def _dense_model():
    inp = kcore.Input((4,))
    return kcore.Model(inp, layers.Dense(1, name="o")(layers.Dense(3, activation="tanh", name="h")(inp)))


@pytest.mark.parametrize("case, kwargs", [("ema", dict(use_ema=True, ema_momentum=0.9)),
                                          ("ema_overwrite", dict(use_ema=True, ema_momentum=0.8,
                                                                 ema_overwrite_frequency=2))])
def test_fit_with_ema_matches_keras(case, kwargs):
    ref = OPT[case]
    x, y = np.asarray(OPT["data"]["x"], np.float32), np.asarray(OPT["data"]["y"], np.float32)
    model = _dense_model()
    model.set_weights(_arrays(ref["initial"]))
    model.compile(optimizer=optimizers.SGD(0.1, **kwargs), loss="mse")
    history = model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    np.testing.assert_allclose(history.history["loss"], ref["loss"], rtol=1e-5)
    for got, want in zip(model.get_weights(), ref["final"]):  # the weights are the averages after fit
        np.testing.assert_allclose(got, np.asarray(want), rtol=1e-5, atol=1e-6)


def test_ema_on_a_variable_step_by_step_matches_keras():
    ref = OPT["ema_variable"]
    opt = optimizers.SGD(0.1, use_ema=True, ema_momentum=0.5, ema_overwrite_frequency=3)
    var = kcore.Variable(np.array([1.0, -2.0], dtype=np.float32))
    for g, want in zip(([1.0, 2.0], [0.5, -1.0], [2.0, 0.0], [-1.0, 1.0]), ref["steps"]):
        opt.apply([np.array(g, dtype=np.float32)], [var])
        np.testing.assert_allclose(var.numpy(), want, rtol=1e-6)
    opt.finalize_variable_values([var])
    np.testing.assert_allclose(var.numpy(), ref["final"], rtol=1e-6)
    assert opt.get_config()["use_ema"] is True and opt.get_config()["ema_overwrite_frequency"] == 3


def test_ema_argument_checks():
    with pytest.raises(ValueError, match="ema_momentum"):
        optimizers.Adam(use_ema=True, ema_momentum=1.5)
    with pytest.raises(ValueError, match="ema_overwrite_frequency"):
        optimizers.Adam(use_ema=True, ema_overwrite_frequency=0)
    opt = optimizers.SGD(use_ema=True)
    opt.apply([np.ones(2, np.float32)], [kcore.Variable(np.zeros(2, np.float32))])
    with pytest.raises(ValueError, match="not tracked"):
        opt.finalize_variable_values([kcore.Variable(np.zeros(2, np.float32))])


@pytest.mark.parametrize("case", ["var_names", "var_list"])
def test_exclude_from_weight_decay_matches_keras(case):
    ref = OPT[f"exclude_{case}"]
    layer = layers.Dense(3)
    layer.build((None, 4))
    layer.set_weights(_arrays(ref["initial"]))
    opt = optimizers.AdamW(learning_rate=0.1, weight_decay=0.5)
    if case == "var_names":
        opt.exclude_from_weight_decay(var_names=["bias"])
    else:
        opt.exclude_from_weight_decay(var_list=[layer.kernel])
    opt.apply(_arrays(ref["grads"]), layer.trainable_weights)
    for got, want in zip(layer.get_weights(), ref["final"]):
        np.testing.assert_allclose(got, np.asarray(want), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="before the optimizer is built"):
        opt.exclude_from_weight_decay(var_names=["kernel"])


def test_zero_argument_callable_learning_rate_matches_keras():
    ref = OPT["callable_lr"]
    opt = optimizers.SGD(learning_rate=lambda: 0.25)
    var = kcore.Variable(np.array([1.0, 2.0], dtype=np.float32))
    opt.apply([np.array([1.0, -1.0], dtype=np.float32)], [var])
    np.testing.assert_allclose(var.numpy(), ref["value"])
    assert opt.learning_rate == ref["learning_rate"]
    assert opt.get_config()["learning_rate"] == 0.25
    schedule = optimizers.schedules.ExponentialDecay(1.0, decay_steps=1, decay_rate=0.5)
    opt = optimizers.SGD(learning_rate=schedule)  # a schedule gets the step count
    opt.apply([np.zeros(2, np.float32)], [var])
    assert opt.learning_rate == 0.5


def test_optimizers_get_matches_keras():
    ref = OPT["get"]
    assert type(optimizers.get("adam")).__name__ == ref["string"]
    from_dict = optimizers.get({"class_name": "SGD", "config": {"learning_rate": 0.3}})
    assert type(from_dict).__name__ == ref["dict"][0]
    np.testing.assert_allclose(from_dict.learning_rate, ref["dict_lr"], rtol=1e-6)
    adam = optimizers.Adam()
    assert (optimizers.get(adam) is adam) == ref["instance_is_same"]
    assert ref["none_returns"] == "None" and optimizers.get(None) is None
    for key, value in (("unknown", "no_such_optimizer"), ("number", 3)):
        with pytest.raises(ValueError, match=ref[key]["message"]):
            optimizers.get(value)
    with pytest.raises(ValueError, match="optimizer"):
        kcore.Sequential([layers.Dense(1)]).compile(optimizer=None, loss="mse")


@pytest.mark.parametrize("name", ["reduce", "scheduler"])
def test_lr_callbacks_refuse_to_replace_a_schedule(name):
    ref = REF["lr_callbacks"][name]
    rng = np.random.default_rng(9)
    x, y = rng.standard_normal((8, 4)).astype(np.float32), rng.standard_normal((8, 1)).astype(np.float32)
    cb = (kcore.callbacks.ReduceLROnPlateau(monitor="loss", patience=0, factor=0.5) if name == "reduce"
          else kcore.callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5))
    model = _dense_model()
    schedule = optimizers.schedules.ExponentialDecay(1e-9, decay_steps=10, decay_rate=0.9)
    model.compile(optimizer=optimizers.SGD(schedule), loss="mse")
    assert ref["type"] == "TypeError"
    with pytest.raises(TypeError, match="LearningRateSchedule") as info:
        model.fit(x, y, epochs=3, verbose=0, callbacks=[cb])
    assert str(info.value) == ref["message"]
    assert model.optimizer._learning_rate is schedule
