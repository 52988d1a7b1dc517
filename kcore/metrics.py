"""Stateful metrics: accumulated over an epoch, reset at its start (computed on NumPy views)."""
import numpy as np


class Metric:
    _direction = None  # "up" when larger is better, "down" when smaller is; None when unknown

    def __init__(self, name=None, dtype=None):
        self.name = name or _snake(type(self).__name__)
        self.reset_state()

    def reset_state(self):
        pass

    def update_state(self, y_true, y_pred, sample_weight=None):
        raise NotImplementedError

    def result(self):
        raise NotImplementedError

    def __call__(self, y_true, y_pred, sample_weight=None):
        self.update_state(y_true, y_pred, sample_weight)
        return self.result()

    def get_config(self):
        return {"name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    reset_states = reset_state


def _snake(name):
    from kcore.utils.naming import to_snake_case

    return to_snake_case(name)


class Mean(Metric):
    """Weighted running mean of the values given to update_state."""

    def reset_state(self):
        self.total = 0.0
        self.count = 0.0

    def update_state(self, values, sample_weight=None):
        values = np.asarray(values, dtype=np.float64)
        if sample_weight is None:
            self.total += float(values.sum())
            self.count += values.size
        else:
            w = np.broadcast_to(np.asarray(sample_weight, dtype=np.float64).reshape(
                np.shape(sample_weight) + (1,) * max(0, values.ndim - np.ndim(sample_weight))), values.shape)
            self.total += float((values * w).sum())
            self.count += float(w.sum())

    def result(self):
        return self.total / self.count if self.count else 0.0


class MeanMetricWrapper(Mean):
    """The mean over samples of fn(y_true, y_pred) (one value per sample)."""

    def __init__(self, fn, name=None, dtype=None, **fn_kwargs):
        self._fn = fn
        self._fn_kwargs = fn_kwargs
        super().__init__(name=name or fn.__name__)

    def update_state(self, y_true, y_pred, sample_weight=None):
        super().update_state(self._fn(np.asarray(y_true), np.asarray(y_pred), **self._fn_kwargs), sample_weight)


def _squeeze_labels(y_true, y_pred):
    y_true = np.asarray(y_true)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    return y_true


def binary_accuracy(y_true, y_pred, threshold=0.5):
    y_pred = np.asarray(y_pred)
    y_true = np.asarray(y_true).reshape(y_pred.shape)
    return np.mean((y_pred > threshold) == (y_true > 0.5), axis=-1)


def categorical_accuracy(y_true, y_pred):
    return (np.argmax(y_true, axis=-1) == np.argmax(y_pred, axis=-1)).astype(np.float64)


def sparse_categorical_accuracy(y_true, y_pred):
    y_pred = np.asarray(y_pred)
    labels = _squeeze_labels(y_true, y_pred)
    return (labels.astype(np.int64) == np.argmax(y_pred, axis=-1)).astype(np.float64)


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    return sparse_top_k_categorical_accuracy(np.argmax(y_true, axis=-1), y_pred, k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5):
    y_pred = np.asarray(y_pred)
    labels = _squeeze_labels(y_true, y_pred).astype(np.int64)
    top = np.argsort(-y_pred, axis=-1, kind="stable")[..., :k]
    return np.any(top == labels[..., None], axis=-1).astype(np.float64)


def accuracy(y_true, y_pred):
    return (np.asarray(y_true) == np.asarray(y_pred)).astype(np.float64)


def _mse(y_true, y_pred):
    return np.mean(np.square(np.asarray(y_pred) - np.asarray(y_true).reshape(np.shape(y_pred))), axis=-1)


def _mae(y_true, y_pred):
    return np.mean(np.abs(np.asarray(y_pred) - np.asarray(y_true).reshape(np.shape(y_pred))), axis=-1)


def _wrapper(fn, default_name, **defaults):
    def __init__(self, name=default_name, dtype=None, **kwargs):
        MeanMetricWrapper.__init__(self, fn, name=name, **{**defaults, **kwargs})

    return __init__


class BinaryAccuracy(MeanMetricWrapper):
    __init__ = _wrapper(binary_accuracy, "binary_accuracy", threshold=0.5)


class CategoricalAccuracy(MeanMetricWrapper):
    __init__ = _wrapper(categorical_accuracy, "categorical_accuracy")


class SparseCategoricalAccuracy(MeanMetricWrapper):
    __init__ = _wrapper(sparse_categorical_accuracy, "sparse_categorical_accuracy")


class TopKCategoricalAccuracy(MeanMetricWrapper):
    __init__ = _wrapper(top_k_categorical_accuracy, "top_k_categorical_accuracy", k=5)


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    __init__ = _wrapper(sparse_top_k_categorical_accuracy, "sparse_top_k_categorical_accuracy", k=5)


class Accuracy(MeanMetricWrapper):
    __init__ = _wrapper(accuracy, "accuracy")


class MeanSquaredError(MeanMetricWrapper):
    __init__ = _wrapper(_mse, "mean_squared_error")


class MeanAbsoluteError(MeanMetricWrapper):
    __init__ = _wrapper(_mae, "mean_absolute_error")


class RootMeanSquaredError(Mean):
    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name=name)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = np.asarray(y_pred)
        super().update_state(np.square(y_pred - np.asarray(y_true).reshape(y_pred.shape)), sample_weight)

    def result(self):
        return float(np.sqrt(super().result()))


