"""Bidirectional over ConvLSTM1D/2D/3D against real Keras 3 (tests/data/gen/make_keras_bidir_conv_reference.py):
outputs, gradients, masks, merge modes, states, one SGD step, config and .keras round trips."""
import os
import sys

import numpy as np
import pytest

import kcore
from kcore import layers as L
from kcore import ops
from kcore.backend.autodiff import GradientTape
from kcore.backend.tensor import convert_to_tensor

sys.path.insert(0, os.path.dirname(__file__))
from bidir_conv_cases import bidir_conv_cases, bidir_conv_model  # noqa: E402
from issue13_cases import series as _series  # noqa: E402

DATA = os.path.join(os.path.dirname(__file__), "data")
CASES = bidir_conv_cases(L)


@pytest.fixture(scope="module")
def ref():
    return dict(np.load(os.path.join(DATA, "keras3_bidir_conv_reference.npz")))


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_keras_outputs_and_gradients(ref, name):
    make, _, _ = CASES[name]
    layer = make()
    x = convert_to_tensor(ref[f"{name}|x"])
    x.requires_grad = True
    mask = ref.get(f"{name}|m")
    layer(x, mask=mask)
    layer.set_weights(_series(ref, f"{name}|w"))
    with GradientTape() as tape:
        res = layer(x, mask=mask)
        flat = list(res) if isinstance(res, (list, tuple)) else [res]
        loss = ops.sum(ops.stack([ops.sum(ops.multiply(t, r)) for t, r in zip(flat, _series(ref, f"{name}|r"))]))
    grads = tape.gradient(loss, layer.trainable_weights + [x])
    want = _series(ref, f"{name}|o")
    assert len(flat) == len(want)
    for got, w in zip(flat, want):
        np.testing.assert_allclose(got.numpy(), w, atol=2e-5, rtol=1e-4, err_msg=name)
    wgrads = _series(ref, f"{name}|g")
    assert len(grads) == len(wgrads)
    for got, w in zip(grads, wgrads):
        np.testing.assert_allclose(got.numpy(), w, atol=5e-5, rtol=1e-4, err_msg=name)


def test_weights_are_forward_then_backward_and_shapes_are_keras():
    layer = L.Bidirectional(L.ConvLSTM2D(2, (2, 3), return_state=True), merge_mode="concat")
    outs = layer(np.zeros((2, 3, 4, 5, 1), np.float32))
    assert [tuple(t.shape) for t in outs] == [(2, 3, 3, 4)] + [(2, 3, 3, 2)] * 4
    assert layer.compute_output_shape((2, 3, 4, 5, 1)) == [(2, 3, 3, 4)] + [(2, 3, 3, 2)] * 4
    paths = [w.path for w in layer.weights]
    fw, bw = layer.forward_layer.name, layer.backward_layer.name
    assert fw.startswith("forward_") and bw.startswith("backward_") and layer.backward_layer.go_backwards
    names = ("kernel", "recurrent_kernel", "bias")
    assert [p.split("/")[-3:] for p in paths] == [[fw, "conv_lstm_cell", n] for n in names] + \
        [[bw, "conv_lstm_cell", n] for n in names]


def test_bad_rank_names_the_layer_and_the_shape():
    layer = L.Bidirectional(L.ConvLSTM2D(2, 3), name="bd")
    with pytest.raises(ValueError, match=r"'bd'.*expected ndim=5.*found ndim=4.*\(\w+, 3, 4, 1\)"):
        layer(np.zeros((2, 3, 4, 1), np.float32))
    with pytest.raises(ValueError, match="expected ndim=3"):
        L.Bidirectional(L.LSTM(2))(np.zeros((2, 3, 4, 1), np.float32))


