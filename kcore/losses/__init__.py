"""Losses (Keras 3 API): functions return per-sample values, Loss classes reduce them.

`get` resolves identifiers exactly as `keras.losses.get` does (a name of a function gives the function, a
class name a new Loss object); `for_compile` is what `Model.compile` uses (always a Loss object).
"""
from kcore.losses.functions import (
    BCE,
    KLD,
    MAE,
    MAPE,
    MSE,
    MSLE,
    bce,
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    categorical_hinge,
    cosine_similarity,
    hinge,
    huber,
    kl_divergence,
    kld,
    log_cosh,
    logcosh,
    mae,
    mape,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    mse,
    msle,
    poisson,
    sparse_categorical_crossentropy,
    squared_hinge,
)
from kcore.losses.loss import (
    REDUCTIONS,
    Loss,
    LossFunctionWrapper,
    reduce_loss,
    reduce_weighted_values,
    standardize_reduction,
)
from kcore.utils.registry import Registry

_TAIL = ("reduction", "name", "dtype")


class _BuiltinLoss(LossFunctionWrapper):
    """Base of the built-in Loss classes: a subclass sets `spec = (fn, default name, Keras's positional argument
    order, {fn keyword: default})` and gets Keras's constructor."""

    spec = None

    def __init__(self, *args, **kwargs):
        fn, default_name, order, defaults = self.spec
        cls = type(self).__name__
        if len(args) > len(order):
            raise TypeError(f"{cls} takes at most {len(order)} positional arguments {order}")
        for key, value in zip(order, args):
            if key in kwargs:
                raise TypeError(f"{cls} got multiple values for argument {key!r}")
            kwargs[key] = value
        unknown = sorted(set(kwargs) - set(order))
        if unknown:
            raise TypeError(f"{cls} got unexpected arguments {unknown}; it accepts {order}")
        reduction = kwargs.pop("reduction", "sum_over_batch_size")
        name, dtype = kwargs.pop("name", default_name), kwargs.pop("dtype", None)
        super().__init__(fn, reduction=reduction, name=name, dtype=dtype, **{**defaults, **kwargs})


def _reducing(class_name, fn, name=None, doc=None, order=None, **defaults):
    """A built-in Loss class reducing fn(y_true, y_pred, **defaults): Keras's positional argument order is
    `order` (default: the defaults' keys) then reduction, name, dtype; the default name is fn's."""
    order = tuple(order) if order else tuple(defaults) + _TAIL
    args = f" ({', '.join(defaults)})" if defaults else ""
    return type(class_name, (_BuiltinLoss,), {"spec": (fn, name or fn.__name__, order, defaults),
                                              "__doc__": doc or f"Reduces `{fn.__name__}`{args}.",
                                              "__module__": __name__})


(MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredLogarithmicError, LogCosh, KLDivergence,
 Poisson, Hinge, SquaredHinge, CategoricalHinge) = (_reducing(name, fn) for name, fn in (
    ("MeanSquaredError", mean_squared_error), ("MeanAbsoluteError", mean_absolute_error),
    ("MeanAbsolutePercentageError", mean_absolute_percentage_error),
    ("MeanSquaredLogarithmicError", mean_squared_logarithmic_error), ("LogCosh", log_cosh),
    ("KLDivergence", kl_divergence), ("Poisson", poisson), ("Hinge", hinge), ("SquaredHinge", squared_hinge),
    ("CategoricalHinge", categorical_hinge)))
Huber = _reducing("Huber", huber, "huber_loss", delta=1.0)
CosineSimilarity = _reducing("CosineSimilarity", cosine_similarity, axis=-1)
CategoricalCrossentropy = _reducing("CategoricalCrossentropy", categorical_crossentropy, from_logits=False,
                                    label_smoothing=0.0, axis=-1)
SparseCategoricalCrossentropy = _reducing(
    "SparseCategoricalCrossentropy", sparse_categorical_crossentropy,
    doc="Reduces `sparse_categorical_crossentropy` (from_logits, ignore_class, axis); samples labelled "
        "ignore_class leave the mean.",
    order=("from_logits", "ignore_class", "reduction", "axis", "name", "dtype"), from_logits=False,
    ignore_class=None, axis=-1)
