"""Area under the ROC or precision-recall curve from confusion counts at fixed thresholds."""
import numpy as np

from kcore.metrics.base import Metric, _numpy
from kcore.metrics.confusion import _check_thresholds, _prepare, _safe_divide, _weights_like, confusion_counts


class AUC(Metric):
    """Area under the ROC or PR curve from confusion counts at `num_thresholds` thresholds.

    Thresholds are evenly spaced inside (0, 1) plus -eps and 1+eps end points (or the given `thresholds`
    between those end points). The ROC curve uses the trapezoid rule (summation_method="interpolation");
    PR with "interpolation" integrates precision assuming it varies hyperbolically between thresholds
    (Davis & Goadrich, 2006). "minoring" / "majoring" take Riemann sums with the lower / upper height.
    multi_label=True computes one curve per label (last axis) and averages them, weighted by
    `label_weights`; otherwise all labels are pooled, each entry weighted by its label's weight.
    """

    _direction = "up"

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation", name="auc", dtype=None,
                 thresholds=None, multi_label=False, num_labels=None, label_weights=None, from_logits=False):
        self.curve, self.summation_method = str(curve).upper(), str(summation_method).lower()
        if self.curve not in ("ROC", "PR"):
            raise ValueError(f"AUC: Invalid curve {curve!r}; expected 'ROC' or 'PR'")
        if self.summation_method not in ("interpolation", "minoring", "majoring"):
            raise ValueError(f"AUC: Invalid summation_method {summation_method!r}; expected 'interpolation', "
                             f"'minoring' or 'majoring'")
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            inner = sorted(float(t) for t in thresholds)
            _check_thresholds(inner, "AUC")
        else:
            if num_thresholds <= 1:
                raise ValueError(f"AUC: num_thresholds must be > 1, got {num_thresholds}")
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        self.thresholds = [-1e-7] + inner + [1.0 + 1e-7]
        self.num_thresholds = len(self.thresholds)
        self.multi_label, self.num_labels, self.from_logits = multi_label, num_labels, from_logits
        self.label_weights = None if label_weights is None else _numpy(label_weights)
        super().__init__(name=name, dtype=dtype)

    def reset_state(self):
        self._label_counts = None  # (labels, thresholds, 4) once the data was seen; labels = 1 if not multi_label

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = _prepare(y_true, y_pred, "AUC")
        if self.from_logits:
            y_pred = 1.0 / (1.0 + np.exp(-y_pred))
        if y_pred.size and (y_pred.min() < 0 or y_pred.max() > 1):
            raise ValueError("AUC expects predictions in [0, 1]; pass from_logits=True for logits")
        weights = _weights_like(sample_weight, y_pred, "AUC")
        if self.label_weights is not None and self.label_weights.shape != (y_pred.shape[-1],):
            raise ValueError(f"AUC: label_weights has shape {self.label_weights.shape} but y_pred of shape "
                             f"{y_pred.shape} has {y_pred.shape[-1]} labels on its last axis")
        if self.multi_label:
            cols = y_pred.shape[-1]
            t, p, w = (a.reshape(-1, cols) for a in (y_true, y_pred, weights))
            counts = np.stack([confusion_counts(t[:, j], p[:, j], self.thresholds, w[:, j]) for j in range(cols)])
        else:
            if self.label_weights is not None:
                weights = weights * self.label_weights  # each entry weighted by its label's weight
            counts = confusion_counts(y_true, y_pred, self.thresholds, weights)[None]
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
        config = {**super().get_config(), "num_thresholds": self.num_thresholds, "curve": self.curve,
                  "summation_method": self.summation_method, "multi_label": self.multi_label,
                  "num_labels": self.num_labels,
                  "label_weights": None if self.label_weights is None else self.label_weights.tolist(),
                  "from_logits": self.from_logits}
        if self._init_from_thresholds:
            config["thresholds"] = self.thresholds[1:-1]
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if config.get("thresholds") is not None:
            config.pop("num_thresholds", None)  # derived from the thresholds
        return cls(**config)


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
