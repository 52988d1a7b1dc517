"""Weight penalties added to the training loss: L1 = l1 sum|w|, L2 = l2 sum w^2 (no 1/2)."""
import numpy as np

from kcore import ops
from kcore.utils.registry import Configurable, Registry


class Regularizer(Configurable):
    """Base of weight penalties: `__call__(x)` returns the penalty added to the loss (0 here)."""

    def __call__(self, x):
        return 0.0


def _float32(value):
    """L1's factor as Keras 3 writes it in configs: L1 (only) holds it as a float32 tensor, so 0.01 reads back
    0.009999999776..."""
    return float(np.float32(value))


class L1L2(Regularizer):
    """l1 * sum(|x|) + l2 * sum(x ** 2)."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1, self.l2 = float(l1), float(l2)

    def __call__(self, x):
        total = None
        if self.l1:
            total = ops.multiply(ops.sum(ops.abs(x)), self.l1)
        if self.l2:
            term = ops.multiply(ops.sum(ops.square(x)), self.l2)
            total = term if total is None else ops.add(total, term)
        return total if total is not None else ops.multiply(ops.sum(x), 0.0)

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    """l1 * sum(|x|)."""

    def __init__(self, l1=0.01):
        super().__init__(l1=l1)

    def get_config(self):
        return {"l1": _float32(self.l1)}


class L2(L1L2):
    """l2 * sum(x ** 2) (no 1/2 factor, as Keras)."""

    def __init__(self, l2=0.01):
        super().__init__(l2=l2)

    def get_config(self):
        return {"l2": self.l2}


def l1_l2(l1=0.01, l2=0.01):
    """An L1L2 regularizer (both factors 0.01 by default)."""
    return L1L2(l1, l2)


# Keras 3's names, plus tf.keras's "l1_l2" (= l1_l2(): 0.01 each; Keras 3 spells L1L2() as "l1l2").
_REGISTRY = Registry("regularizer", "keras.regularizers",
                     {"l1": L1, "l2": L2, "l1l2": L1L2, "L1": L1, "L2": L2, "L1L2": L1L2})


def get(identifier):
    """What `keras.regularizers.get` returns: None for None; a new regularizer for a name, class or config
    dict; a regularizer or callable as given. Anything else raises ValueError."""
    if identifier == "l1_l2":
        return l1_l2()
    return _REGISTRY.get(identifier)


def serialize(reg):
    """A regularizer's {'module', 'class_name', 'config', 'registered_name'} dict (None for None)."""
    return _REGISTRY.serialize(reg)
