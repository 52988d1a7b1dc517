"""Constraints projected onto a weight after each optimizer update."""
import numpy as np

from kcore.utils.registry import Configurable, Registry


class Constraint(Configurable):
    """Base of weight constraints: `__call__(w)` returns the projected NumPy weight (identity here)."""

    def __call__(self, w):
        return w

    def apply(self, variable):
        variable.assign(self(variable.numpy()))


def _norms(w, axis):
    return np.sqrt(np.sum(np.square(w), axis=axis, keepdims=True))


class MaxNorm(Constraint):
    """Rescales each weight slice along `axis` whose L2 norm exceeds max_value down to max_value."""

    def __init__(self, max_value=2, axis=0):
        self.max_value, self.axis = max_value, axis

    def __call__(self, w):
        w = np.asarray(w)
        norms = _norms(w, self.axis)
        desired = np.clip(norms, 0, self.max_value)
        return w * (desired / (1e-7 + norms))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    """Sets negative weights to zero."""

    def __call__(self, w):
        w = np.asarray(w)
        return w * (w >= 0)


class UnitNorm(Constraint):
    """Rescales each weight slice along `axis` to unit L2 norm."""

    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w):
        w = np.asarray(w)
        return w / (1e-7 + _norms(w, self.axis))

    def get_config(self):
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """Moves each slice norm along `axis` toward [min_value, max_value] at `rate` (1 = all the way)."""

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value, self.max_value, self.rate, self.axis = min_value, max_value, rate, axis

    def __call__(self, w):
        w = np.asarray(w)
        norms = _norms(w, self.axis)
        desired = self.rate * np.clip(norms, self.min_value, self.max_value) + (1 - self.rate) * norms
        return w * (desired / (1e-7 + norms))

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate, "axis": self.axis}


_REGISTRY = Registry("constraint", "keras.constraints", {
    "max_norm": MaxNorm, "non_neg": NonNeg, "unit_norm": UnitNorm, "min_max_norm": MinMaxNorm,
    "MaxNorm": MaxNorm, "NonNeg": NonNeg, "UnitNorm": UnitNorm, "MinMaxNorm": MinMaxNorm})


def get(identifier):
    """What `keras.constraints.get` returns: None for None; a new constraint for a name, class or config dict;
    a constraint or callable as given. Anything else raises ValueError."""
    return _REGISTRY.get(identifier)


def serialize(c):
    """A constraint's {'module', 'class_name', 'config', 'registered_name'} dict (None for None)."""
    return _REGISTRY.serialize(c)
