"""Every Keras 3 learning-rate schedule against real Keras (tests/data/keras3_schedules.json, made by
tests/data/gen/make_keras_schedules_reference.py): rates at many steps, configs, and an optimizer config holding a
schedule, which must round trip (also through a saved model)."""
import json
import os

import numpy as np
import pytest

import kcore
from kcore.optimizers import schedules

REF = json.load(open(os.path.join(os.path.dirname(__file__), "data", "keras3_schedules.json")))


@pytest.mark.parametrize("name", sorted(REF["cases"]))
def test_schedule_rates_and_config_match_keras(name):
    case = REF["cases"][name]
    schedule = getattr(schedules, case["class"])(**case["kwargs"])
    np.testing.assert_allclose([schedule(step) for step in REF["steps"]], case["rates"], rtol=2e-6, atol=1e-9)
    assert schedule.get_config() == case["config"]
    again = schedules.deserialize(schedules.serialize(schedule))
    assert type(again) is type(schedule) and again.get_config() == case["config"]


def test_optimizer_config_with_a_schedule_matches_keras_and_round_trips(tmp_path):
    adam = kcore.optimizers.Adam(schedules.PolynomialDecay(0.1, 20))
    config = adam.get_config()
    assert config["learning_rate"] == REF["adam_config"]["learning_rate"]
    rebuilt = kcore.optimizers.Adam.from_config(REF["adam_config"])
    assert isinstance(rebuilt._learning_rate, schedules.PolynomialDecay) and rebuilt.learning_rate == 0.1
    model = kcore.Sequential([kcore.Input((3,)), kcore.layers.Dense(1)])
    model.compile(optimizer=adam, loss="mse")
    model.fit(np.ones((8, 3), np.float32), np.ones((8, 1), np.float32), epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = kcore.models.load_model(tmp_path / "m.keras")
    assert isinstance(loaded.optimizer._learning_rate, schedules.PolynomialDecay)
    assert loaded.optimizer.learning_rate == pytest.approx(adam.learning_rate)


def test_schedule_errors():
    with pytest.raises(ValueError, match="decay_steps` must be a number > 0"):
        schedules.PolynomialDecay(0.1, 0)
    with pytest.raises(ValueError, match="first_decay_steps` must be a number > 0"):
        schedules.CosineDecayRestarts(0.1, -1)
    with pytest.raises(ValueError, match="Unknown learning rate schedule: 'NoSuchDecay'"):
        schedules.deserialize({"class_name": "NoSuchDecay", "config": {}})
    with pytest.raises(ValueError, match="Could not interpret learning rate schedule"):
        schedules.deserialize("ExponentialDecay")
    # configs from a file: every bad value is a clear error when loading, none waits for the first step
    bad = [{"initial_learning_rate": "x", "decay_steps": 10, "decay_rate": 0.5},
           {"initial_learning_rate": 0.1, "decay_steps": "10", "decay_rate": 0.5},
           {"initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": None},
           {"initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.5, "bogus": 1}, None]
    for config in bad:
        with pytest.raises(ValueError, match="ExponentialDecay"):
            schedules.deserialize({"class_name": "ExponentialDecay", "config": config})
    with pytest.raises(ValueError, match="PolynomialDecay.*`power` must be a number"):
        kcore.optimizers.Adam.from_config({"learning_rate": {"class_name": "PolynomialDecay", "config": {
            "initial_learning_rate": 0.1, "decay_steps": 10, "power": "2"}}})
