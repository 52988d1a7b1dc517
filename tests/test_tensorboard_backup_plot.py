"""TensorBoard event files, BackupAndRestore resuming a killed fit, plot_model diagrams."""
import os
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import kcore
from kcore import layers


def _data(n=96, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6)).astype("float32")
    y = (x[:, :3].sum(axis=1) > 0).astype("float32")[:, None]
    return x, y


def _mlp():
    model = kcore.Sequential([layers.Dense(8, activation="relu", input_shape=(6,)), layers.Dropout(0.3),
                              layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model


# -- TensorBoard ----------------------------------------------------------------------------------
def test_tensorboard_events_read_back_by_tensorboard(tmp_path):
    pytest.importorskip("tensorboardX")
    accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    x, y = _data()
    model = _mlp()
    tb = kcore.callbacks.TensorBoard(str(tmp_path), histogram_freq=1, update_freq=2)
    history = model.fit(x, y, epochs=3, batch_size=16, validation_split=0.25, verbose=0, callbacks=[tb])

    train = accumulator.EventAccumulator(str(tmp_path / "train"))
    train.Reload()
    tags = train.Tags()
    assert {"epoch_loss", "epoch_accuracy", "epoch_learning_rate", "batch_loss"} <= set(tags["scalars"])
    loss = train.Scalars("epoch_loss")
    assert [e.step for e in loss] == [0, 1, 2]
    np.testing.assert_allclose([e.value for e in loss], history.history["loss"], rtol=1e-6)
    np.testing.assert_allclose([e.value for e in train.Scalars("epoch_learning_rate")], [0.001] * 3, rtol=1e-6)
    assert [e.step for e in train.Scalars("batch_loss")] == [2, 4, 6, 8, 10, 12, 14]  # 72 / 16 -> 5 steps an epoch
    weight_paths = [w.path for w in model.weights]
    assert sorted(tags["histograms"]) == sorted(f"{p}/histogram" for p in weight_paths)
    graph = train.Graph()
    assert [n.name for n in graph.node] == [layer.name for layer in model.layers]
    assert list(graph.node[-1].input) == [model.layers[-2].name]
    assert "keras" in tags["tensors"]

    val = accumulator.EventAccumulator(str(tmp_path / "validation"))
    val.Reload()
    np.testing.assert_allclose([e.value for e in val.Scalars("epoch_loss")], history.history["val_loss"], rtol=1e-6)
    assert "evaluation_accuracy_vs_iterations" in val.Tags()["scalars"]


def test_tensorboard_bad_arguments():
    pytest.importorskip("tensorboardX")
    with pytest.raises(ValueError, match="update_freq"):
        kcore.callbacks.TensorBoard(update_freq="sometimes")
    with pytest.raises(ValueError, match="histogram_freq"):
        kcore.callbacks.TensorBoard(histogram_freq=-1)


# -- BackupAndRestore -----------------------------------------------------------------------------
_RUN = textwrap.dedent("""
    import os, sys
    import numpy as np
    import kcore
    from kcore import layers
    kcore.utils.set_random_seed(7)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(96, 6)).astype("float32")
    y = (x[:, :3].sum(axis=1) > 0).astype("float32")[:, None]
    model = kcore.Sequential([layers.Dense(8, activation="relu", input_shape=(6,)), layers.Dropout(0.3),
                              layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    kill_at = int(sys.argv[2])

    class Crash(kcore.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == kill_at:
                os._exit(3)  # as if the process were killed

    cbs = [kcore.callbacks.BackupAndRestore(sys.argv[1]), Crash()]
    history = model.fit(x, y, epochs=6, batch_size=16, shuffle=True, verbose=0, callbacks=cbs)
    print("EPOCHS", len(history.history["loss"]))
    np.save(sys.argv[3], np.concatenate([w.ravel() for w in model.get_weights()]))
""")


def _run(tmp_path, backup, kill_at, out):
    script = tmp_path / "run.py"
    script.write_text(_RUN)
    here = os.path.dirname(os.path.dirname(kcore.__file__))  # the kcore under test
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([here, os.environ.get("PYTHONPATH", "")]))
    return subprocess.run([sys.executable, str(script), str(backup), str(kill_at), str(out)],
                          capture_output=True, text=True, timeout=300, env=env)


def test_backup_and_restore_resumes_a_killed_fit(tmp_path):
    straight = _run(tmp_path, tmp_path / "b1", -1, tmp_path / "straight.npy")
    assert straight.returncode == 0, straight.stderr
    killed = _run(tmp_path, tmp_path / "b2", 2, tmp_path / "never.npy")
    assert killed.returncode == 3, killed.stderr
    assert (tmp_path / "b2" / "latest.weights.h5").exists()
    resumed = _run(tmp_path, tmp_path / "b2", -1, tmp_path / "resumed.npy")
    assert resumed.returncode == 0, resumed.stderr
    assert "EPOCHS 3" in resumed.stdout  # epochs 3, 4, 5 only
    np.testing.assert_array_equal(np.load(tmp_path / "resumed.npy"), np.load(tmp_path / "straight.npy"))
    assert not (tmp_path / "b2").exists()  # deleted once fit completed


def test_backup_and_restore_arguments():
    with pytest.raises(ValueError, match="backup_dir"):
        kcore.callbacks.BackupAndRestore("")
    with pytest.raises(ValueError, match="save_freq"):
        kcore.callbacks.BackupAndRestore("b", save_freq="often")


# -- plot_model -----------------------------------------------------------------------------------
def _models():
    seq = kcore.Sequential([layers.Dense(8, activation="relu", input_shape=(4,)), layers.Dense(2)])
    inp = kcore.Input((4,), name="features")
    a, b = layers.Dense(8, activation="relu")(inp), layers.Dense(8, activation="tanh")(inp)
    branching = kcore.Model(inp, layers.Dense(1)(layers.Concatenate()([a, b])))
    inner = kcore.Sequential([layers.Dense(3, input_shape=(8,)), layers.Dense(2)], name="head")
    inp2 = kcore.Input((4,))
    nested = kcore.Model(inp2, inner(layers.Dense(8)(inp2)))
    return {"sequential": seq, "branching": branching, "nested": nested}


@pytest.mark.parametrize("name", ["sequential", "branching", "nested"])
def test_plot_model_draws_png_and_svg(tmp_path, name):
    pytest.importorskip("pydot")
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed")
    model = _models()[name]
    png, svg = tmp_path / "m.png", tmp_path / "m.svg"
    kcore.utils.plot_model(model, str(png), show_shapes=True, show_layer_names=True, expand_nested=True, dpi=60)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    kcore.utils.plot_model(model, str(svg), show_layer_names=True)
    text = svg.read_text()
    for layer in model.layers:
        assert layer.name in text
    dot = kcore.utils.model_to_dot(model, expand_nested=True)
    assert len(dot.get_edges()) + len(dot.get_subgraphs()) >= len(model.layers) - 1


def test_plot_model_errors_name_what_is_missing(monkeypatch, tmp_path):
    model = _models()["sequential"]
    monkeypatch.setitem(sys.modules, "pydot", None)
    with pytest.raises(ImportError, match="pydot"):
        kcore.utils.plot_model(model, str(tmp_path / "m.png"))
    monkeypatch.undo()
    pytest.importorskip("pydot")
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(ImportError, match="Graphviz"):
        kcore.utils.plot_model(model, str(tmp_path / "m.png"))
    with pytest.raises(ValueError, match="rankdir"):
        kcore.utils.model_to_dot(model, rankdir="sideways")
