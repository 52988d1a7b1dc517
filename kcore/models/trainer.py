"""compile / fit / evaluate / predict for every Model."""
import numpy as np

from kcore import callbacks as callbacks_module
from kcore import losses as losses_module
from kcore import metrics as metrics_module
from kcore import ops, optimizers
from kcore.backend.autodiff import GradientTape, no_grad
from kcore.backend.device import on_device_of
from kcore.backend.tensor import Tensor
from kcore.distribution._context import active_distribution, current_batch
from kcore.layers.layer import LOSS_HOLDERS, drop_losses
from kcore.models.data import as_sample_weight, make_batches


def _weights_device(model):
    weights = model.weights
    return weights[0].value.device if weights else None


# Model methods (fit, predict...) run with the weights' device current, so NumPy batches go where the weights
# live; results still come back as NumPy.
on_model_device = on_device_of(_weights_device)


class _OutputTarget:
    """The loss, its weight and the metrics attached to one model output."""

    def __init__(self, name, loss, weight, metrics):
        self.name, self.loss, self.weight, self.metrics = name, loss, weight, metrics


class Trainer:
    compiled = False

    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None, weighted_metrics=None,
                run_eagerly=None, steps_per_execution=1, jit_compile=None, auto_scale_loss=True, **kwargs):
        kwargs.pop("sample_weight_mode", None), kwargs.pop("target_tensors", None)
        if kwargs:
            raise ValueError(f"Invalid keyword arguments passed to compile: {kwargs}")
        self.optimizer = optimizers.get(optimizer)
        if self.optimizer is None:
            raise ValueError("compile: `optimizer` must be an optimizer, its name or config; got None")
        _check_identifiers(loss, losses_module.for_compile)
        _check_identifiers(metrics, metrics_module.for_compile)
        _check_identifiers(weighted_metrics, metrics_module.for_compile)
        self.loss = loss
        self._compile_args = {"loss": loss, "metrics": metrics, "loss_weights": loss_weights,
                              "weighted_metrics": weighted_metrics}
        self._targets = None  # resolved once the output names are known
        self.compiled = True
        self.stop_training = False

    # -- targets -----------------------------------------------------------------------
    def _output_names(self):
        cached = getattr(self, "_train_output_names", None)  # fixed while fit runs
        if cached is not None:
            return cached
        names = getattr(self, "output_names", None)
        return list(names) if names else ["output"]

    def _resolve_targets(self):
        if self._targets is not None:
            return self._targets
        names = self._output_names()
        loss, metrics, weights = (self._compile_args[k] for k in ("loss", "metrics", "loss_weights"))
        per_loss = _per_output(loss, names, "loss")
        per_weight = _per_output(weights, names, "loss_weights") if weights is not None else [1.0] * len(names)
        per_metrics = _metric_lists(metrics, names, "metrics")
        per_weighted = _metric_lists(self._compile_args.get("weighted_metrics"), names, "weighted_metrics")
        targets = []
        for name, loss, w, ms, wms in zip(names, per_loss, per_weight, per_metrics, per_weighted):
            if loss is None and len(names) == 1:
                raise ValueError("No loss to compute: provide `loss` to compile()")
            prefix = f"{name}_" if len(names) > 1 else ""
            built = []
            for m in ms:
                metric = metrics_module.for_compile(m)
                metric.name = prefix + metric.name
                built.append(metric)
            taken = {metric.name for metric in built}
            for m in wms:  # Keras 3: only weighted_metrics see sample_weight; "weighted_" only on a name clash
                metric = metrics_module.for_compile(m)
                name = prefix + metric.name
                metric.name = prefix + "weighted_" + metric.name if name in taken else name
                metric._weighted = True
                built.append(metric)
            targets.append(_OutputTarget(name, losses_module.for_compile(loss), float(w), built))
        self._targets = targets
        self._loss_tracker = metrics_module.Mean(name="loss")
        # one "<output>_loss" log per output with a loss, when more than one output has one (Keras 3)
        with_loss = [t for t in targets if t.loss is not None]
        self._output_loss_trackers = [metrics_module.Mean(name=f"{t.name}_loss") if t.loss is not None else None
                                      for t in targets] if len(with_loss) > 1 else []
        return targets

    @property
    def metrics(self):
        """The compiled model's metric objects, in the order of `metrics_names` (and of evaluate()'s list): the
        loss tracker, one loss tracker per output with a loss (several outputs), then the compiled metrics
        (tf.keras's flat list; Keras 3 wraps the compiled metrics in one container). Empty before compile."""
        if getattr(self, "_compile_args", None) is None:
            return []
        targets = self._resolve_targets()
        return [self._loss_tracker] + [tr for tr in self._output_loss_trackers if tr is not None] + \
            [m for t in targets for m in t.metrics]

    @property
    def metrics_names(self):
        """The names of `metrics`: "loss", "<output>_loss" per output with a loss, then each compiled metric."""
        return [m.name for m in self.metrics] or ["loss"]

    def _reset_metrics(self):
        for t in self._resolve_targets():
            for m in t.metrics:
                m.reset_state()
        self._loss_tracker.reset_state()
        for tr in self._output_loss_trackers:
            if tr is not None:
                tr.reset_state()

    def _logs(self):
        logs = {"loss": self._loss_tracker.result()}
        for tr in self._output_loss_trackers:
            if tr is not None:
                logs[tr.name] = tr.result()
        for t in self._targets:
            for m in t.metrics:
                value = np.asarray(m.result())
                logs[m.name] = float(value) if value.ndim == 0 else value
        return logs

    # -- one step -------------------------------------------------------------------------
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        targets = self._resolve_targets()
        preds = _as_list(y_pred)
        trues = _match_outputs(y, self._output_names(), "y")
        total, per_output = None, []
        for t, yt, yp in zip(targets, trues, preds):
            if t.loss is None:
                per_output.append(None)
                continue
            value = t.loss(yt, yp, sample_weight)
            per_output.append(value)
            weighted = value if t.weight == 1.0 else ops.multiply(value, t.weight)
            total = weighted if total is None else ops.add(total, weighted)
        batch = current_batch()  # distributed step: penalties count once over all ranks
        for extra in self._regularization_terms():
            total = ops.add(total, extra if batch is None else ops.multiply(extra, batch.fraction))
        return total, per_output

    def _regularization_terms(self):
        """What `self.losses` holds (the last call's add_loss / activity penalties, then the weight
        regularizers' penalties), from the layer list and trainable variables cached for the fit."""
        terms = [t for layer in self._all_layers() for t in layer._losses] if LOSS_HOLDERS else []
        variables = getattr(self, "_train_variables", None)
        variables = self.trainable_weights if variables is None else variables
        return terms + [w.regularizer(w) for w in variables if w.regularizer is not None]

    def _all_layers(self):
        cached = getattr(self, "_flat_layers", None)
        if cached is not None:
            return cached
        out, seen, stack = [], set(), [self]
        while stack:
            layer = stack.pop()
            if id(layer) not in seen:  # a layer shared by two sub-models counts once
                seen.add(id(layer))
                out.append(layer)
                stack.extend(layer._layers)
        return out

    def _clear_layer_losses(self):
        if LOSS_HOLDERS:  # some layer holds losses of an earlier call
            for layer in self._all_layers():
                if layer._losses:
                    drop_losses(layer)

    def _begin_training(self):
        """Caches what every step needs (trainable variables, the flat layer list)."""
        self._flat_layers = None
        self._flat_layers = self._all_layers()
        self._train_variables = self.trainable_weights
        self._train_output_names = None
        self._train_output_names = self._output_names()

    def _end_training(self):
        self._flat_layers = None
        self._train_variables = None
        self._train_output_names = None

    def train_step(self, x, y, sample_weight=None):
        variables = self._train_variables
        self._clear_layer_losses()
        with GradientTape() as tape:
            y_pred = self(x, training=True)
            loss, per_output = self.compute_loss(x, y, y_pred, sample_weight)
            optimizer = self.optimizer
            scaled = loss if optimizer.loss_scale_factor is None else optimizer.scale_loss(loss)
        grads = tape.gradient(scaled, variables)
        optimizer.apply(grads, variables) if variables else None
        self._update_metrics(y, y_pred, loss, per_output, sample_weight)

    def test_step(self, x, y, sample_weight=None):
        self._clear_layer_losses()
        y_pred = self(x, training=False)
        loss, per_output = self.compute_loss(x, y, y_pred, sample_weight, training=False)
        self._update_metrics(y, y_pred, loss, per_output, sample_weight)

    def _update_metrics(self, y, y_pred, loss, per_output, sample_weight):
        self._update_loss_trackers(loss, per_output, _as_list(y_pred)[0].shape[0])
        self._update_compiled_metrics(y, y_pred, sample_weight)

    def _update_loss_trackers(self, loss, per_output, n):
        """Adds a step's loss (and per-output losses, tensors or floats) to the running means `fit` reports."""
        self._loss_tracker.total += _scalar(loss) * n
        self._loss_tracker.count += n
        for tr, value in zip(self._output_loss_trackers, per_output):
            if tr is not None:  # Keras 3 (TF backend) averages the per-output losses over batches, unweighted
                tr.total += _scalar(value)
                tr.count += 1

    def _update_compiled_metrics(self, y, y_pred, sample_weight):
        preds = _as_list(y_pred)
        trues = _match_outputs(y, self._output_names(), "y")
        for t, yt, yp in zip(self._targets, trues, preds):
            if t.metrics:
                yp_arg = yp if getattr(yp, "_keras_mask", None) is not None else yp.numpy()  # metrics honour masks
                yt_np = yt.numpy() if isinstance(yt, Tensor) else np.asarray(yt)
                for m in t.metrics:
                    m.update_state(yt_np, yp_arg, sample_weight if getattr(m, "_weighted", False) else None)

    # -- loops -------------------------------------------------------------------------------
    @on_model_device
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, class_weight=None, sample_weight=None, initial_epoch=0,
            steps_per_epoch=None, validation_steps=None, validation_batch_size=None, validation_freq=1, **kwargs):
        kwargs.pop("nb_epoch", None), kwargs.pop("max_queue_size", None), kwargs.pop("workers", None)
        kwargs.pop("use_multiprocessing", None)
        if kwargs:
            raise ValueError(f"Invalid keyword arguments passed to fit: {kwargs}")
        self._require_compiled("fit")
        for name, value in (("epochs", epochs), ("initial_epoch", initial_epoch)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise TypeError(f"fit: the argument '{name}' must be an integer, got {value!r:.40}")
        verbose = 1 if verbose == "auto" else verbose
        if class_weight is not None and y is not None:
            sample_weight = _class_weights_to_sample_weights(y, class_weight, sample_weight)
        data = make_batches(x, y, sample_weight, batch_size, shuffle, steps_per_epoch)
        if validation_split and validation_data is None:
            if not hasattr(data, "split"):
                raise ValueError("validation_split is only supported for array inputs; pass validation_data")
            data, val_data = data.split(validation_split)
        elif validation_data is not None:
            val_data = _validation_batches(validation_data, validation_batch_size or batch_size, validation_steps)
        else:
            val_data = None
        dist = active_distribution()
        if dist is not None:  # every rank trains on its part of each global batch
            data, val_data = dist.shard(data), dist.shard(val_data)
        self._build_from_batches(data)
        self._resolve_targets()
        self._begin_training()
        if dist is not None:
            dist.begin_training(self)
            verbose = verbose if dist.comm.rank == 0 else 0
        history = callbacks_module.History()
        cb_list = list(callbacks or [])
        if verbose:
            cb_list.append(callbacks_module.ProgbarLogger())
        cb_list.append(history)
        cb_list = cb_list if dist is None else dist.callbacks_for_rank(cb_list)
        params = {"verbose": verbose, "epochs": epochs, "steps": data.steps}
        cbs = callbacks_module.CallbackList(cb_list, self, params)
        self.stop_training = False
        self._initial_epoch = None  # a callback (BackupAndRestore) may move the start on train begin
        try:
            cbs.on_train_begin()
            if self._initial_epoch is not None:
                initial_epoch = self._initial_epoch
            for epoch in range(initial_epoch, epochs):
                self._reset_metrics()
                cbs.on_epoch_begin(epoch)
                step = -1
                batch_begin, batch_end = cbs.on_train_batch_begin, cbs.on_train_batch_end
                for step, (xb, yb, swb) in enumerate(data):
                    batch_begin(step)
                    dist.train_step(self, xb, yb, swb) if dist is not None else self.train_step(xb, yb, swb)
                    if not batch_end.noop:  # the running logs are built only for a callback that reads them
                        batch_end(step, self._logs())
                    if self.stop_training:
                        break
                if step < 0:
                    raise ValueError("fit: the data produced no batches for this epoch (empty generator?)")
                if dist is not None:
                    dist.sync_metrics(self)
                logs = self._logs()
                if val_data is not None and (epoch + 1) % validation_freq == 0:
                    params["_in_fit"] = True
                    val_logs = self._run_evaluation(val_data, cbs)
                    params["_in_fit"] = False
                    logs.update({"val_" + k: v for k, v in val_logs.items()})
                cbs.on_epoch_end(epoch, logs)
                if dist is not None:  # a callback on one rank stops every rank at the same epoch
                    self.stop_training = dist.agree(self.stop_training)
                if self.stop_training:
                    break
            if epochs > 0:  # e.g. use_ema: the weights take their moving averages (Keras 3)
                self.optimizer.finalize_variable_values(self.trainable_weights)
            cbs.on_train_end(logs if epochs > initial_epoch else None)
        finally:
            self._end_training()
            if dist is not None:
                dist.end_training()
        history.params = {"verbose": verbose, "epochs": epochs, "steps": data.steps}
        return history

    def _run_evaluation(self, data, cbs):
        self._reset_metrics()
        cbs.on_test_begin()
        dist = active_distribution()
        step_fn = self.test_step if dist is None else (lambda *b: dist.test_step(self, *b))
        for step, (xb, yb, swb) in enumerate(data):
            cbs.on_test_batch_begin(step)
            with no_grad():
                step_fn(xb, yb, swb)
            cbs.on_test_batch_end(step, self._logs())
        if dist is not None:
            dist.sync_metrics(self)
        logs = self._logs()
        cbs.on_test_end(logs)
        return logs

    @on_model_device
    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None,
                 callbacks=None, return_dict=False, **kwargs):
        self._require_compiled("evaluate")
        data, _, cbs = self._inference_setup(make_batches(x, y, sample_weight, batch_size, False, steps), verbose,
                                             callbacks, resolve_targets=True)
        logs = self._run_evaluation(data, cbs)
        if return_dict:
            return logs
        values = [logs[k] for k in self.metrics_names]
        return values[0] if len(values) == 1 else values

    def _inference_setup(self, data, verbose, callbacks, resolve_targets=False):
        """(data, distribution, callbacks) of evaluate / predict: a data-parallel run shards the batches,
        prints on rank 0 only and evaluates rank 0's weights on every rank."""
        verbose = 1 if verbose == "auto" else verbose
        dist = active_distribution()
        if dist is not None:
            data, verbose = dist.shard(data), verbose if dist.comm.rank == 0 else 0
        self._build_from_batches(data)
        if resolve_targets:
            self._resolve_targets()
        if dist is not None:
            dist.broadcast_weights(self)
        cb_list = list(callbacks or []) + ([callbacks_module.ProgbarLogger()] if verbose else [])
        cbs = callbacks_module.CallbackList(cb_list, self, {"verbose": verbose, "epochs": 1, "steps": data.steps})
        return data, dist, cbs

    @on_model_device
    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None, **kwargs):
        data, dist, cbs = self._inference_setup(make_batches(x, None, None, batch_size, False, steps), verbose,
                                                callbacks)
        cbs.on_predict_begin()
        outputs = []
        with no_grad():
            for step, (xb, _, _) in enumerate(data):
                cbs.on_predict_batch_begin(step)
                out = self(xb, training=False)
                outputs.append([o.numpy() for o in _as_list(out)])
                cbs.on_predict_batch_end(step)
        cbs.on_predict_end()
        if dist is not None:
            outputs = dist.gather_predictions(outputs, data)
        if not outputs:
            raise ValueError("predict: no data to predict on")
        merged = [np.concatenate([b[i] for b in outputs], axis=0) for i in range(len(outputs[0]))]
        if isinstance(out, dict):  # the model's own structure, as Keras 3 returns it
            return dict(zip(out.keys(), merged))
        return merged[0] if len(merged) == 1 and not isinstance(out, (list, tuple)) else merged

    @on_model_device
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        self._require_compiled("train_on_batch")
        if active_distribution() is not None and active_distribution().comm.size > 1:
            raise NotImplementedError("train_on_batch does not run data-parallel (the replicas would diverge); "
                                      "use fit() with the distribution set, or set_distribution(None)")
        if class_weight is not None:
            sample_weight = _class_weights_to_sample_weights(y, class_weight, sample_weight)
        self._build_from_batches(make_batches(x, y, sample_weight, None, False))
        self._resolve_targets()
        self._reset_metrics()
        self._begin_training()
        try:
            self.train_step(x, y, sample_weight)
        finally:
            self._end_training()
        return self._batch_result(return_dict)

    @on_model_device
    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        self._require_compiled("test_on_batch")
        self._resolve_targets()
        self._reset_metrics()
        with no_grad():
            self.test_step(x, y, sample_weight)
        return self._batch_result(return_dict)

    @on_model_device
    def predict_on_batch(self, x):
        with no_grad():
            out = self(x, training=False)
        if isinstance(out, dict):
            return {k: o.numpy() for k, o in out.items()}
        return [o.numpy() for o in out] if isinstance(out, (list, tuple)) else out.numpy()

    def _batch_result(self, return_dict):
        logs = self._logs()
        if return_dict:
            return logs
        values = [logs[k] for k in self.metrics_names]
        return values[0] if len(values) == 1 else values

    def _require_compiled(self, what):
        if not self.compiled:
            raise RuntimeError(f"You must call `compile()` before `{what}()`.")

    def _build_from_batches(self, data):
        """Builds an unbuilt model from the shape of the data (batch axis None)."""
        if self.built or not hasattr(data, "xs"):
            return
        shapes = [(None,) + tuple(a.shape[1:]) for a in data.xs]
        self.build(shapes[0] if len(shapes) == 1 else shapes)


