"""Callbacks driven by real fit() runs on tiny Dense models.

The scripted EarlyStopping and ReduceLROnPlateau sequences below were also run through Keras 3.15.1
(same callbacks, same scripted log values): stopped epochs, best values and logged learning rates
were identical. CSVLogger output matches Keras's byte format (csv excel dialect, \r\n, float reprs);
unlike Keras 3, no "val_*" columns filled with NA are added when fit has no validation data.
"""
import csv
import io
import math
import os
from contextlib import redirect_stdout

import numpy as np
import pytest

import kcore
from kcore import callbacks, layers, optimizers


def _data(n=32, seed=0):
    r = np.random.default_rng(seed)
    x = r.normal(size=(n, 3)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5]], np.float32) + 0.1).astype(np.float32)
    return x, y


def _model(lr=0.01, metrics=None):
    model = kcore.Sequential([layers.Dense(1, input_shape=(3,))])
    model.compile(optimizer=optimizers.SGD(lr), loss="mse", metrics=metrics)
    return model


class ScriptedLog(callbacks.Callback):
    """Overwrites one log entry with a scripted value per epoch (placed before the callback under test)."""

    def __init__(self, key, values):
        super().__init__()
        self.key, self.values = key, list(values)

    def on_epoch_end(self, epoch, logs=None):
        logs[self.key] = self.values[epoch]