class Sum(Metric):
    """Weighted running sum of the values given to update_state."""

    def reset_state(self):
        self.total = 0.0

    def update_state(self, values, sample_weight=None):
        values = np.asarray(values, dtype=np.float64)
        if sample_weight is not None:
            values = values * _broadcast_weights(sample_weight, values.shape)
        self.total += float(values.sum())

    def result(self):
        return self.total


def _broadcast_weights(sample_weight, shape):
    """Per-sample weights (N,) or (N, 1, ...) stretched to `shape` (N, ...)."""
    w = np.asarray(sample_weight, dtype=np.float64)
    while w.ndim > len(shape):
        w = w.squeeze(-1)
    return np.broadcast_to(w.reshape(w.shape + (1,) * (len(shape) - w.ndim)), shape)


# -- loss-like metrics: the mean over samples of a loss function (computed by the engine) --------------


def _loss_metric(loss_name, default_name, class_name, **defaults):
    def per_sample(y_true, y_pred, **kwargs):
        from kcore import losses

        return getattr(losses, loss_name)(y_true, np.asarray(y_pred, dtype=np.float64), **kwargs).numpy()

    per_sample.__name__ = loss_name

    def __init__(self, name=default_name, dtype=None, **kwargs):
        MeanMetricWrapper.__init__(self, per_sample, name=name, **{**defaults, **kwargs})

    doc = f"Mean over samples of `kcore.losses.{loss_name}`."
    return type(class_name, (MeanMetricWrapper,), {"__init__": __init__, "__doc__": doc})


MeanAbsolutePercentageError = _loss_metric("mean_absolute_percentage_error", "mean_absolute_percentage_error",
                                           "MeanAbsolutePercentageError")
MeanSquaredLogarithmicError = _loss_metric("mean_squared_logarithmic_error", "mean_squared_logarithmic_error",
                                           "MeanSquaredLogarithmicError")
LogCoshError = _loss_metric("log_cosh", "logcosh", "LogCoshError")
KLDivergence = _loss_metric("kl_divergence", "kl_divergence", "KLDivergence")
Poisson = _loss_metric("poisson", "poisson", "Poisson")
Hinge = _loss_metric("hinge", "hinge", "Hinge")
SquaredHinge = _loss_metric("squared_hinge", "squared_hinge", "SquaredHinge")
CategoricalHinge = _loss_metric("categorical_hinge", "categorical_hinge", "CategoricalHinge")
BinaryCrossentropy = _loss_metric("binary_crossentropy", "binary_crossentropy", "BinaryCrossentropy")
CategoricalCrossentropy = _loss_metric("categorical_crossentropy", "categorical_crossentropy",
                                       "CategoricalCrossentropy")
SparseCategoricalCrossentropy = _loss_metric("sparse_categorical_crossentropy", "sparse_categorical_crossentropy",
                                             "SparseCategoricalCrossentropy")


class CosineSimilarity(MeanMetricWrapper):
    """Mean cosine similarity between y_true and y_pred along `axis` (+1 = same direction; the loss negates it)."""

    def __init__(self, name="cosine_similarity", dtype=None, axis=-1):
        MeanMetricWrapper.__init__(self, _cosine_similarity, name=name, axis=axis)


