"""Keras 3 .keras files saved mid-training with each optimizer setup (tests/data/keras3_optimizer_files, made by
tests/data/gen/make_keras_optimizer_files.py): kcore reads the optimizer state in Keras's layout (slot groups,
EMA averages, gradient accumulators, no learning-rate entry for a schedule, Nadam's momentum product), holds exactly
Keras's values, and one more batch lands on Keras's weights."""
import json
import os

import numpy as np
import pytest

import kcore

DATA = os.path.join(os.path.dirname(__file__), "data", "keras3_optimizer_files")
SETUPS = json.load(open(os.path.join(DATA, "setups.json")))


@pytest.mark.parametrize("name", sorted(SETUPS))
def test_keras_optimizer_state_loads_and_training_continues_like_keras(name, tmp_path):
    ref = np.load(os.path.join(DATA, f"{name}.npz"))
    model = kcore.models.load_model(os.path.join(DATA, f"{name}.keras"))
    state = model.optimizer.variables
    assert len(state) == int(ref["n_state"])
    for i, value in enumerate(state):
        np.testing.assert_allclose(np.asarray(value, np.float64), ref[f"state{i}"], rtol=1e-6, atol=1e-7)
    model.save(tmp_path / "again.keras")  # kcore writes the same layout back
    again = kcore.models.load_model(tmp_path / "again.keras")
    for a, b in zip(again.optimizer.variables, state):
        np.testing.assert_array_equal(a, b)
    model.train_on_batch(ref["x"][20:], ref["y"][20:])
    for i, w in enumerate(model.get_weights()):
        np.testing.assert_allclose(w, ref[f"after{i}"], rtol=1e-5, atol=1e-6)
