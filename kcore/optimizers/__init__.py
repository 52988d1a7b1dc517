"""Optimizers with Keras 3 defaults and update rules (fused native updates)."""
from kcore.optimizers import schedules
from kcore.optimizers.adam import Adam
from kcore.optimizers.base import Optimizer
from kcore.optimizers.others import Adadelta, Adagrad, Adamax, AdamW, Nadam, RMSprop
from kcore.optimizers.sgd import SGD

_BY_NAME = {"sgd": SGD, "adam": Adam, "rmsprop": RMSprop, "adagrad": Adagrad, "adadelta": Adadelta,
            "nadam": Nadam, "adamax": Adamax, "adamw": AdamW}


def register(name, cls):
    _BY_NAME[name] = cls


def get(identifier):
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        cls = _BY_NAME.get(identifier.lower())
        if cls is None:
            raise ValueError(f"Unknown optimizer: {identifier!r}. Known optimizers: {sorted(_BY_NAME)}")
        return cls()
    if isinstance(identifier, dict):
        cls = _BY_NAME.get(identifier["class_name"].lower())
        if cls is None:
            raise ValueError(f"Unknown optimizer config: {identifier!r}")
        return cls.from_config(identifier.get("config", {}))
    if isinstance(identifier, type) and issubclass(identifier, Optimizer):
        return identifier()
    raise ValueError(f"Could not interpret optimizer identifier: {identifier!r}")
