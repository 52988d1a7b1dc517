"""Optimizer state in Keras 2 .h5 full-model files (kcore/saving/legacy_optimizer.py): kcore writes it in
tf.keras's `optimizer_weights` layout, tf_keras restores it (tests/data/gen/check_kcore_optimizer_h5_in_tf_keras.py
recorded its weights after two more steps) and kcore resumes from it identically."""
import pathlib
import warnings

import h5py
import numpy as np
import pytest

import kcore
from kcore import layers

DATA = pathlib.Path(__file__).parent / "data" / "keras2"
NAMES = ["Adam", "AdamW", "RMSprop", "SGD", "Adadelta", "Adamax", "Adagrad"]


def _resume(path, epochs=2):
    io = np.load(DATA / "kcore_opt_io.npz")
    model = kcore.models.load_model(path)
    model.fit(io["x"], io["y"], epochs=epochs, batch_size=10, shuffle=False, verbose=0)
    return model


@pytest.mark.parametrize("name", NAMES)
def test_tf_keras_resumes_kcore_optimizer_state(name):
    """tf_keras loaded the saved step count and slots: two more steps in kcore and in tf_keras agree."""
    ref = np.load(DATA / "kcore_opt_tf_keras.npz")
    assert int(ref[f"{name}|iterations"]) == 3
    model = _resume(DATA / f"kcore_opt_{name}.h5")
    assert model.optimizer.iterations == 5
    for i, got in enumerate(model.get_weights()):
        np.testing.assert_allclose(got, ref[f"{name}|w{i}"], rtol=1e-4, atol=2e-5, err_msg=name)


def _trained(optimizer, rng):
    model = kcore.Sequential([layers.Input((4,)), layers.Dense(3, activation="tanh"), layers.Dense(2)])
    model.compile(optimizer=optimizer, loss="mse")
    x, y = rng.standard_normal((10, 4)).astype("float32"), rng.standard_normal((10, 2)).astype("float32")
    model.fit(x, y, epochs=3, batch_size=5, shuffle=False, verbose=0)
    return model, x, y


@pytest.mark.parametrize("amsgrad", [False, True])
def test_kcore_round_trip_resumes_training_identically(tmp_path, rng, amsgrad):
    model, x, y = _trained(kcore.optimizers.Adam(0.01, amsgrad=amsgrad), rng)
    with pytest.warns(UserWarning, match="legacy"):
        model.save(tmp_path / "m.h5")
    with h5py.File(tmp_path / "m.h5", "r") as f:
        names = [n.decode() for n in f["optimizer_weights"].attrs["weight_names"]]
    # the classic tf.keras Adam's order: all m, all v (, all vhat)
    slots = ["m", "v"] + (["vhat"] if amsgrad else [])
    paths = [w.path for w in model.trainable_weights]
    assert names == ["iteration:0"] + [f"Adam/{s}/{p}:0" for s in slots for p in paths]
    again = kcore.models.load_model(tmp_path / "m.h5")
    assert again.optimizer.iterations == model.optimizer.iterations == 6
    for m in (model, again):
        m.fit(x, y, epochs=2, batch_size=5, shuffle=False, verbose=0)
    for a, b in zip(model.get_weights(), again.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_new_style_order_alternates_m_and_v(tmp_path, rng):
    model, _, _ = _trained(kcore.optimizers.AdamW(0.01, weight_decay=0.01, amsgrad=True), rng)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.save(tmp_path / "m.h5")
    with h5py.File(tmp_path / "m.h5", "r") as f:
        names = [n.decode() for n in f["optimizer_weights"].attrs["weight_names"]]
    paths = [w.path for w in model.trainable_weights]
    assert names == ["iteration:0"] + [f"AdamW/{s}/{p}:0" for p in paths for s in ("m", "v")] + \
        [f"AdamW/vhat/{p}:0" for p in paths]


def test_untrained_and_unwritable_states(tmp_path, rng):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fresh = kcore.Sequential([layers.Input((4,)), layers.Dense(2)])
        fresh.compile(optimizer="adam", loss="mse")
        fresh.save(tmp_path / "fresh.h5")
        nadam, _, _ = _trained(kcore.optimizers.Nadam(0.01), rng)  # its running product has no tf.keras slot
        nadam.save(tmp_path / "nadam.h5")
        bare, _, _ = _trained("sgd", rng)
        bare.save(tmp_path / "bare.h5", include_optimizer=False)
    with h5py.File(tmp_path / "fresh.h5", "r") as f:
        assert [n.decode() for n in f["optimizer_weights"].attrs["weight_names"]] == ["iteration:0"]
    assert kcore.models.load_model(tmp_path / "fresh.h5").optimizer.iterations == 0
    for name in ("nadam", "bare"):
        with h5py.File(tmp_path / f"{name}.h5", "r") as f:
            assert "optimizer_weights" not in f
    assert kcore.models.load_model(tmp_path / "nadam.h5").optimizer.iterations == 0


def test_hostile_optimizer_slot_is_refused(tmp_path, rng):
    model, _, _ = _trained(kcore.optimizers.SGD(0.01, momentum=0.9), rng)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.save(tmp_path / "m.h5")
    with h5py.File(tmp_path / "m.h5", "r+") as f:
        g = f["optimizer_weights"]
        name = [n.decode() for n in g.attrs["weight_names"]][1]
        del g[name]
        g.create_dataset(name, data=np.zeros((7, 7), np.float32))
    with pytest.raises(ValueError, match=r"m\.h5: optimizer slot for weight 'kernel' expects shape \(4, 3\)"):
        kcore.models.load_model(tmp_path / "m.h5")


def test_nadam_resumes_identically_from_its_restored_state(rng):
    """Nadam's running product of u_1..u_t is not a slot: set_state rebuilds it from the step count."""
    model, x, y = _trained(kcore.optimizers.Nadam(0.01), rng)
    other = kcore.Sequential([layers.Input((4,)), layers.Dense(3, activation="tanh"), layers.Dense(2)])
    other.set_weights(model.get_weights())
    other.compile(optimizer=kcore.optimizers.Nadam(0.01), loss="mse")
    other.optimizer.set_state(model.optimizer.variables, other.trainable_weights)
    for m in (model, other):
        m.fit(x, y, epochs=2, batch_size=5, shuffle=False, verbose=0)
    for a, b in zip(model.get_weights(), other.get_weights()):
        np.testing.assert_array_equal(a, b)