def _check_identifiers(spec, get):
    """Resolves every name in a loss/metrics spec (a dict or list per output, or one value) so that an unknown
    name fails in compile() with get()'s ValueError rather than later in fit()."""
    if isinstance(spec, dict):
        for value in spec.values():
            _check_identifiers(value, get)
    elif isinstance(spec, (list, tuple)):
        for value in spec:
            _check_identifiers(value, get)
    elif spec is not None:
        get(spec)


def _as_list(x):
    if x is None:
        return []
    if isinstance(x, (list, tuple)):
        return list(x)
    if isinstance(x, dict):
        return list(x.values())
    return [x]


def _metric_lists(metrics, names, what):
    """One list of metric identifiers per output name."""
    if metrics is None:
        return [[] for _ in names]
    if isinstance(metrics, dict) or (len(names) > 1 and any(m is None or isinstance(m, (list, tuple))
                                                           for m in metrics)):
        return [_as_list(m) for m in _per_output(metrics, names, what)]
    return [list(metrics) for _ in names]


def _per_output(value, names, what):
    if isinstance(value, dict):
        unknown = set(value) - set(names)
        if unknown:
            raise ValueError(f"compile: {what} has keys {sorted(unknown)} that are not model outputs {names}")
        if what == "loss" and set(value) != set(names):  # Keras 3 wants every output named (its value may be None)
            raise ValueError(f"Expected keys {names} in loss dict, but found loss.keys()={sorted(value)}; give each "
                             "output a loss (None for none)")
        return [value.get(n) for n in names]
    if isinstance(value, (list, tuple)):
        if len(value) != len(names):
            raise ValueError(f"compile: {what} has {len(value)} entries but the model has {len(names)} outputs "
                             f"{names}")
        return list(value)
    return [value] * len(names)