def _cosine_similarity(y_true, y_pred, axis=-1):
    def unit(v):
        v = np.asarray(v, dtype=np.float64)
        return v / np.maximum(np.sqrt(np.sum(v * v, axis=axis, keepdims=True)), 1e-7)

    y_pred = np.asarray(y_pred)
    return np.sum(unit(np.asarray(y_true).reshape(y_pred.shape)) * unit(y_pred), axis=axis)


# -- confusion-matrix metrics -----------------------------------------------------------------------------


def _thresholds(thresholds, default):
    """(list of floats, whether the user gave a single value) — results are scalars for a single threshold."""
    if thresholds is None:
        return [default], True
    if np.isscalar(thresholds):
        return [float(thresholds)], True
    values = [float(t) for t in thresholds]
    if not values:
        raise ValueError("thresholds must not be empty")
    return values, False


def _check_thresholds(values):
    for t in values:
        if not 0.0 <= t <= 1.0 and np.isfinite(t):
            raise ValueError(f"Threshold values must be in [0, 1]. Received: {t}")


def _confusion_counts(y_true, y_pred, thresholds, sample_weight=None, top_k=None, class_id=None):
    """Weighted TP, FP, TN, FN per threshold (prediction counts as positive when > threshold)."""
    y_pred = np.asarray(y_pred, dtype=np.float64)
    y_true = np.asarray(y_true).reshape(y_pred.shape) if np.size(y_true) == y_pred.size else np.asarray(y_true)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true of shape {y_true.shape} does not match y_pred of shape {y_pred.shape}")
    weights = np.ones_like(y_pred) if sample_weight is None else _broadcast_weights(sample_weight, y_pred.shape)
    if top_k is not None:
        y_pred = _keep_top_k(y_pred, top_k)
    if class_id is not None:
        y_true, y_pred, weights = y_true[..., class_id], y_pred[..., class_id], weights[..., class_id]
    positive = y_true.reshape(-1) > 0.5
    order = np.argsort(y_pred.reshape(-1), kind="stable")
    preds, weights, positive = y_pred.reshape(-1)[order], weights.reshape(-1)[order], positive[order]
    # weight of positives / negatives among the first i sorted predictions, i = 0..n
    pos_below = np.concatenate([[0.0], np.cumsum(weights * positive)])
    neg_below = np.concatenate([[0.0], np.cumsum(weights * ~positive)])
    cut = np.searchsorted(preds, np.asarray(thresholds, dtype=np.float64), side="right")  # first index > t
    fn, tn = pos_below[cut], neg_below[cut]
    tp, fp = pos_below[-1] - fn, neg_below[-1] - tn
    return np.stack([tp, fp, tn, fn], axis=1)


def _keep_top_k(y_pred, k):
    """Entries outside each row's k largest become -inf (never positive)."""
    order = np.argsort(-y_pred, axis=-1, kind="stable")
    out = np.full_like(y_pred, -np.inf)
    np.put_along_axis(out, order[..., :k], np.take_along_axis(y_pred, order[..., :k], axis=-1), axis=-1)
    return out


