"""Metrics that average a loss function over samples (Keras 3's regression, probabilistic and hinge metrics)."""
import numpy as np

from kcore import losses
from kcore.metrics.base import FunctionMetric, Mean, _numpy, match_ranks


def cosine_similarity(y_true, y_pred, axis=-1):
    """sum(l2_normalize(y_true) * l2_normalize(y_pred)) along `axis` (+1 for identical directions)."""
    def unit(v):
        return v / np.sqrt(np.maximum(np.sum(v * v, axis=axis, keepdims=True), 1e-12))

    y_true, y_pred = match_ranks(_numpy(y_true), _numpy(y_pred))
    return np.sum(unit(y_true) * unit(y_pred), axis=axis)


class MeanSquaredError(FunctionMetric):
    """Mean of `losses.mean_squared_error` over samples."""

    spec = (losses.mean_squared_error, "mean_squared_error", {})


class MeanAbsoluteError(FunctionMetric):
    """Mean of `losses.mean_absolute_error` over samples."""

    spec = (losses.mean_absolute_error, "mean_absolute_error", {})


class MeanAbsolutePercentageError(FunctionMetric):
    """Mean of `losses.mean_absolute_percentage_error` over samples."""

    spec = (losses.mean_absolute_percentage_error, "mean_absolute_percentage_error", {})


class MeanSquaredLogarithmicError(FunctionMetric):
    """Mean of `losses.mean_squared_logarithmic_error` over samples."""

    spec = (losses.mean_squared_logarithmic_error, "mean_squared_logarithmic_error", {})


class LogCoshError(FunctionMetric):
    """Mean of `losses.log_cosh` over samples (Keras names it 'logcosh')."""

    spec = (losses.log_cosh, "logcosh", {})


class CosineSimilarity(FunctionMetric):
    """Mean cosine similarity between y_true and y_pred along `axis` (+1 = same direction)."""

    spec = (cosine_similarity, "cosine_similarity", {"axis": -1})


class RootMeanSquaredError(Mean):
    """sqrt of the weighted mean of the squared errors (element by element, Keras's weight rules)."""

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = match_ranks(_numpy(y_true), _numpy(y_pred))
        super().update_state(np.square(y_pred - y_true), sample_weight)

    def result(self):
        return float(np.sqrt(super().result()))


class KLDivergence(FunctionMetric):
    """Mean of `losses.kl_divergence` over samples."""

    spec = (losses.kl_divergence, "kl_divergence", {})


class Poisson(FunctionMetric):
    """Mean of `losses.poisson` over samples."""

    spec = (losses.poisson, "poisson", {})


class Hinge(FunctionMetric):
    """Mean of `losses.hinge` over samples."""

    spec = (losses.hinge, "hinge", {})


class SquaredHinge(FunctionMetric):
    """Mean of `losses.squared_hinge` over samples."""

    spec = (losses.squared_hinge, "squared_hinge", {})


class CategoricalHinge(FunctionMetric):
    """Mean of `losses.categorical_hinge` over samples."""

    spec = (losses.categorical_hinge, "categorical_hinge", {})


class BinaryCrossentropy(FunctionMetric):
    """Mean of `losses.binary_crossentropy` over samples."""

    spec = (losses.binary_crossentropy, "binary_crossentropy", {"from_logits": False, "label_smoothing": 0})


class CategoricalCrossentropy(FunctionMetric):
    """Mean of `losses.categorical_crossentropy` over samples."""

    spec = (losses.categorical_crossentropy, "categorical_crossentropy",
            {"from_logits": False, "label_smoothing": 0, "axis": -1})


class SparseCategoricalCrossentropy(FunctionMetric):
    """Mean of `losses.sparse_categorical_crossentropy` over samples; with weights, samples labelled
    `ignore_class` drop out of the mean (without weights they count as 0, as in Keras)."""

    spec = (losses.sparse_categorical_crossentropy, "sparse_categorical_crossentropy",
            {"from_logits": False, "ignore_class": None, "axis": -1})