def _scalar(value):
    return float(value.numpy()) if isinstance(value, Tensor) else float(value)


def _match_outputs(y, names, what):
    if isinstance(y, dict):
        missing = [n for n in names if n not in y]
        if missing:
            raise ValueError(f"{what} is missing targets for outputs {missing}")
        return [y[n] for n in names]
    ys = _as_list(y) if len(names) > 1 else [y]
    if len(ys) != len(names):
        raise ValueError(f"The model has {len(names)} outputs {names} but {len(ys)} target arrays were given")
    return ys


def _class_weights_to_sample_weights(y, class_weight, sample_weight):
    if not isinstance(class_weight, dict):
        raise TypeError(f"class_weight must be a dict mapping class indices to weights, got {class_weight!r:.80}")
    for c, w in class_weight.items():
        integral_key = isinstance(c, (int, np.integer)) or (isinstance(c, float) and c.is_integer())
        if isinstance(w, (str, bytes, bool)) or not isinstance(w, (int, float, np.number)) or \
                isinstance(c, bool) or not integral_key:
            raise ValueError(f"class_weight must map integer class indices to numbers, got {c!r}: {w!r:.40} in "
                             f"class_weight={class_weight!r:.120}")
    y = np.asarray(y)
    if y.ndim == 0 or y.size == 0 or y.dtype.kind not in "biuf":
        raise ValueError(f"class_weight needs non-empty numeric targets y with a sample axis, got y of shape "
                         f"{y.shape} and dtype {y.dtype}")
    labels = np.argmax(y, axis=-1) if y.ndim > 1 and y.shape[-1] > 1 else y.reshape(len(y), -1)[:, 0]
    weights = np.array([class_weight.get(int(c), 1.0) for c in labels.astype(np.int64)], dtype=np.float32)
    if sample_weight is None:
        return weights
    sample_weight = as_sample_weight(sample_weight)
    if sample_weight.shape != weights.shape:
        raise ValueError(f"sample_weight has shape {sample_weight.shape} but y holds {len(weights)} samples "
                         f"(class_weight gives one weight per sample of y); pass one weight per sample")
    return weights * sample_weight


def _validation_batches(validation_data, batch_size, steps):
    if isinstance(validation_data, tuple):
        if len(validation_data) == 2:
            return make_batches(validation_data[0], validation_data[1], None, batch_size, False)
        if len(validation_data) == 3:
            return make_batches(*validation_data, batch_size=batch_size)
        raise ValueError("validation_data must be (x_val, y_val) or (x_val, y_val, sample_weight)")
    return make_batches(validation_data, None, None, batch_size, False, steps)
