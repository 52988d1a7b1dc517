"""Training callbacks: the hooks fit/evaluate/predict call, History, ProgbarLogger and Keras's
EarlyStopping, ModelCheckpoint, ReduceLROnPlateau, LearningRateScheduler, CSVLogger,
TerminateOnNaN and LambdaCallback (Keras 3 semantics; learning rates are logged as "learning_rate").
"""
import collections.abc
import csv
import inspect
import math
import os
import warnings

import numpy as np

from kcore.utils.progbar import Progbar


class Callback:
    """Base of callbacks: hooks called by fit / evaluate / predict at the start and end of training, epochs and
    batches."""

    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_train_begin(self, logs=None): pass
    def on_train_end(self, logs=None): pass
    def on_epoch_begin(self, epoch, logs=None): pass
    def on_epoch_end(self, epoch, logs=None): pass
    def on_batch_begin(self, batch, logs=None): pass
    def on_batch_end(self, batch, logs=None): pass

    # Keras 2 names: training-batch hooks fall back to on_batch_begin / on_batch_end.
    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs)

    def on_test_begin(self, logs=None): pass
    def on_test_end(self, logs=None): pass
    def on_test_batch_begin(self, batch, logs=None): pass
    def on_test_batch_end(self, batch, logs=None): pass
    def on_predict_begin(self, logs=None): pass
    def on_predict_end(self, logs=None): pass
    def on_predict_batch_begin(self, batch, logs=None): pass
    def on_predict_batch_end(self, batch, logs=None): pass


class CallbackList:
    """Fans each hook out to every callback, in order."""

    def __init__(self, callbacks, model, params):
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            cb.set_model(model)
            cb.set_params(params)

    def __getattr__(self, hook):
        """The fan-out function of `hook`, built on first use; `.noop` is True when no callback implements the
        hook (fit then skips building the batch logs for it)."""
        if not hook.startswith("on_"):
            raise AttributeError(hook)
        callees = [getattr(cb, hook) for cb in self.callbacks if _implements(cb, hook)]

        def call(*args, **kwargs):
            for fn in callees:
                fn(*args, **kwargs)

        call.noop = not callees
        self.__dict__[hook] = call  # later lookups find it without __getattr__
        return call


# Training-batch hooks fall back to Keras 2's names (Callback.on_train_batch_begin calls on_batch_begin).
_FALLBACK_HOOKS = {"on_train_batch_begin": "on_batch_begin", "on_train_batch_end": "on_batch_end"}


def _implements(cb, hook):
    """Whether `cb` does something on `hook`: anything but a Callback that inherits the base class's no-op."""
    if not isinstance(cb, Callback):
        return True  # duck-typed: called as it is
    for name in (hook, _FALLBACK_HOOKS.get(hook)):
        if name and (name in vars(cb) or getattr(type(cb), name, None) is not getattr(Callback, name, None)):
            return True
    return False


class History(Callback):
    """Records the logs of each epoch; fit returns it (history.history maps each metric to its per-epoch values)."""

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)
        if self.model is not None:
            self.model.history = self


class ProgbarLogger(Callback):
    """Prints `Epoch i/n` and the progress bar (verbose 1) or one line per epoch (verbose 2)."""

    def __init__(self, count_mode="steps"):
        super().__init__()
        self._bar = None
        self._mode = "train"

    def _verbose(self):
        return self.params.get("verbose", 1)

    def on_train_begin(self, logs=None):
        self._mode = "train"

    def on_epoch_begin(self, epoch, logs=None):
        if self._verbose():
            print(f"Epoch {epoch + 1}/{self.params['epochs']}", flush=True)
        self._bar = Progbar(self.params.get("steps"), verbose=self._verbose())

    def on_train_batch_end(self, batch, logs=None):
        if self._bar is not None:
            self._bar.update(batch + 1, _loggable(logs), finalize=False)

    def on_epoch_end(self, epoch, logs=None):
        if self._bar is not None:
            self._bar.update(self.params.get("steps") or self._bar._seen, _loggable(logs), finalize=True)

    def on_test_begin(self, logs=None):
        if self.params.get("_in_fit"):
            return
        self._bar = Progbar(self.params.get("steps"), verbose=self._verbose())

    def on_test_batch_end(self, batch, logs=None):
        if not self.params.get("_in_fit") and self._bar is not None:
            self._bar.update(batch + 1, _loggable(logs), finalize=False)

    def on_test_end(self, logs=None):
        if not self.params.get("_in_fit") and self._bar is not None:
            self._bar.update(self.params.get("steps") or self._bar._seen, _loggable(logs), finalize=True)

    def on_predict_begin(self, logs=None):
        self._bar = Progbar(self.params.get("steps"), verbose=self._verbose())

    def on_predict_batch_end(self, batch, logs=None):
        self._bar.update(batch + 1, finalize=False)

    def on_predict_end(self, logs=None):
        self._bar.update(self.params.get("steps") or self._bar._seen, finalize=True)