def _safe_divide(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return np.divide(a, b, out=np.zeros(np.broadcast(a, b).shape), where=b != 0)


class _ConfusionMetric(Metric):
    """Accumulates TP/FP/TN/FN per threshold over the epoch; subclasses turn them into a value."""

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        default = 0.5 if top_k is None else -np.inf
        self.thresholds, self._single = _thresholds(thresholds, default)
        _check_thresholds(self.thresholds)
        self.init_thresholds, self.top_k, self.class_id = thresholds, top_k, class_id
        super().__init__(name=name, dtype=dtype)

    def reset_state(self):
        self.counts = np.zeros((len(self.thresholds), 4))  # TP, FP, TN, FN

    def update_state(self, y_true, y_pred, sample_weight=None):
        self.counts += _confusion_counts(y_true, y_pred, self.thresholds, sample_weight, self.top_k, self.class_id)

    @property
    def true_positives(self):
        return self.counts[:, 0]

    @property
    def false_positives(self):
        return self.counts[:, 1]

    @property
    def true_negatives(self):
        return self.counts[:, 2]

    @property
    def false_negatives(self):
        return self.counts[:, 3]

    def _value(self):
        raise NotImplementedError

    def result(self):
        values = self._value()
        return float(values[0]) if self._single else values

    def get_config(self):
        return {"name": self.name, "thresholds": self.init_thresholds, "top_k": self.top_k,
                "class_id": self.class_id}


class Precision(_ConfusionMetric):
    """TP / (TP + FP) over the epoch; 0 while nothing was predicted positive."""

    def __init__(self, thresholds=None, top_k=None, class_id=None, name="precision", dtype=None):
        super().__init__(thresholds, top_k, class_id, name, dtype)

    def _value(self):
        return _safe_divide(self.true_positives, self.true_positives + self.false_positives)


class Recall(_ConfusionMetric):
    """TP / (TP + FN) over the epoch; 0 while there were no positives."""

    def __init__(self, thresholds=None, top_k=None, class_id=None, name="recall", dtype=None):
        super().__init__(thresholds, top_k, class_id, name, dtype)

    def _value(self):
        return _safe_divide(self.true_positives, self.true_positives + self.false_negatives)


def _count_metric(column, default_name, class_name):
    def __init__(self, thresholds=None, name=default_name, dtype=None):
        _ConfusionMetric.__init__(self, thresholds, None, None, name, dtype)

    def _value(self):
        return self.counts[:, column]

    doc = f"The weighted number of {default_name.replace('_', ' ')} over the epoch (threshold 0.5 by default)."
    return type(class_name, (_ConfusionMetric,), {"__init__": __init__, "_value": _value, "__doc__": doc})


TruePositives = _count_metric(0, "true_positives", "TruePositives")
FalsePositives = _count_metric(1, "false_positives", "FalsePositives")
TrueNegatives = _count_metric(2, "true_negatives", "TrueNegatives")
FalseNegatives = _count_metric(3, "false_negatives", "FalseNegatives")


class AUC(Metric):
    """Area under the ROC or PR curve from confusion counts at `num_thresholds` thresholds.

    Thresholds are evenly spaced inside (0, 1) plus -eps and 1+eps end points. The ROC curve
    uses the trapezoid rule (summation_method="interpolation"); PR with "interpolation" integrates
    precision assuming it varies hyperbolically between thresholds (Davis & Goadrich, 2006).
    "minoring" / "majoring" take left/right Riemann sums with the lower / upper height.
    """

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation", name="auc", dtype=None,
                 thresholds=None, multi_label=False, num_labels=None, label_weights=None, from_logits=False):
        self.curve, self.summation_method = curve.upper(), summation_method.lower()
        if self.curve not in ("ROC", "PR"):
            raise ValueError(f"Invalid curve: {curve!r}; expected 'ROC' or 'PR'")
        if self.summation_method not in ("interpolation", "minoring", "majoring"):
            raise ValueError(f"Invalid summation_method: {summation_method!r}; expected 'interpolation', "
                             f"'minoring' or 'majoring'")
        if thresholds is not None:
            inner = sorted(float(t) for t in thresholds)
            _check_thresholds(inner)
        else:
            if num_thresholds <= 1:
                raise ValueError(f"num_thresholds must be > 1, got {num_thresholds}")
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        self.thresholds = [-1e-7] + inner + [1.0 + 1e-7]
        self.num_thresholds = len(self.thresholds)
        self.multi_label, self.from_logits = multi_label, from_logits
        self.label_weights = None if label_weights is None else np.asarray(label_weights, dtype=np.float64)
        super().__init__(name=name, dtype=dtype)

    def reset_state(self):
        self._label_counts = None  # (labels, thresholds, 4) once the data was seen; labels = 1 if not multi_label

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = np.asarray(y_pred, dtype=np.float64)
        if self.from_logits:
            y_pred = 1.0 / (1.0 + np.exp(-y_pred))
        if y_pred.size and (y_pred.min() < 0 or y_pred.max() > 1):
            raise ValueError("AUC expects predictions in [0, 1]; pass from_logits=True for logits")
        y_true = np.asarray(y_true).reshape(y_pred.shape)
        if sample_weight is not None:
            sample_weight = _broadcast_weights(sample_weight, y_pred.shape)
        if self.multi_label:
            cols = y_pred.reshape(-1, y_pred.shape[-1]).shape[1]
            w = None if sample_weight is None else sample_weight.reshape(-1, cols)
            counts = np.stack([_confusion_counts(y_true.reshape(-1, cols)[:, j], y_pred.reshape(-1, cols)[:, j],
                                                 self.thresholds, None if w is None else w[:, j])
                               for j in range(cols)])
        else:
            counts = _confusion_counts(y_true, y_pred, self.thresholds, sample_weight)[None]
        self._label_counts = counts if self._label_counts is None else self._label_counts + counts

    def result(self):
        if self._label_counts is None:
            return 0.0
        per_label = np.array([self._area(c) for c in self._label_counts])
        if not self.multi_label:
            return float(per_label[0])
        if self.label_weights is None:
            return float(per_label.mean())
        return float(_safe_divide((per_label * self.label_weights).sum(), self.label_weights.sum()))

    def _area(self, counts):
        tp, fp, tn, fn = counts.T
        if self.curve == "PR" and self.summation_method == "interpolation":
            return _interpolated_pr_auc(tp, fp, fn)
        recall = _safe_divide(tp, tp + fn)
        if self.curve == "ROC":
            x, y = _safe_divide(fp, fp + tn), recall
        else:
            x, y = recall, _safe_divide(tp, tp + fp)
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2
        elif self.summation_method == "minoring":
            heights = np.minimum(y[:-1], y[1:])
        else:
            heights = np.maximum(y[:-1], y[1:])
        return float(np.sum((x[:-1] - x[1:]) * heights))

    def get_config(self):
        return {"name": self.name, "num_thresholds": self.num_thresholds, "curve": self.curve,
                "summation_method": self.summation_method, "multi_label": self.multi_label,
                "from_logits": self.from_logits}


