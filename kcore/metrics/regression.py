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


def _mean_of(class_name, fn, name=None, doc=None, **defaults):
    """A FunctionMetric class: the sample-weighted mean of fn(y_true, y_pred, **defaults), named `name`
    (fn's name by default)."""
    doc = doc or f"Mean of `losses.{fn.__name__}` over samples."
    return type(class_name, (FunctionMetric,), {"spec": (fn, name or fn.__name__, defaults), "__doc__": doc,
                                                "__module__": __name__})


(MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredLogarithmicError, KLDivergence, Poisson,
 Hinge, SquaredHinge, CategoricalHinge) = (_mean_of(name, fn) for name, fn in (
    ("MeanSquaredError", losses.mean_squared_error), ("MeanAbsoluteError", losses.mean_absolute_error),
    ("MeanAbsolutePercentageError", losses.mean_absolute_percentage_error),
    ("MeanSquaredLogarithmicError", losses.mean_squared_logarithmic_error), ("KLDivergence", losses.kl_divergence),
    ("Poisson", losses.poisson), ("Hinge", losses.hinge), ("SquaredHinge", losses.squared_hinge),
    ("CategoricalHinge", losses.categorical_hinge)))
LogCoshError = _mean_of("LogCoshError", losses.log_cosh, "logcosh",
                        "Mean of `losses.log_cosh` over samples (Keras names it 'logcosh').")
CosineSimilarity = _mean_of("CosineSimilarity", cosine_similarity, axis=-1,
                            doc="Mean cosine similarity between y_true and y_pred along `axis` (+1 = same direction).")
BinaryCrossentropy = _mean_of("BinaryCrossentropy", losses.binary_crossentropy, from_logits=False, label_smoothing=0)
CategoricalCrossentropy = _mean_of("CategoricalCrossentropy", losses.categorical_crossentropy, from_logits=False,
                                   label_smoothing=0, axis=-1)
SparseCategoricalCrossentropy = _mean_of(
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
