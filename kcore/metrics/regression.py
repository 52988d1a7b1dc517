"""Metrics that average a loss function over samples (Keras 3's regression, probabilistic and hinge metrics)."""
import numpy as np

from kcore import losses
from kcore.metrics.base import Mean, _numpy, function_metric, match_ranks


def cosine_similarity(y_true, y_pred, axis=-1):
    """sum(l2_normalize(y_true) * l2_normalize(y_pred)) along `axis` (+1 for identical directions)."""
    def unit(v):
        return v / np.sqrt(np.maximum(np.sum(v * v, axis=axis, keepdims=True), 1e-12))

    y_true, y_pred = match_ranks(_numpy(y_true), _numpy(y_pred))
    return np.sum(unit(y_true) * unit(y_pred), axis=axis)


(MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredLogarithmicError, KLDivergence, Poisson,
 Hinge, SquaredHinge, CategoricalHinge) = (function_metric(name, fn) for name, fn in (
    ("MeanSquaredError", losses.mean_squared_error), ("MeanAbsoluteError", losses.mean_absolute_error),
    ("MeanAbsolutePercentageError", losses.mean_absolute_percentage_error),
    ("MeanSquaredLogarithmicError", losses.mean_squared_logarithmic_error), ("KLDivergence", losses.kl_divergence),
    ("Poisson", losses.poisson), ("Hinge", losses.hinge), ("SquaredHinge", losses.squared_hinge),
    ("CategoricalHinge", losses.categorical_hinge)))
LogCoshError = function_metric("LogCoshError", losses.log_cosh, "logcosh",
                               "Mean of `losses.log_cosh` over samples (Keras names it 'logcosh').")
CosineSimilarity = function_metric(
    "CosineSimilarity", cosine_similarity, axis=-1,
    doc="Mean cosine similarity between y_true and y_pred along `axis` (+1 = same direction).")
BinaryCrossentropy = function_metric("BinaryCrossentropy", losses.binary_crossentropy, from_logits=False,
                                     label_smoothing=0)
CategoricalCrossentropy = function_metric("CategoricalCrossentropy", losses.categorical_crossentropy,
                                          from_logits=False, label_smoothing=0, axis=-1)
SparseCategoricalCrossentropy = function_metric(
    "SparseCategoricalCrossentropy", losses.sparse_categorical_crossentropy, from_logits=False, ignore_class=None,
    axis=-1, doc="Mean of `losses.sparse_categorical_crossentropy` over samples; with weights, samples labelled "
                 "`ignore_class` drop out of the mean (without weights they count as 0, as in Keras).")


class RootMeanSquaredError(Mean):
    """sqrt of the weighted mean of the squared errors (element by element, Keras's weight rules)."""

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = match_ranks(_numpy(y_true), _numpy(y_pred))
        super().update_state(np.square(y_pred - y_true), sample_weight)

    def result(self):
        return float(np.sqrt(super().result()))