def _interpolated_pr_auc(tp, fp, fn):
    """PR area with precision interpolated between thresholds as TP varies linearly with P = TP + FP."""
    dtp = tp[:-1] - tp[1:]
    p = tp + fp
    dp = p[:-1] - p[1:]
    slope = _safe_divide(dtp, np.maximum(dp, 0))
    intercept = tp[1:] - slope * p[1:]
    both_positive = (p[:-1] > 0) & (p[1:] > 0)
    ratio = np.where(both_positive, _safe_divide(p[:-1], np.maximum(p[1:], 0)), 1.0)
    increments = _safe_divide(slope * (dtp + intercept * np.log(ratio)), np.maximum(tp[1:] + fn[1:], 0))
    return float(np.sum(increments))


class FBetaScore(Metric):
    """F-beta per class from TP/FP/FN accumulated over the epoch (2-D inputs: (batch, classes)).

    threshold=None marks each row's maximum as the predicted class; otherwise y_pred > threshold.
    average: None (one score per class), "micro" (pooled counts), "macro" (mean over classes) or
    "weighted" (mean weighted by each class's number of true samples).
    """

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score", dtype=None):
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError(f"Invalid average: {average!r}; expected None, 'micro', 'macro' or 'weighted'")
        if not beta > 0:
            raise ValueError(f"beta must be > 0, got {beta}")
        if threshold is not None and not 0 < threshold <= 1:
            raise ValueError(f"threshold must be in (0, 1], got {threshold}")
        self.average, self.beta, self.threshold = average, float(beta), threshold
        super().__init__(name=name, dtype=dtype)

    def reset_state(self):
        self.true_positives = self.false_positives = self.false_negatives = self.intermediate_weights = 0.0

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = np.asarray(y_pred, dtype=np.float64)
        y_true = np.asarray(y_true, dtype=np.float64)
        if y_pred.ndim != 2 or y_true.shape != y_pred.shape:
            raise ValueError(f"{type(self).__name__} expects 2-D y_true and y_pred of the same shape "
                             f"(batch, classes); got {y_true.shape} and {y_pred.shape}")
        if self.threshold is None:
            predicted = (y_pred >= y_pred.max(axis=-1, keepdims=True)) & (np.abs(y_pred) > 1e-9)
        else:
            predicted = y_pred > self.threshold
        predicted = predicted.astype(np.float64)
        w = np.ones((len(y_pred), 1)) if sample_weight is None else \
            np.asarray(sample_weight, dtype=np.float64).reshape(len(y_pred), 1)
        axis = None if self.average == "micro" else 0
        self.true_positives = self.true_positives + np.sum(predicted * y_true * w, axis=axis)
        self.false_positives = self.false_positives + np.sum(predicted * (1 - y_true) * w, axis=axis)
        self.false_negatives = self.false_negatives + np.sum((1 - predicted) * y_true * w, axis=axis)
        self.intermediate_weights = self.intermediate_weights + np.sum(y_true * w, axis=axis)

    def result(self):
        eps, b2 = 1e-7, self.beta ** 2
        precision = np.asarray(self.true_positives / (self.true_positives + self.false_positives + eps))
        recall = np.asarray(self.true_positives / (self.true_positives + self.false_negatives + eps))
        score = (1 + b2) * precision * recall / (b2 * precision + recall + eps)
        if self.average == "weighted":
            weights = np.asarray(self.intermediate_weights)
            return float(np.sum(score * weights / (weights.sum() + eps)))
        if self.average is not None:
            return float(np.mean(score))
        return score

    def get_config(self):
        return {"name": self.name, "average": self.average, "beta": self.beta, "threshold": self.threshold}


