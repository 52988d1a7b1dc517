"""Keras 3's optimizer options gradient_accumulation_steps, loss_scale_factor and use_ema, against real Keras 3:
tests/data/keras3_optimizer_options.npz (tests/data/gen/make_keras_optimizer_options.py) holds the weights after 7
fit batches, the iteration count and the number of optimizer variables; keras3_accumulating_adam.keras is a model
Keras saved with an accumulating, EMA-tracking AdamW's state."""
import json
import os

import numpy as np
import pytest

import kcore
from kcore import layers

DATA = os.path.join(os.path.dirname(__file__), "data")
REF = np.load(os.path.join(DATA, "keras3_optimizer_options.npz"))
CASES = json.loads(str(REF["cases"]))  # name: (optimizer class, arguments), as the generator ran them
EMBEDDING_CASES = json.loads(str(REF["embedding_cases"]))


def _model():
    model = kcore.Sequential([kcore.Input((4,)), layers.Dense(3, activation="tanh"), layers.Dense(2)])
    model.set_weights([REF[f"w0_{i}"] for i in range(4)])
    return model


@pytest.mark.parametrize("name", sorted(CASES))
def test_training_with_optimizer_options_matches_keras(name):
    cls, kwargs = CASES[name]
    model = _model()
    optimizer = getattr(kcore.optimizers, cls)(**kwargs)
    model.compile(optimizer=optimizer, loss="mse")
    model.fit(REF["x"], REF["y"], batch_size=4, epochs=1, shuffle=False, verbose=0)
    for i, w in enumerate(model.get_weights()):
        np.testing.assert_allclose(w, REF[f"{name}_w{i}"], rtol=1e-5, atol=1e-6)
    assert optimizer.iterations == int(REF[f"{name}_iterations"])
    if cls != "Nadam":  # Keras's Nadam also saves its running momentum product
        assert len(optimizer.variables) == int(REF[f"{name}_nvars"])


def test_accumulation_skips_updates_until_the_step_count():
    model = _model()
    model.compile(optimizer=kcore.optimizers.SGD(0.1, gradient_accumulation_steps=3), loss="mse")
    before = model.get_weights()
    model.train_on_batch(REF["x"][:4], REF["y"][:4])
    model.train_on_batch(REF["x"][4:8], REF["y"][4:8])
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)  # only accumulated so far
    model.train_on_batch(REF["x"][8:12], REF["y"][8:12])
    assert any(np.abs(a - b).max() > 0 for a, b in zip(before, model.get_weights()))
    assert model.optimizer.iterations == 1 and model.optimizer._iterations == 3


def test_keras_file_with_accumulator_and_average_state_loads():
    model = kcore.models.load_model(os.path.join(DATA, "keras3_accumulating_adam.keras"))
    optimizer = model.optimizer
    assert optimizer.gradient_accumulation_steps == 3 and optimizer.use_ema
    assert optimizer._iterations == 7 and optimizer.iterations == 2
    state = optimizer.variables
    assert len(state) == int(REF["adamw_accumulate_ema_nvars"])
    for i, value in enumerate(state):
        np.testing.assert_allclose(value, REF[f"adamw_accumulate_ema_var{i}"], rtol=1e-6, atol=1e-7)


def test_state_round_trips_through_a_keras_file(tmp_path):
    model = _model()
    model.compile(optimizer=kcore.optimizers.Adam(0.01, gradient_accumulation_steps=2, use_ema=True), loss="mse")
    model.fit(REF["x"][:12], REF["y"][:12], batch_size=4, verbose=0, shuffle=False)  # 3 calls: one pending
    model.save(tmp_path / "m.keras")
    loaded = kcore.models.load_model(tmp_path / "m.keras")
    for a, b in zip(loaded.optimizer.variables, model.optimizer.variables):
        np.testing.assert_array_equal(a, b)
    model.train_on_batch(REF["x"][12:16], REF["y"][12:16])
    loaded.train_on_batch(REF["x"][12:16], REF["y"][12:16])
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_option_configs_and_errors():
    opt = kcore.optimizers.Adam(gradient_accumulation_steps=4, loss_scale_factor=8.0)
    config = opt.get_config()
    assert config["gradient_accumulation_steps"] == 4 and config["loss_scale_factor"] == 8.0
    assert config["learning_rate"] == float(np.float32(0.001))  # Keras writes its float32 variable's value
    assert kcore.optimizers.Adam.from_config(config).get_config() == config
    with pytest.raises(ValueError, match="gradient_accumulation_steps` must be an integer >= 2"):
        kcore.optimizers.SGD(gradient_accumulation_steps=1)
    with pytest.raises(ValueError, match="loss_scale_factor` must be a positive finite number"):
        kcore.optimizers.SGD(loss_scale_factor=-2.0)
    assert float(kcore.optimizers.SGD(loss_scale_factor=4.0).scale_loss(kcore.convert_to_tensor(2.0))) == 8.0



@pytest.mark.parametrize("name", sorted(EMBEDDING_CASES))
def test_embedding_training_matches_keras_sparse_gradients(name):
    """Rows read several times per batch: Keras (TensorFlow) squares each read's gradient separately."""
    cls, kwargs = EMBEDDING_CASES[name]
    model = kcore.Sequential([kcore.Input((7,)), layers.Embedding(10, 4, mask_zero=True),
                              layers.GlobalAveragePooling1D(), layers.Dense(1, activation="sigmoid")])
    model.set_weights([REF[f"e0_{i}"] for i in range(3)])
    model.compile(optimizer=getattr(kcore.optimizers, cls)(**kwargs), loss="binary_crossentropy")
    model.fit(REF["tokens"], REF["labels"], batch_size=4, epochs=2, shuffle=False, verbose=0)
    for i, w in enumerate(model.get_weights()):
        np.testing.assert_allclose(w, REF[f"{name}_w{i}"], rtol=2e-5, atol=2e-6)


def test_row_gradient_from_tape_keeps_each_read():
    table = kcore.Variable(np.arange(8.0).reshape(4, 2), dtype="float32")
    with kcore.GradientTape() as tape:
        y = kcore.ops.sum(kcore.ops.multiply(kcore.ops.take(table, np.array([1, 1, 3])), np.array([[1.0], [-2.0],
                                                                                                  [3.0]])))
    g = tape.gradient(y, table)
    np.testing.assert_array_equal(np.asarray(g), [[0, 0], [-1, -1], [0, 0], [3, 3]])
    rows = g.row_gradient
    squares = rows.sum_over_reads(lambda t: kcore.backend.native._C.unary(kcore.backend.native.UnaryOp.square, t, 0))
    np.testing.assert_array_equal(np.asarray(kcore.Tensor(squares)), [[0, 0], [5, 5], [0, 0], [9, 9]])
    assert isinstance(g, kcore.backend.tensor.Tensor)


def test_callable_learning_rate_model_round_trips(tmp_path):
    """A callable rate is saved as its value in the config but kept out of the state (Keras's layout): the file
    still loads, with the slots restored."""
    model = _model()
    model.compile(optimizer=kcore.optimizers.SGD(learning_rate=lambda: 0.1, momentum=0.9), loss="mse")
    model.fit(REF["x"][:8], REF["y"][:8], batch_size=4, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = kcore.models.load_model(tmp_path / "m.keras")
    assert loaded.optimizer.iterations == 2
    saved, restored = model.optimizer.variables, loaded.optimizer.variables
    assert len(restored) == len(saved) + 1  # the loaded rate is a plain number, saved in the state again
    for a, b in zip(restored[2:], saved[1:]):  # the momenta
        np.testing.assert_array_equal(a, b)
