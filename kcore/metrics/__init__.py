"""Stateful metrics (Keras 3 API): accumulated over an epoch, reset at its start, computed on NumPy views.

`get` resolves identifiers exactly as `keras.metrics.get` does; `for_compile` is what `Model.compile` uses
(the name is kept as given, and 'accuracy' / 'acc' pick binary, sparse or categorical accuracy by shape).
"""
from kcore.losses import (
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    categorical_hinge,
    hinge,
    huber,
    kl_divergence,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    poisson,
    sparse_categorical_crossentropy,
    squared_hinge,
)
from kcore.metrics.accuracy import (
    Accuracy,
    AutoAccuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy,
    accuracy,
    binary_accuracy,
    categorical_accuracy,
    resolve_accuracy,
    sparse_categorical_accuracy,
    sparse_top_k_categorical_accuracy,
    top_k_categorical_accuracy,
)
from kcore.metrics.auc import AUC
from kcore.metrics.base import FunctionMetric, Mean, MeanMetricWrapper, Metric, Sum
from kcore.metrics.confusion import FalseNegatives, FalsePositives, Precision, Recall, TrueNegatives, TruePositives
from kcore.metrics.fscore import F1Score, FBetaScore
from kcore.metrics.regression import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    CategoricalHinge,
    CosineSimilarity,
    Hinge,
    KLDivergence,
    LogCoshError,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    Poisson,
    RootMeanSquaredError,
    SparseCategoricalCrossentropy,
    SquaredHinge,
)
from kcore.utils.naming import to_snake_case as _snake
from kcore.utils.registry import Registry

_ALL_CLASSES = (
    Metric, Mean, Sum, MeanMetricWrapper, Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
    TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy, MeanSquaredError, MeanAbsoluteError,
    RootMeanSquaredError, MeanAbsolutePercentageError, MeanSquaredLogarithmicError, LogCoshError, CosineSimilarity,
    KLDivergence, Poisson, Hinge, SquaredHinge, CategoricalHinge, BinaryCrossentropy, CategoricalCrossentropy,
    SparseCategoricalCrossentropy, Precision, Recall, AUC, F1Score, FBetaScore, TruePositives, FalsePositives,
    TrueNegatives, FalseNegatives,
)
# Which way is better, for callbacks that monitor a metric with mode="auto".
for _cls in (BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy, TopKCategoricalAccuracy,
             SparseTopKCategoricalAccuracy, Accuracy, AutoAccuracy, CosineSimilarity):
    _cls._direction = "up"
for _cls in (MeanSquaredError, MeanAbsoluteError, RootMeanSquaredError, MeanAbsolutePercentageError,
             MeanSquaredLogarithmicError, LogCoshError, KLDivergence, Poisson, Hinge, SquaredHinge, CategoricalHinge,
             BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy):
    _cls._direction = "down"

# Keras 3's table: class names, their snake_case, and the short aliases of the loss-like metrics.
_BY_NAME = {cls.__name__: cls for cls in _ALL_CLASSES}
_BY_NAME.update({_snake(cls.__name__): cls for cls in _ALL_CLASSES})
_BY_NAME.update({"bce": BinaryCrossentropy, "BCE": BinaryCrossentropy, "mse": MeanSquaredError,
                 "MSE": MeanSquaredError, "mae": MeanAbsoluteError, "MAE": MeanAbsoluteError,
                 "mape": MeanAbsolutePercentageError, "MAPE": MeanAbsolutePercentageError,
                 "msle": MeanSquaredLogarithmicError, "MSLE": MeanSquaredLogarithmicError})
# The metric functions by name (what a MeanMetricWrapper config's `fn` can name).
FUNCTIONS = {fn.__name__: fn for fn in (
    accuracy, binary_accuracy, categorical_accuracy, sparse_categorical_accuracy, top_k_categorical_accuracy,
    sparse_top_k_categorical_accuracy, binary_crossentropy, binary_focal_crossentropy, categorical_crossentropy,
    categorical_focal_crossentropy, categorical_hinge, hinge, huber, kl_divergence, log_cosh, mean_absolute_error,
    mean_absolute_percentage_error, mean_squared_error, mean_squared_logarithmic_error, poisson,
    sparse_categorical_crossentropy, squared_hinge)}
_REGISTRY = Registry("metric", "keras.metrics", _BY_NAME)
del _BY_NAME
# Spellings compile() keeps accepting from Keras 2 (keras.metrics.get rejects them, as Keras 3 does).
_COMPILE_EXTRAS = {"logcosh": LogCoshError, "fbeta_score": FBetaScore, "kld": KLDivergence, "KLD": KLDivergence}


def register(name, cls):
    """Makes `get(name)` (and compile(metrics=[name])) build `cls`."""
    _REGISTRY.register(name, cls)


def serialize(metric):
    """{'module', 'class_name', 'config', 'registered_name'} of a metric object."""
    return _REGISTRY.serialize(metric)


def deserialize(config, custom_objects=None):
    """The metric a `serialize` dict (or a bare name) describes."""
    return _REGISTRY.deserialize(config, custom_objects)


def get(identifier):
    """What `keras.metrics.get` returns: None for None; a new metric object for a name, a class or a config
    dict; a metric object or a plain function as given. Anything else raises ValueError."""
    return _REGISTRY.get(identifier)


def for_compile(identifier):
    """The Metric object compile() tracks for an identifier: a string keeps its spelling as the metric's name,
    'accuracy' / 'acc' resolve by the shapes of the data, and a plain function is averaged over samples."""
    if isinstance(identifier, str):
        if identifier in ("accuracy", "acc"):
            return AutoAccuracy(name=identifier)
        metric = _REGISTRY.get(identifier, extra=_COMPILE_EXTRAS)
        metric.name = identifier  # Keras 3: any string, a class name too ("AUC"), is the name in the logs
        return metric
    metric = get(identifier)
    if not isinstance(metric, Metric):
        metric = MeanMetricWrapper(metric, name=getattr(metric, "__name__", None) or _snake(type(metric).__name__))
    return metric