BinaryCrossentropy = _reducing("BinaryCrossentropy", binary_crossentropy, from_logits=False, label_smoothing=0.0,
                               axis=-1)
BinaryFocalCrossentropy = _reducing("BinaryFocalCrossentropy", binary_focal_crossentropy,
                                    apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False,
                                    label_smoothing=0.0, axis=-1)
CategoricalFocalCrossentropy = _reducing("CategoricalFocalCrossentropy", categorical_focal_crossentropy, alpha=0.25,
                                         gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1)


_ALL_FUNCTIONS = (mean_squared_error, mean_absolute_error, mean_absolute_percentage_error,
                  mean_squared_logarithmic_error, huber, log_cosh, kl_divergence, poisson, cosine_similarity, hinge,
                  squared_hinge, categorical_hinge, categorical_crossentropy, sparse_categorical_crossentropy,
                  binary_crossentropy, binary_focal_crossentropy, categorical_focal_crossentropy)
_ALL_CLASSES = (Loss, LossFunctionWrapper, MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
                MeanSquaredLogarithmicError, Huber, LogCosh, KLDivergence, Poisson, CosineSimilarity, Hinge,
                SquaredHinge, CategoricalHinge, CategoricalCrossentropy, SparseCategoricalCrossentropy,
                BinaryCrossentropy, BinaryFocalCrossentropy, CategoricalFocalCrossentropy)
# Keras 3's table: class names, function names and the short aliases.
_BY_NAME = {cls.__name__: cls for cls in _ALL_CLASSES}
_BY_NAME.update({fn.__name__: fn for fn in _ALL_FUNCTIONS})
_BY_NAME.update({"mse": mean_squared_error, "MSE": mean_squared_error, "mae": mean_absolute_error,
                 "MAE": mean_absolute_error, "mape": mean_absolute_percentage_error,
                 "MAPE": mean_absolute_percentage_error, "msle": mean_squared_logarithmic_error,
                 "MSLE": mean_squared_logarithmic_error, "kld": kl_divergence, "KLD": kl_divergence,
                 "bce": binary_crossentropy, "BCE": binary_crossentropy})
_REGISTRY = Registry("loss", "keras.losses", _BY_NAME)
del _BY_NAME
# Spellings compile() keeps accepting from tf.keras (keras.losses.get rejects them, as Keras 3 does).
_COMPILE_EXTRAS = {"logcosh": log_cosh}


def register(name, fn, cls=None):
    """Adds a loss function (and its class) to the names `get` resolves."""
    _REGISTRY.register(name, fn)
    if cls is not None:
        _REGISTRY.register(cls.__name__, cls)


def serialize(loss):
    """A function's name, or {'module', 'class_name', 'config', 'registered_name'} of a Loss object."""
    if not isinstance(loss, Loss):
        return getattr(loss, "__name__", None)
    return _REGISTRY.serialize(loss)


def deserialize(config, custom_objects=None):
    """The loss a `serialize` result describes."""
    return _REGISTRY.deserialize(config, custom_objects)


def get(identifier):
    """What `keras.losses.get` returns: None for None; the function for a function's name ('mse' gives
    `mean_squared_error`); a new Loss object for a class name, a class or a config dict; a Loss object or a
    callable as given. Anything else raises ValueError."""
    return _REGISTRY.get(identifier)


def for_compile(identifier):
    """The Loss object compile() uses: functions (and names of functions) are wrapped in a LossFunctionWrapper
    named as given; None stays None (an output without a loss)."""
    loss = _COMPILE_EXTRAS[identifier] if isinstance(identifier, str) and identifier in _COMPILE_EXTRAS \
        else get(identifier)
    if loss is None or isinstance(loss, Loss):
        return loss
    name = identifier if isinstance(identifier, str) else getattr(loss, "__name__", None)
    return LossFunctionWrapper(loss, name=name)
