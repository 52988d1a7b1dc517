"""F-beta and F1 scores from true/false positives and false negatives accumulated over the epoch."""
import numpy as np

from kcore.metrics.base import Metric, _numpy


class FBetaScore(Metric):
    """F-beta per class from TP/FP/FN accumulated over the epoch (2-D inputs: (batch, classes)).

    threshold=None marks each row's maximum as the predicted class; otherwise y_pred > threshold.
    average: None (one score per class), "micro" (pooled counts), "macro" (mean over classes) or
    "weighted" (mean weighted by each class's number of true samples). sample_weight: one per sample.
    """

    _direction = "up"

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score", dtype=None):
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError(f"{type(self).__name__}: Invalid average {average!r}; expected None, 'micro', "
                             f"'macro' or 'weighted'")
        if not beta > 0:
            raise ValueError(f"{type(self).__name__}: beta must be > 0, got {beta}")
        if threshold is not None and not 0 < threshold <= 1:
            raise ValueError(f"{type(self).__name__}: threshold must be in (0, 1], got {threshold}")
        self.average, self.beta, self.threshold = average, float(beta), threshold
        super().__init__(name=name, dtype=dtype)

    def reset_state(self):
        self.true_positives = self.false_positives = self.false_negatives = self.intermediate_weights = 0.0

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred, y_true = _numpy(y_pred), _numpy(y_true)
        if y_pred.ndim != 2 or y_true.shape != y_pred.shape:
            raise ValueError(f"{type(self).__name__} expects 2-D y_true and y_pred of the same shape "
                             f"(batch, classes); got {y_true.shape} and {y_pred.shape}")
        if self.threshold is None:
            predicted = (y_pred >= y_pred.max(axis=-1, keepdims=True)) & (np.abs(y_pred) > 1e-9)
        else:
            predicted = y_pred > self.threshold
        predicted = predicted.astype(np.float64)
        if sample_weight is None:
            w = np.ones((len(y_pred), 1))
        else:
            w = _numpy(sample_weight)
            if w.shape != (len(y_pred),):
                raise ValueError(f"{type(self).__name__}: sample_weight must have shape ({len(y_pred)},) (one "
                                 f"weight per sample), got {w.shape}")
            w = w[:, None]
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
        return {**super().get_config(), "average": self.average, "beta": self.beta, "threshold": self.threshold}


class F1Score(FBetaScore):
    """FBetaScore with beta = 1."""

    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self):
        config = super().get_config()
        config.pop("beta")
        return config