class WeightRecorder(callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(self.model.get_weights())


def _fit(model, cbs, epochs, **kwargs):
    x, y = _data()
    return model.fit(x, y, epochs=epochs, batch_size=16, verbose=0, callbacks=cbs, shuffle=False, **kwargs)


# -- Callback base / LambdaCallback --------------------------------------------------------------------------
def test_lambda_callback_hooks_run_in_order():
    events = []
    cb = callbacks.LambdaCallback(
        on_train_begin=lambda logs: events.append("train_begin"),
        on_epoch_begin=lambda epoch, logs: events.append(f"epoch_begin {epoch}"),
        on_batch_begin=lambda batch, logs: events.append(f"batch_begin {batch}"),
        on_batch_end=lambda batch, logs: events.append(f"batch_end {batch} {sorted(logs)}"),
        on_epoch_end=lambda epoch, logs: events.append(f"epoch_end {epoch} {sorted(logs)}"),
        on_train_end=lambda logs: events.append("train_end"))
    _fit(_model(), [cb], epochs=2)
    epoch = ["batch_begin 0", "batch_end 0 ['loss']", "batch_begin 1", "batch_end 1 ['loss']"]
    assert events == ["train_begin", "epoch_begin 0", *epoch, "epoch_end 0 ['loss']",
                      "epoch_begin 1", *epoch, "epoch_end 1 ['loss']", "train_end"]
    with pytest.raises(ValueError, match="unknown hook 'on_epoch_finish'"):
        callbacks.LambdaCallback(on_epoch_finish=print)


# -- EarlyStopping -------------------------------------------------------------------------------------------
def _stopping_run(values, epochs=None, **kwargs):
    model = _model()
    stopper = callbacks.EarlyStopping(monitor="score", **kwargs)
    history = _fit(model, [ScriptedLog("score", values), stopper], epochs=epochs or len(values))
    return history, stopper, model


def test_early_stopping_patience_counts_epochs_without_improvement():
    history, stopper, _ = _stopping_run([5, 4, 4.5, 4.2, 3.0, 3.5], mode="min", patience=2)
    assert history.epoch == [0, 1, 2, 3]  # best 4 at epoch 1; epochs 2 and 3 do not improve
    assert stopper.stopped_epoch == 3 and stopper.best == 4


def test_early_stopping_patience_zero_stops_at_first_non_improvement():
    history, stopper, _ = _stopping_run([3, 2, 2, 1], mode="min")
    assert history.epoch == [0, 1, 2]  # an equal value is not an improvement


def test_early_stopping_min_delta_and_max_mode():
    # improvements must exceed min_delta: 0.6 -> 0.65 and 0.68 are too small, so epochs 2 and 3 wait
    history, stopper, _ = _stopping_run([0.4, 0.6, 0.65, 0.68, 0.9], mode="max", min_delta=0.1, patience=2)
    assert history.epoch == [0, 1, 2, 3] and stopper.best == 0.6


def test_early_stopping_auto_mode_uses_metric_direction():
    x, y = _data()
    model = _model(metrics=["mae"])
    stopper = callbacks.EarlyStopping(monitor="mae", patience=1)
    model.fit(x, y, epochs=2, verbose=0, callbacks=[stopper])
    assert stopper._direction == "down"
    up = callbacks.EarlyStopping(monitor="val_accuracy")
    up.set_model(_model())  # not among the compiled metrics: the known metric name decides
    assert up._resolve_direction() == "up"
    unknown = callbacks.EarlyStopping(monitor="score")
    with pytest.raises(ValueError, match="mode='max'"):
        _fit(_model(), [ScriptedLog("score", [1, 2]), unknown], epochs=2)


def test_early_stopping_baseline_must_be_beaten():
    # improving epochs that stay above the baseline keep counting towards patience
    history, stopper, _ = _stopping_run([3, 2.5, 2.6, 2.7, 0.5], mode="min", baseline=1.0, patience=2)
    assert history.epoch == [0, 1, 2]
    history, stopper, _ = _stopping_run([3, 2.5, 2.6, 2.7, 0.5], mode="min", patience=2)
    assert history.epoch == [0, 1, 2, 3]
    history, _, _ = _stopping_run([3, 0.9, 0.8, 0.85, 0.87, 0.7], mode="min", baseline=1.0, patience=2)
    assert history.epoch == [0, 1, 2, 3, 4]


def test_early_stopping_start_from_epoch_ignores_warmup():
    history, stopper, _ = _stopping_run([1, 2, 3, 4, 5, 3], mode="min", start_from_epoch=3)
    assert history.epoch == [0, 1, 2, 3, 4] and stopper.best == 4
    history, _, _ = _stopping_run([1, 2, 3, 4, 5, 3], mode="min")
    assert history.epoch == [0, 1]


def test_early_stopping_restores_best_weights_exactly():
    recorder = WeightRecorder()
    model = _model(lr=0.05)
    stopper = callbacks.EarlyStopping(monitor="score", mode="min", patience=2, restore_best_weights=True, verbose=1)
    out = io.StringIO()
    with redirect_stdout(out):
        _fit(model, [ScriptedLog("score", [3, 1, 2, 2.5, 0]), recorder, stopper], epochs=5)
    assert len(recorder.weights) == 4  # stopped at epoch index 3
    for got, best in zip(model.get_weights(), recorder.weights[1]):
        np.testing.assert_array_equal(got, best)
    assert not np.array_equal(recorder.weights[1][0], recorder.weights[3][0])
    assert out.getvalue().splitlines() == ["Epoch 4: early stopping",
                                           "Restoring model weights from the end of the best epoch: 2."]


def test_early_stopping_on_val_loss_of_a_real_run():
    x, y = _data()
    model = _model(lr=0.3)  # far too large a rate: the validation loss explodes from the start
    stopper = callbacks.EarlyStopping(patience=1)
    history = model.fit(x[:24], y[:24], epochs=20, batch_size=4, verbose=0, validation_data=(x[24:], y[24:]),
                        callbacks=[stopper])
    losses = history.history["val_loss"]
    best = int(np.argmin(losses))
    assert len(losses) == best + 2 < 20  # one epoch of patience after the best one


# -- ReduceLROnPlateau / LearningRateScheduler ---------------------------------------------------------------
def test_reduce_lr_on_plateau_factor_patience_cooldown_min_lr():
    model = _model(lr=1.0)
    reducer = callbacks.ReduceLROnPlateau(monitor="score", mode="min", factor=0.5, patience=2, cooldown=1,
                                          min_lr=0.2, min_delta=0)
    history = _fit(model, [ScriptedLog("score", [1, 1, 1, 1, 1, 1, 1, 1, 1]), reducer], epochs=9)
    # The logged rate is the one used during the epoch. Epoch 0 sets best; 1, 2 wait -> 0.5 after epoch 2.
    # Epoch 3 ends the cooldown and waits again (Keras counts it), 4 waits -> 0.25; 5 ends cooldown, 6 waits
    # -> 0.125 is below min_lr, so 0.2; 7, 8 wait but the rate is already min_lr.
    assert history.history["learning_rate"] == pytest.approx([1, 1, 1, 0.5, 0.5, 0.25, 0.25, 0.2, 0.2])
    assert model.optimizer.learning_rate == pytest.approx(0.2)
    assert list(history.history) == ["loss", "score", "learning_rate"]


def test_reduce_lr_improvement_resets_wait_and_bad_factor():
    model = _model(lr=1.0)
    reducer = callbacks.ReduceLROnPlateau(monitor="score", mode="max", factor=0.1, patience=2)
    history = _fit(model, [ScriptedLog("score", [1, 1, 2, 2, 3, 3, 3]), reducer], epochs=7)
    assert history.history["learning_rate"] == pytest.approx([1] * 7)
    assert model.optimizer.learning_rate == pytest.approx(0.1)  # reduced at the end of the last epoch
    with pytest.raises(ValueError, match="factor >= 1.0"):
        callbacks.ReduceLROnPlateau(factor=1.5)


def test_learning_rate_scheduler_two_argument_and_one_argument_schedules():
    model = _model(lr=0.1)
    seen = []

    def halve_after_first(epoch, lr):
        seen.append((epoch, lr))
        return lr if epoch == 0 else lr * 0.5

    history = _fit(model, [callbacks.LearningRateScheduler(halve_after_first)], epochs=3)
    assert seen == [(0, pytest.approx(0.1)), (1, pytest.approx(0.1)), (2, pytest.approx(0.05))]
    assert history.history["learning_rate"] == pytest.approx([0.1, 0.05, 0.025])
    assert model.optimizer.learning_rate == pytest.approx(0.025)

    model = _model()
    out = io.StringIO()
    with redirect_stdout(out):
        history = _fit(model, [callbacks.LearningRateScheduler(lambda epoch: 0.1 / (epoch + 1), verbose=1)],
                       epochs=2)
    assert history.history["learning_rate"] == pytest.approx([0.1, 0.05])
    assert "Epoch 2: LearningRateScheduler setting learning rate to 0.05." in out.getvalue()


def test_learning_rate_scheduler_changes_the_update_size():
    x, y = _data()
    frozen = _model(lr=0.1)
    before = frozen.get_weights()
    frozen.fit(x, y, epochs=1, verbose=0, callbacks=[callbacks.LearningRateScheduler(lambda e: 0.0)])
    for a, b in zip(before, frozen.get_weights()):
        np.testing.assert_array_equal(a, b)  # a zero rate leaves the weights untouched
    with pytest.raises(ValueError, match="should be a float"):
        _fit(_model(), [callbacks.LearningRateScheduler(lambda e: "fast")], epochs=1)


# -- CSVLogger -----------------------------------------------------------------------------------------------
def test_csv_logger_header_rows_and_append(tmp_path):
    path = tmp_path / "log.csv"
    x, y = _data()
    model = _model(metrics=["mae"])
    history = model.fit(x, y, epochs=2, batch_size=16, verbose=0, validation_data=(x, y),
                        callbacks=[callbacks.CSVLogger(path)])
    rows = list(csv.reader(open(path, newline="")))
    assert rows[0] == ["epoch", "loss", "mae", "val_loss", "val_mae"]
    assert [r[0] for r in rows[1:]] == ["0", "1"]
    for row, epoch in zip(rows[1:], range(2)):
        assert float(row[1]) == pytest.approx(history.history["loss"][epoch], rel=1e-12)
        assert float(row[4]) == pytest.approx(history.history["val_mae"][epoch], rel=1e-12)

    model.fit(x, y, epochs=1, verbose=0, validation_data=(x, y), callbacks=[callbacks.CSVLogger(path, append=True)])
    rows = list(csv.reader(open(path, newline="")))
    assert len(rows) == 4 and rows[3][0] == "0"  # appended, no second header

    model.fit(x, y, epochs=1, verbose=0, callbacks=[callbacks.CSVLogger(path, separator=";")])
    lines = open(path).read().splitlines()
    assert lines[0] == "epoch;loss;mae" and len(lines) == 2  # overwritten


def test_csv_logger_writes_na_for_missing_keys(tmp_path):
    path = tmp_path / "log.csv"
    x, y = _data()
    _model().fit(x, y, epochs=2, verbose=0, validation_data=(x, y), validation_freq=2,
                 callbacks=[callbacks.CSVLogger(path)])
    rows = list(csv.reader(open(path, newline="")))
    assert rows[0] == ["epoch", "loss"]  # columns come from the first epoch's logs
    assert len(rows) == 3


# -- TerminateOnNaN ------------------------------------------------------------------------------------------
def test_terminate_on_nan_stops_on_first_bad_batch():
    x, y = _data()
    y[20] = np.nan  # second batch of 16 has a NaN target
    batches = []
    model = _model()
    out = io.StringIO()
    with redirect_stdout(out), pytest.warns(RuntimeWarning, match="NaN"):
        history = model.fit(x, y, epochs=3, batch_size=16, verbose=0, shuffle=False,
                            callbacks=[callbacks.TerminateOnNaN(),
                                       callbacks.LambdaCallback(on_batch_end=lambda b, logs: batches.append(b))])
    assert batches == [0, 1] and history.epoch == [0]
    assert out.getvalue().strip() == "Batch 1: Invalid loss, terminating training"
    with pytest.raises(RuntimeError, match="NaN or Inf"), pytest.warns(RuntimeWarning, match="NaN"):
        model.fit(x, y, epochs=1, batch_size=16, verbose=0, shuffle=False,
                  callbacks=[callbacks.TerminateOnNaN(raise_error=True)])


# -- ModelCheckpoint -----------------------------------------------------------------------------------------
def test_model_checkpoint_suffix_rules():
    with pytest.raises(ValueError, match=r"must end in `\.weights\.h5`"):
        callbacks.ModelCheckpoint("w.h5", save_weights_only=True)
    with pytest.raises(ValueError, match=r"must end in `\.keras`"):
        callbacks.ModelCheckpoint("model.ckpt")
    with pytest.raises(ValueError, match="save_freq"):
        callbacks.ModelCheckpoint("m.keras", save_freq="batch")
    callbacks.ModelCheckpoint("m.h5")
    callbacks.ModelCheckpoint("m.weights.h5", save_weights_only=True)


def test_model_checkpoint_bad_format_field(tmp_path):
    cb = callbacks.ModelCheckpoint(str(tmp_path / "m-{val_acc:.2f}.keras"))
    with pytest.raises(KeyError, match="Failed to format this callback filepath"):
        _fit(_model(), [cb], epochs=1)


def _saving():
    return pytest.importorskip("kcore.saving")


def test_model_checkpoint_formats_paths_every_epoch(tmp_path):
    _saving()
    pattern = str(tmp_path / "ckpt" / "w.{epoch:02d}-{loss:.3f}.weights.h5")
    model = _model()
    history = _fit(model, [callbacks.ModelCheckpoint(pattern, monitor="loss", save_weights_only=True)], epochs=3)
    expected = sorted(f"w.{e + 1:02d}-{loss:.3f}.weights.h5" for e, loss in enumerate(history.history["loss"]))
    assert sorted(os.listdir(tmp_path / "ckpt")) == expected
    restored = _model()
    restored.load_weights(str(tmp_path / "ckpt" / expected[-1]))
    for a, b in zip(restored.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_model_checkpoint_save_best_only_keeps_best_full_model(tmp_path):
    saving = _saving()
    path = str(tmp_path / "best.keras")
    model = _model()
    recorder = WeightRecorder()
    cb = callbacks.ModelCheckpoint(path, monitor="score", mode="min", save_best_only=True, verbose=1)
    out = io.StringIO()
    with redirect_stdout(out):
        _fit(model, [ScriptedLog("score", [3, 1, 2, 0.5, 4]), recorder, cb], epochs=5)
    text = out.getvalue()
    assert "Epoch 1: score improved from inf to 3.00000, saving model to" in text
    assert "Epoch 3: score did not improve from 1.00000" in text
    assert "Epoch 4: score improved from 1.00000 to 0.50000" in text
    loaded = saving.load_model(path)
    for a, b in zip(loaded.get_weights(), recorder.weights[3]):
        np.testing.assert_array_equal(a, b)


def test_model_checkpoint_every_n_batches(tmp_path):
    _saving()
    pattern = str(tmp_path / "m-{epoch}-{batch}.weights.h5")
    _fit(_model(), [callbacks.ModelCheckpoint(pattern, save_weights_only=True, save_freq=3)], epochs=3)
    # 2 batches per epoch, a save every 3rd batch: epoch 2 batch 1, epoch 3 batch 2
    assert sorted(os.listdir(tmp_path)) == ["m-2-1.weights.h5", "m-3-2.weights.h5"]


def test_history_order_with_lr_callbacks():
    x, y = _data()
    model = _model(metrics=["mae"])
    history = model.fit(x, y, epochs=1, verbose=0, validation_data=(x, y),
                        callbacks=[callbacks.ReduceLROnPlateau(patience=1)])
    assert list(history.history) == ["loss", "mae", "val_loss", "val_mae", "learning_rate"]
    assert math.isclose(history.history["learning_rate"][0], 0.01, rel_tol=1e-7)  # a float32 rate, as Keras logs it


def test_early_stopping_restores_best_weights_even_without_stopping():
    recorder = WeightRecorder()
    model = _model(lr=0.05)
    stopper = callbacks.EarlyStopping(monitor="score", mode="max", patience=5, restore_best_weights=True)
    _fit(model, [ScriptedLog("score", [1, 3, 2]), recorder, stopper], epochs=3)
    assert stopper.stopped_epoch == 0 and stopper.best_epoch == 1
    for got, best in zip(model.get_weights(), recorder.weights[1]):
        np.testing.assert_array_equal(got, best)


def test_model_checkpoint_initial_value_threshold(tmp_path):
    _saving()
    pattern = str(tmp_path / "m-{epoch}.weights.h5")
    cb = callbacks.ModelCheckpoint(pattern, monitor="score", mode="min", save_best_only=True,
                                   save_weights_only=True, initial_value_threshold=2.0)
    _fit(_model(), [ScriptedLog("score", [3, 2.5, 1.5, 1.8, 1.0]), cb], epochs=5)
    assert sorted(os.listdir(tmp_path)) == ["m-3.weights.h5", "m-5.weights.h5"]