def _loggable(logs):
    return {k: v for k, v in (logs or {}).items() if isinstance(v, (int, float))}


# -- monitoring a logged quantity --------------------------------------------------------------------------


class MonitorCallback(Callback):
    """Base of callbacks that watch one log entry and decide whether it improved.

    mode "min" / "max" fixes the direction; "auto" uses "min" for losses and otherwise asks the
    compiled metric of that name (accuracy, AUC, precision ... go up; errors go down), raising
    when the direction cannot be told.
    """

    def __init__(self, monitor="val_loss", mode="auto", baseline=None, min_delta=0.0):
        super().__init__()
        if mode not in ("auto", "min", "max"):
            warnings.warn(f"{type(self).__name__} mode {mode!r} is unknown, falling back to 'auto'", stacklevel=3)
            mode = "auto"
        self.monitor, self.mode, self.baseline = monitor, mode, baseline
        self.min_delta = abs(float(min_delta))
        self.best = baseline
        self._direction = None

    def _resolve_direction(self):
        if self._direction is None:
            self._direction = {"min": "down", "max": "up"}.get(self.mode) or _monitor_direction(self.model,
                                                                                               self.monitor)
            if self._direction is None:
                raise ValueError(f"{type(self).__name__} callback received monitor={self.monitor!r}, but the "
                                 f"direction of that metric cannot be told automatically. Pass mode='max' to "
                                 f"monitor the highest value or mode='min' for the lowest.")
        return self._direction

    def _is_improvement(self, value, reference):
        """Whether `value` beats `reference` by more than min_delta (a missing reference is always beaten)."""
        if reference is None:
            return True
        if self._resolve_direction() == "up":
            return value - self.min_delta > reference
        return value + self.min_delta < reference

    def _monitored_value(self, logs, what):
        value = (logs or {}).get(self.monitor)
        if value is None:
            warnings.warn(f"{what} conditioned on metric `{self.monitor}` which is not available. Available "
                          f"metrics are: {','.join(logs or {})}", stacklevel=3)
        return value


def _monitor_direction(model, monitor):
    """'down' for losses, the compiled (or known) metric's direction otherwise, None when unknown."""
    from kcore import metrics as metrics_module

    name = monitor[4:] if monitor.startswith("val_") else monitor
    if name == "loss" or name.endswith("_loss"):
        return "down"
    for target in getattr(model, "_targets", None) or []:
        for metric in target.metrics:
            if metric.name == name and getattr(metric, "_direction", None):
                return metric._direction
    try:
        return getattr(metrics_module.for_compile(name), "_direction", None)
    except ValueError:
        return None


class EarlyStopping(MonitorCallback):
    """Stops training once `monitor` has not improved for `patience` epochs.

    An epoch improves when the value beats the best so far by more than min_delta; with a baseline
    the waiting count only restarts once the baseline is beaten too. Epochs before start_from_epoch
    are ignored. restore_best_weights puts back the weights of the best epoch when training ends.
    """

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto", baseline=None,
                 restore_best_weights=False, start_from_epoch=0):
        super().__init__(monitor, mode, baseline=None, min_delta=min_delta)
        self.patience, self.verbose, self.baseline = int(patience), verbose, baseline
        self.restore_best_weights, self.start_from_epoch = restore_best_weights, int(start_from_epoch)
        self.wait = self.stopped_epoch = self.best_epoch = 0
        self.best_weights = None

    def on_train_begin(self, logs=None):
        self.wait = self.stopped_epoch = self.best_epoch = 0
        self.best, self.best_weights = None, None

    def on_epoch_end(self, epoch, logs=None):
        current = self._monitored_value(logs, "Early stopping")
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights, self.best_epoch = self.model.get_weights(), epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)


class SaveSchedule:
    """The `save_freq` rule of ModelCheckpoint and BackupAndRestore: "epoch", or every N training batches."""

    def __init__(self, save_freq, who):
        if save_freq != "epoch" and not (isinstance(save_freq, int) and not isinstance(save_freq, bool)
                                         and save_freq > 0):
            raise ValueError(f"{who}: invalid save_freq={save_freq!r}; expected 'epoch' or a positive integer "
                             "number of batches")
        self.per_epoch = save_freq == "epoch"
        self._every, self._seen = save_freq, 0

    def batch_done(self):
        """Counts a training batch; True when a batch-level save is due."""
        if self.per_epoch:
            return False
        self._seen += 1
        if self._seen < self._every:
            return False
        self._seen = 0
        return True

    def epoch_done(self):
        """Restarts the batch count at an epoch's end; True when saving every epoch."""
        self._seen = 0
        return self.per_epoch