def test_one_sgd_step_matches_keras(ref):
    model = bidir_conv_model(L, kcore)
    model.set_weights(_series(ref, "model|w"))
    model.compile(optimizer=kcore.optimizers.SGD(learning_rate=0.1), loss="mse")
    loss = model.train_on_batch(ref["model|x"], ref["model|y"])
    loss = loss[0] if isinstance(loss, (list, tuple)) else loss
    np.testing.assert_allclose(float(loss), ref["model|loss"], rtol=1e-5)
    for got, want in zip(model.get_weights(), _series(ref, "model|after")):
        np.testing.assert_allclose(got, want, atol=1e-5, rtol=1e-4)
    np.testing.assert_allclose(model.predict(ref["model|x"], verbose=0), ref["model|pred"], atol=1e-5, rtol=1e-4)


def test_loads_the_keras_written_model(ref):
    model = kcore.models.load_model(os.path.join(DATA, "keras3_bidir_conv.keras"))
    np.testing.assert_allclose(model.predict(ref["model|x"], verbose=0), ref["model|pred"], atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("name", sorted(CASES))
def test_config_round_trip(name):
    layer = CASES[name][0]()
    config = layer.get_config()
    again = L.Bidirectional.from_config(config)
    assert again.get_config() == config
    assert type(again.forward_layer) is type(layer.forward_layer) and again.backward_layer.go_backwards


def test_keras_file_round_trip(tmp_path, ref):
    model = bidir_conv_model(L, kcore)
    model.set_weights(_series(ref, "model|w"))
    model.save(tmp_path / "m.keras")
    again = kcore.models.load_model(tmp_path / "m.keras")
    x = ref["model|x"]
    np.testing.assert_array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))
    assert [w.path for w in again.weights] == [w.path for w in model.weights]


@pytest.mark.parametrize("name", ["kcore_bidir_conv", "kcore_bidir_conv1d"])
def test_kcore_written_file_predicts_as_in_keras(name):
    """Real Keras loaded these kcore-written files (tests/data/gen/check_kcore_bidir_conv_in_keras.py)."""
    io = np.load(os.path.join(DATA, "kcore_bidir_conv_keras_io.npz"))
    model = kcore.models.load_model(os.path.join(DATA, f"{name}.keras"))
    np.testing.assert_allclose(model.predict(io[f"{name}|x"], verbose=0), io[f"{name}|y"], atol=1e-5, rtol=1e-4)


def test_loads_tf_keras_h5_with_keras2_hard_sigmoid(tmp_path):
    """tf_keras's ConvLSTM defaults to recurrent_activation='hard_sigmoid', Keras 2's clip(0.2 x + 0.5, 0, 1)
    (fixture: tests/data/gen/make_keras2_bidir_conv_h5.py); kcore reads it as that formula and writes it back so."""
    path = os.path.join(DATA, "keras2", "bidir_conv.h5")
    io = np.load(os.path.join(DATA, "keras2", "bidir_conv_io.npz"))
    model = kcore.models.load_model(path)
    bidir = [layer for layer in model.layers if isinstance(layer, L.Bidirectional)]
    assert [b.forward_layer.recurrent_activation.__name__ for b in bidir] == ["hard_sigmoid_k2"] * 2
    np.testing.assert_allclose(model.predict(io["x"], verbose=0), io["y"], atol=1e-5, rtol=1e-4)
    model.save(tmp_path / "again.h5")
    import h5py

    with h5py.File(tmp_path / "again.h5") as f:
        text = f.attrs["model_config"]
    assert "hard_sigmoid_k2" not in text and '"recurrent_activation": "hard_sigmoid"' in text
    again = kcore.models.load_model(tmp_path / "again.h5")
    np.testing.assert_allclose(again.predict(io["x"], verbose=0), io["y"], atol=1e-5, rtol=1e-4)


def test_keras3_hard_sigmoid_refuses_the_keras2_format(tmp_path):
    model = kcore.Sequential([L.Input((3, 5, 1)), L.Bidirectional(L.ConvLSTM1D(2, 3, name="cl",
                                                                               recurrent_activation="hard_sigmoid"))])
    with pytest.raises(ValueError, match="ConvLSTM1D layer 'forward_cl'.*recurrent_activation.*'.keras'"):
        model.save(tmp_path / "m.h5")
    model.save(tmp_path / "m.keras")  # the Keras 3 format holds it
