"""Optimizers with Keras 3 defaults and update rules (fused native updates)."""
from kcore.optimizers import schedules
from kcore.optimizers.adam import Adam
from kcore.optimizers.base import Optimizer
from kcore.optimizers.others import Adadelta, Adagrad, Adamax, AdamW, Lion, Nadam, RMSprop
from kcore.optimizers.sgd import SGD
from kcore.utils.registry import Registry

_REGISTRY = Registry("optimizer", "keras.optimizers", {
    "sgd": SGD, "adam": Adam, "rmsprop": RMSprop, "adagrad": Adagrad, "adadelta": Adadelta, "nadam": Nadam,
    "adamax": Adamax, "adamw": AdamW, "lion": Lion}, fold_case=True)


def register(name, cls):
    """Makes `get(name)` (names are case-insensitive) build `cls`."""
    _REGISTRY.register(name, cls)


def get(identifier):
    """An optimizer for a name ("adam"), a config dict, an instance (returned as is) or a class; None gives None
    (as in Keras 3); anything else raises ValueError."""
    if identifier is None:
        return None
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        cls = _REGISTRY.lookup(identifier)
        if cls is None:
            raise ValueError(f"Could not interpret optimizer identifier: {identifier}. Known optimizers: "
                             f"{_REGISTRY.names()}")
        return cls()
    if isinstance(identifier, dict):
        cls = _REGISTRY.lookup(str(identifier.get("class_name", "")))
        if cls is None:
            raise ValueError(f"Unknown optimizer config: {identifier!r}")
        return cls.from_config(identifier.get("config", {}))
    if isinstance(identifier, type) and issubclass(identifier, Optimizer):
        return identifier()
    raise ValueError(f"Could not interpret optimizer identifier: {identifier}")