class ModelCheckpoint(MonitorCallback):
    """Saves the model (or its weights) every epoch or every `save_freq` batches.

    filepath may hold format fields filled from the epoch (1-based), the batch (1-based, when
    saving by batches) and the logs, e.g. "ckpt/w.{epoch:02d}-{val_loss:.2f}.keras". Full models need
    a ".keras" (or legacy ".h5") suffix; save_weights_only=True needs ".weights.h5".
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False, save_weights_only=False,
                 mode="auto", save_freq="epoch", initial_value_threshold=None):
        super().__init__(monitor, mode, baseline=initial_value_threshold)
        self.filepath = os.fspath(filepath)
        self.verbose, self.save_best_only, self.save_weights_only = verbose, save_best_only, save_weights_only
        self._schedule = SaveSchedule(save_freq, "ModelCheckpoint")
        self.save_freq = save_freq
        _check_checkpoint_suffix(self.filepath, save_weights_only)
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self._schedule.batch_done():
            self._save(self._epoch, batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if self._schedule.per_epoch:  # batch-level counts run on across epochs, as in Keras
            self._save(epoch, None, logs)

    def _save(self, epoch, batch, logs):
        logs = dict(logs or {})
        path = self._file_path(epoch, batch, logs)
        if self.save_best_only:
            current = logs.get(self.monitor)
            if current is None:
                warnings.warn(f"Can save best model only with {self.monitor} available, skipping.", stacklevel=3)
                return
            if not self._is_improvement(current, self.best):
                if self.verbose > 0:
                    print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {_fmt_best(self.best)}")
                return
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {_fmt_best(self.best)} to "
                      f"{current:.5f}, saving model to {path}")
            self.best = current
        elif self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: saving model to {path}")
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)

    def _file_path(self, epoch, batch, logs):
        fields = {"epoch": epoch + 1, **logs}
        if batch is not None:
            fields["batch"] = batch + 1
        try:
            return self.filepath.format(**fields)
        except (KeyError, IndexError, ValueError) as e:
            raise KeyError(f'Failed to format this callback filepath: "{self.filepath}". Reason: {e!r}. '
                           f'Available fields: {sorted(fields)}') from e


def _check_checkpoint_suffix(filepath, weights_only):
    if weights_only and not filepath.endswith(".weights.h5"):
        raise ValueError("When using `save_weights_only=True` in `ModelCheckpoint`, the filepath provided must "
                         f"end in `.weights.h5` (Keras weights format). Received: filepath={filepath}")
    if not weights_only and not filepath.endswith((".keras", ".h5")):
        raise ValueError("The filepath provided must end in `.keras` (Keras model format) or `.h5` (legacy "
                         f"HDF5). Received: filepath={filepath}")


def _fmt_best(best):
    return "inf" if best is None else f"{best:.5f}"


class ReduceLROnPlateau(MonitorCallback):
    """Multiplies the learning rate by `factor` once `monitor` stalls for `patience` epochs.

    After a reduction, `cooldown` epochs pass before waiting starts again; the rate never goes
    below min_lr. The rate in use during the epoch is logged as "learning_rate".
    """

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto", min_delta=1e-4,
                 cooldown=0, min_lr=0.0, **kwargs):
        if "epsilon" in kwargs:  # Keras 2 name of min_delta
            min_delta = kwargs.pop("epsilon")
        if kwargs:
            raise ValueError(f"Unrecognized arguments for ReduceLROnPlateau: {sorted(kwargs)}")
        super().__init__(monitor, mode, min_delta=min_delta)
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau does not support a factor >= 1.0. Received factor={factor}")
        self.factor, self.patience, self.verbose = float(factor), int(patience), verbose
        self.cooldown, self.min_lr = int(cooldown), float(min_lr)
        self.wait = self.cooldown_counter = 0

    def on_train_begin(self, logs=None):
        self.best, self.wait, self.cooldown_counter = None, 0, 0

    def in_cooldown(self):
        return self.cooldown_counter > 0

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        logs["learning_rate"] = _learning_rate(self.model)
        current = self._monitored_value(logs, "Learning rate reduction")
        if current is None:
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self._is_improvement(current, self.best):
            self.best, self.wait = current, 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience and self._reduce(epoch):
                self.cooldown_counter, self.wait = self.cooldown, 0

    def _reduce(self, epoch):
        old = _learning_rate(self.model)
        if old <= np.float32(self.min_lr):
            return False
        new = max(old * self.factor, self.min_lr)
        self.model.optimizer.learning_rate = new
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new}.")
        return True


def _learning_rate(model):
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None or not hasattr(optimizer, "learning_rate"):
        raise ValueError('The model\'s optimizer must have a "learning_rate" attribute.')
    return float(optimizer.learning_rate)


class LearningRateScheduler(Callback):
    """Sets the learning rate at the start of each epoch to schedule(epoch, lr) (or schedule(epoch)).

    epoch is 0-based; lr is the current rate. The rate is logged as "learning_rate".
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        if not callable(schedule):
            raise TypeError(f"schedule must be callable, got {schedule!r}")
        self.schedule, self.verbose = schedule, verbose
        self._takes_lr = _accepts_two_arguments(schedule)

    def on_epoch_begin(self, epoch, logs=None):
        lr = _learning_rate(self.model)
        new = self.schedule(epoch, lr) if self._takes_lr else self.schedule(epoch)
        if isinstance(new, np.ndarray) and new.ndim == 0:
            new = new.item()
        if isinstance(new, bool) or not isinstance(new, (int, float, np.floating, np.integer)):
            raise ValueError(f"The output of the schedule function should be a float. Got: {new!r}")
        if not math.isfinite(float(new)):
            raise ValueError(f"The schedule returned a non-finite learning rate at epoch {epoch}: {new}")
        self.model.optimizer.learning_rate = float(new)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {float(new)}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = _learning_rate(self.model)


