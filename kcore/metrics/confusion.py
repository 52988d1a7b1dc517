"""Confusion-matrix metrics: TP/FP/TN/FN counts per threshold accumulated over the epoch, and what is
computed from them (precision, recall, the counts themselves, AUC)."""
import numpy as np

from kcore.metrics.base import Metric, _numpy


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


def _check_thresholds(values, owner):
    for t in values:
        if not 0.0 <= t <= 1.0 and np.isfinite(t):
            raise ValueError(f"{owner}: Threshold values must be in [0, 1]. Received: {t}")


def _weights_like(sample_weight, y_pred, owner):
    """Sample weights broadcast onto the predictions ((N,), (N, 1) and per-element weights all work)."""
    if sample_weight is None:
        return np.ones_like(y_pred)
    w = _numpy(sample_weight)
    while w.ndim > y_pred.ndim and w.shape[-1] == 1:
        w = w[..., 0]
    w = w.reshape(w.shape + (1,) * max(0, y_pred.ndim - w.ndim))
    try:
        return np.broadcast_to(w, y_pred.shape)
    except ValueError:
        raise ValueError(f"{owner}: sample_weight of shape {w.shape} cannot be broadcast to y_pred of shape "
                         f"{y_pred.shape}") from None


def _prepare(y_true, y_pred, owner):
    y_pred = _numpy(y_pred)
    y_true = _numpy(y_true)
    if y_true.size == y_pred.size:
        y_true = y_true.reshape(y_pred.shape)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"{owner}: y_true of shape {y_true.shape} does not match y_pred of shape {y_pred.shape}")
    return y_true, y_pred


def confusion_counts(y_true, y_pred, thresholds, weights):
    """Weighted TP, FP, TN, FN per threshold (a prediction counts as positive when > threshold)."""
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
        _check_thresholds(self.thresholds, type(self).__name__)
        self.init_thresholds, self.top_k, self.class_id = thresholds, top_k, class_id
        super().__init__(name=name, dtype=dtype)

    def reset_state(self):
        self.counts = np.zeros((len(self.thresholds), 4))  # TP, FP, TN, FN

    def update_state(self, y_true, y_pred, sample_weight=None):
        owner = type(self).__name__
        y_true, y_pred = _prepare(y_true, y_pred, owner)
        weights = _weights_like(sample_weight, y_pred, owner)
        if self.top_k is not None:
            y_pred = _keep_top_k(y_pred, self.top_k)
        if self.class_id is not None:
            y_true, y_pred, weights = y_true[..., self.class_id], y_pred[..., self.class_id], \
                weights[..., self.class_id]
        self.counts += confusion_counts(y_true, y_pred, self.thresholds, weights)

    def _value(self):
        raise NotImplementedError

    def result(self):
        values = self._value()
        return float(values[0]) if self._single else values

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds, "top_k": self.top_k,
                "class_id": self.class_id}


# The four weighted counts per threshold, as read-only properties (columns of `counts`).
for _column, _kind in enumerate(("true_positives", "false_positives", "true_negatives", "false_negatives")):
    setattr(_ConfusionMetric, _kind, property(lambda self, column=_column: self.counts[:, column],
                                              doc=f"The weighted {_kind.replace('_', ' ')} per threshold."))


class _Ratio(_ConfusionMetric):
    """TP / (TP + <the `_other` count>) per threshold; 0 while the denominator is 0 (Precision, Recall)."""

    _direction, _other = "up", None

    def _value(self):
        return _safe_divide(self.true_positives, self.true_positives + getattr(self, self._other))


class Precision(_Ratio):
    """TP / (TP + FP) over the epoch; 0 while nothing was predicted positive."""

    _other = "false_positives"


class Recall(_Ratio):
    """TP / (TP + FN) over the epoch; 0 while there were no positives."""

    _other = "false_negatives"


class _Count(_ConfusionMetric):
    """The weighted number of one kind of outcome over the epoch (threshold 0.5 by default)."""

    column = None

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(thresholds, None, None, name, dtype)

    def _value(self):
        return self.counts[:, self.column]

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "thresholds": self.init_thresholds}


class TruePositives(_Count):
    """Weighted count of positives predicted positive (y_pred > threshold)."""

    column, _direction = 0, "up"


class FalsePositives(_Count):
    """Weighted count of negatives predicted positive (y_pred > threshold)."""

    column, _direction = 1, "down"


class TrueNegatives(_Count):
    """Weighted count of negatives predicted negative (y_pred <= threshold)."""

    column, _direction = 2, "up"


class FalseNegatives(_Count):
    """Weighted count of positives predicted negative (y_pred <= threshold)."""

    column, _direction = 3, "down"
