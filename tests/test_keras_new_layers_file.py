"""A Keras 3 .keras file using this session's layers (Rescaling, adapted Normalization, GroupNormalization,
RMSNormalization, UnitNormalization, Identity, hard_silu) compiled with Lion on a PolynomialDecay schedule, saved
with its optimizer state after training (tests/data/gen/make_keras_new_layers_file.py): kcore loads it, predicts what
Keras predicted, restores the optimizer (Keras keeps a schedule out of the saved variables) and trains on."""
import os

import numpy as np

import kcore

DATA = os.path.join(os.path.dirname(__file__), "data")


def test_keras_file_with_new_layers_and_a_scheduled_lion_loads(tmp_path):
    io = np.load(os.path.join(DATA, "keras3_new_layers_io.npz"))
    model = kcore.models.load_model(os.path.join(DATA, "keras3_new_layers.keras"))
    np.testing.assert_allclose(model.predict(io["x"], verbose=0), io["pred"], rtol=1e-5, atol=1e-6)
    optimizer = model.optimizer
    assert type(optimizer).__name__ == "Lion" and optimizer.iterations == int(io["iterations"])
    assert isinstance(optimizer._learning_rate, kcore.optimizers.schedules.PolynomialDecay)
    assert len(optimizer.variables) == 1 + len(model.trainable_weights)  # iterations, then one momentum each
    model.fit(io["x"], io["y"], epochs=1, verbose=0)
    model.save(tmp_path / "again.keras")
    again = kcore.models.load_model(tmp_path / "again.keras")
    np.testing.assert_allclose(again.predict(io["x"], verbose=0), model.predict(io["x"], verbose=0), rtol=1e-6)
    for a, b in zip(again.optimizer.variables, optimizer.variables):
        np.testing.assert_array_equal(a, b)