def _accepts_two_arguments(fn):
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):  # builtins without a signature: try the Keras 2 form
        return True
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 2 or any(p.kind == p.VAR_POSITIONAL for p in params)


class CSVLogger(Callback):
    """Writes one CSV row per epoch: "epoch" (0-based) then the log keys in sorted order.

    The columns are fixed by the first epoch's logs; keys missing later are written as "NA".
    append=True continues an existing file (writing the header only if the file is empty).
    """

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.filename, self.sep, self.append = os.fspath(filename), separator, append
        self.keys, self.writer, self.csv_file = None, None, None
        self.append_header = True

    def on_train_begin(self, logs=None):
        mode = "w"
        if self.append:
            mode = "a"
            if os.path.exists(self.filename):
                with open(self.filename) as f:
                    self.append_header = not f.readline()
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()
        self.csv_file = open(self.filename, mode, newline="")
        self.keys, self.writer = None, None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
        if self.writer is None:
            dialect = type("KcoreCSVDialect", (csv.excel,), {"delimiter": self.sep})
            self.writer = csv.DictWriter(self.csv_file, fieldnames=["epoch"] + self.keys, dialect=dialect)
            if self.append_header:
                self.writer.writeheader()
        row = {"epoch": epoch}
        row.update((k, _csv_value(logs.get(k, "NA"))) for k in self.keys)
        self.writer.writerow(row)
        self.csv_file.flush()

    def on_train_end(self, logs=None):
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()
        self.writer = None


def _csv_value(value):
    if isinstance(value, str):
        return value
    if isinstance(value, collections.abc.Iterable) and not (isinstance(value, np.ndarray) and value.ndim == 0):
        return f'"[{", ".join(map(str, value))}]"'
    return value


class TerminateOnNaN(Callback):
    """Stops training (or raises, with raise_error=True) when a batch's loss is NaN or infinite."""

    def __init__(self, raise_error=False):
        super().__init__()
        self.raise_error = raise_error

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None or np.isfinite(loss):
            return
        if self.raise_error:
            raise RuntimeError(f"NaN or Inf found in the loss value at batch {batch}; training is terminated")
        print(f"Batch {batch}: Invalid loss, terminating training")
        self.model.stop_training = True


class LambdaCallback(Callback):
    """A callback made of plain functions: on_epoch_begin(epoch, logs), on_batch_end(batch, logs),
    on_train_begin(logs), ... (any hook name of Callback)."""

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None, on_train_end=None,
                 on_train_batch_begin=None, on_train_batch_end=None, **kwargs):
        super().__init__()
        hooks = {"on_epoch_begin": on_epoch_begin, "on_epoch_end": on_epoch_end, "on_train_begin": on_train_begin,
                 "on_train_end": on_train_end, "on_train_batch_begin": on_train_batch_begin,
                 "on_train_batch_end": on_train_batch_end, **kwargs}
        for name, fn in hooks.items():
            if not (name.startswith("on_") and callable(getattr(Callback, name, None))):
                raise ValueError(f"LambdaCallback: unknown hook {name!r}")
            if fn is not None:
                setattr(self, name, _hook(fn, with_index=name.endswith(("epoch_begin", "epoch_end", "batch_begin",
                                                                        "batch_end"))))


def _hook(fn, with_index):
    """`fn` called Keras's way: (epoch_or_batch, logs) or (logs), logs defaulting to None."""
    if with_index:
        return lambda index, logs=None: fn(index, logs)
    return lambda logs=None: fn(logs)


# Callbacks kept in files of their own (imported last: they build on Callback above).
from kcore.callbacks.backup_and_restore import BackupAndRestore  # noqa: E402
from kcore.callbacks.tensorboard import TensorBoard  # noqa: E402