class F1Score(FBetaScore):
    """FBetaScore with beta = 1."""

    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self):
        config = super().get_config()
        config.pop("beta")
        return config


class AutoAccuracy(MeanMetricWrapper):
    """'accuracy' / 'acc' in compile: binary, sparse or categorical, decided by the shapes (Keras 3)."""

    def __init__(self, name="accuracy"):
        self._chosen = None
        MeanMetricWrapper.__init__(self, self._dispatch, name=name)

    def _dispatch(self, y_true, y_pred):
        if self._chosen is None:
            self._chosen = resolve_accuracy(y_true.shape, y_pred.shape)
        return self._chosen(y_true, y_pred)


def resolve_accuracy(true_shape, pred_shape):
    if len(pred_shape) >= 1 and pred_shape[-1] == 1:
        return binary_accuracy
    if len(true_shape) < len(pred_shape) or (true_shape and true_shape[-1] == 1 and pred_shape[-1] > 1):
        return sparse_categorical_accuracy
    return categorical_accuracy


_ALL_CLASSES = (
    BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy, TopKCategoricalAccuracy,
    SparseTopKCategoricalAccuracy, MeanSquaredError, MeanAbsoluteError, RootMeanSquaredError,
    MeanAbsolutePercentageError, MeanSquaredLogarithmicError, LogCoshError, CosineSimilarity, KLDivergence, Poisson,
    Hinge, SquaredHinge, CategoricalHinge, BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy,
    Precision, Recall, AUC, F1Score, FBetaScore, TruePositives, FalsePositives, TrueNegatives, FalseNegatives,
)
# Which way is better, for callbacks that monitor a metric with mode="auto".
for _cls in (BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy, TopKCategoricalAccuracy,
             SparseTopKCategoricalAccuracy, Accuracy, AutoAccuracy, CosineSimilarity, Precision, Recall, AUC,
             FBetaScore, TruePositives, TrueNegatives):
    _cls._direction = "up"
for _cls in (MeanSquaredError, MeanAbsoluteError, RootMeanSquaredError, MeanAbsolutePercentageError,
             MeanSquaredLogarithmicError, LogCoshError, KLDivergence, Poisson, Hinge, SquaredHinge, CategoricalHinge,
             BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy, FalsePositives,
             FalseNegatives):
    _cls._direction = "down"
# Keras 3 names: the snake_case of each class plus a few short aliases.
_BY_NAME = {_snake(cls.__name__): cls for cls in _ALL_CLASSES}
_BY_NAME.update({
    "mse": MeanSquaredError, "MSE": MeanSquaredError, "mae": MeanAbsoluteError, "MAE": MeanAbsoluteError,
    "mape": MeanAbsolutePercentageError, "MAPE": MeanAbsolutePercentageError,
    "msle": MeanSquaredLogarithmicError, "MSLE": MeanSquaredLogarithmicError,
    "bce": BinaryCrossentropy, "BCE": BinaryCrossentropy, "logcosh": LogCoshError, "fbeta_score": FBetaScore,
})
_BY_NAME.update({cls.__name__: cls for cls in _ALL_CLASSES})


def register(name, cls):
    _BY_NAME[name] = cls


def get(identifier):
    """A Metric for a name (the name is kept as given, as in Keras logs), instance, class or function."""
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        if identifier in ("accuracy", "acc"):
            return AutoAccuracy(name=identifier)
        cls = _BY_NAME.get(identifier)
        if cls is None:
            raise ValueError(f"Unknown metric function: {identifier!r}. Known: "
                             f"{sorted(['accuracy', 'acc'] + list(_BY_NAME))}")
        metric = cls()
        if identifier != cls.__name__:  # a class name keeps the class's default metric name
            metric.name = identifier
        return metric
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if callable(identifier):
        return MeanMetricWrapper(identifier, name=getattr(identifier, "__name__", "metric"))
    raise ValueError(f"Could not interpret metric identifier: {identifier!r}")
