"""Optimizer base: learning-rate schedules, legacy lr/decay, gradient clipping, slots, constraints."""
import math

import numpy as np

from kcore.backend.native import _C, ReduceOp, UnaryOp
from kcore.backend.tensor import Tensor


class Optimizer:
    """Subclasses define `_slot_names` and `_update(var, grad, slots, lr)` (one fused native call)."""

    _slot_names = ()

    def __init__(self, learning_rate=0.001, weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 use_ema=False, name=None, lr=None, decay=0.0, **kwargs):
        kwargs.pop("ema_momentum", None), kwargs.pop("ema_overwrite_frequency", None)
        kwargs.pop("loss_scale_factor", None), kwargs.pop("gradient_accumulation_steps", None)
        if kwargs:
            raise ValueError(f"Argument(s) not recognized by {type(self).__name__}: {kwargs}")
        if lr is not None:  # Keras 2 spelling
            learning_rate = lr
        if sum(c is not None for c in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError("Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set")
        if decay is None or decay < 0:
            raise ValueError(f"decay must be >= 0, got {decay}")
        self._learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.clipnorm, self.clipvalue, self.global_clipnorm = clipnorm, clipvalue, global_clipnorm
        self.decay = float(decay)
        self.name = name or type(self).__name__.lower()
        self.iterations = 0
        self._slots = {}  # id(variable) -> list of native tensors
        self._tracked = []  # variables in the order their slots were created

    # -- learning rate -------------------------------------------------------------------------
    @property
    def learning_rate(self):
        lr = self._learning_rate
        if callable(lr):
            lr = lr(self.iterations)
        lr = float(lr)
        if self.decay:
            lr = lr / (1.0 + self.decay * self.iterations)
        return lr

    @learning_rate.setter
    def learning_rate(self, value):
        self._learning_rate = value

    lr = learning_rate

    # -- slots ------------------------------------------------------------------------------------
    def build(self, variables):
        for var in variables:
            if id(var) not in self._slots:
                self._slots[id(var)] = [self._new_slot(var, name) for name in self._slot_names]
                self._tracked.append(var)

    def _new_slot(self, var, name):
        return _C.zeros(list(var.value.shape), var.dtype)

    @property
    def variables(self):
        """[iterations, learning_rate, slots of each variable in order] as NumPy arrays (for saving)."""
        out = [np.array(self.iterations, dtype=np.int64), np.array(self.learning_rate, dtype=np.float32)]
        for var in self._tracked:
            out.extend(np.array(s) for s in self._slots[id(var)])
        return out

    def set_state(self, values, variables):
        """Restores `variables` from `self.variables`-style arrays (after build)."""
        self.build(variables)
        self.iterations = int(values[0])
        it = iter(values[2:])
        for var in variables:
            for slot in self._slots[id(var)]:
                np.asarray(slot)[...] = next(it)

    # -- applying -----------------------------------------------------------------------------------
    def apply_gradients(self, grads_and_vars):
        pairs = [(g, v) for g, v in grads_and_vars if g is not None]
        self.apply([g for g, _ in pairs], [v for _, v in pairs])

    def apply(self, grads, variables):
        variables = list(variables)
        grads = [g.value if isinstance(g, Tensor) else _C.from_numpy(np.asarray(g, dtype=v.dtype, order="C"))
                 for g, v in zip(grads, variables)]
        if not variables:
            return
        self.build(variables)
        grads = self._clip(grads)
        lr = self.learning_rate
        self.iterations += 1
        for g, var in zip(grads, variables):
            if self.weight_decay:
                var.value.copy_from(_C.scale(var.value, 1.0 - lr * float(self.weight_decay)))
            self._update(var, g, self._slots[id(var)], lr)
            if var.constraint is not None:
                _apply_constraint(var)

    def _clip(self, grads):
        if self.clipvalue is not None:
            c = float(self.clipvalue)
            return [_C.clip(g, -c, c) for g in grads]
        if self.clipnorm is not None:
            return [_scale_to_norm(g, _norm(g), float(self.clipnorm)) for g in grads]
        if self.global_clipnorm is not None:
            total = math.sqrt(sum(_norm(g) ** 2 for g in grads))
            return [_scale_to_norm(g, total, float(self.global_clipnorm)) for g in grads]
        return grads

    def _update(self, var, grad, slots, lr):
        raise NotImplementedError

    def get_config(self):
        lr = self._learning_rate
        return {"name": self.name, "learning_rate": lr if not callable(lr) else lr.get_config(),
                "weight_decay": self.weight_decay, "clipnorm": self.clipnorm, "clipvalue": self.clipvalue,
                "global_clipnorm": self.global_clipnorm}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _norm(g):
    return math.sqrt(float(np.asarray(_C.reduce(ReduceOp.sum, _C.unary(UnaryOp.square, g, 0.0), [], False))))


def _scale_to_norm(g, norm, max_norm):
    return _C.scale(g, max_norm / norm) if norm > max_norm else g


def _apply_constraint(var):
    c = var.constraint
    if hasattr(c, "apply"):
        c.apply(var)
    else:
        var.assign(np.asarray(c(var)))
