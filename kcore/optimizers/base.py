"""Optimizer base: learning-rate schedules, legacy lr/decay, gradient clipping, slots, constraints."""
import math
import re

import numpy as np

from kcore.backend.device import to_device
from kcore.backend.native import _C, BinaryOp, ReduceOp, UnaryOp
from kcore.backend.tensor import Tensor
from kcore.optimizers.schedules import LearningRateSchedule

# Tags of the non-slot per-variable state in _state_layout (objects, so no slot name can collide with them).
_AVERAGE, _ACCUMULATED = object(), object()


def _float32_rate(value):
    """A numeric learning rate as Keras holds it, in a float32 variable (0.001 reads back 0.0010000000474974513, in
    configs too); a serialized schedule (a config dict) is rebuilt; schedules and callables unchanged."""
    if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
        return float(np.float32(value))
    if isinstance(value, dict):
        from kcore.optimizers.schedules import deserialize

        return deserialize(value)
    return value


class Optimizer:
    """Subclasses define `_slot_names` and `_update(var, grad, slots, lr)` (one fused native call)."""

    _slot_names = ()

    def __init__(self, learning_rate=0.001, weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, lr=None, decay=0.0, **kwargs):
        if kwargs:
            raise ValueError(f"Argument(s) not recognized by {type(self).__name__}: {kwargs}")
        if lr is not None:  # Keras 2 spelling
            learning_rate = lr
        if sum(c is not None for c in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError("Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set")
        if decay is None or decay < 0:
            raise ValueError(f"decay must be >= 0, got {decay}")
        if use_ema:
            if not 0 <= ema_momentum <= 1:
                raise ValueError(f"`ema_momentum` must be in the range [0, 1]. Received: ema_momentum={ema_momentum}")
            if ema_overwrite_frequency is not None and (not isinstance(ema_overwrite_frequency, int)
                                                        or ema_overwrite_frequency < 1):
                raise ValueError("`ema_overwrite_frequency` must be an integer >= 1 or None. Received: "
                                 f"ema_overwrite_frequency={ema_overwrite_frequency}")
        if gradient_accumulation_steps and (not isinstance(gradient_accumulation_steps, (int, np.integer))
                                            or gradient_accumulation_steps < 2):
            raise ValueError("`gradient_accumulation_steps` must be an integer >= 2. Received: "
                             f"gradient_accumulation_steps={gradient_accumulation_steps!r}")
        if loss_scale_factor is not None and not (isinstance(loss_scale_factor, (int, float, np.number))
                                                  and math.isfinite(loss_scale_factor) and loss_scale_factor > 0):
            raise ValueError(f"`loss_scale_factor` must be a positive finite number or None. Received: "
                             f"loss_scale_factor={loss_scale_factor!r}")
        self.loss_scale_factor = loss_scale_factor
        self.gradient_accumulation_steps = int(gradient_accumulation_steps) if gradient_accumulation_steps else None
        self._accumulators = {}  # id(variable) -> native tensor: gradients summed since the last update
        self.use_ema, self.ema_momentum = bool(use_ema), float(ema_momentum)
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self._averages = {}  # id(variable) -> native tensor: the moving average of the variable (use_ema)
        self._no_decay_ids, self._no_decay_pattern = set(), None
        self._learning_rate = _float32_rate(learning_rate)
        self.weight_decay = weight_decay
        self.clipnorm, self.clipvalue, self.global_clipnorm = clipnorm, clipvalue, global_clipnorm
        self.decay = float(decay)
        self.name = name or type(self).__name__.lower()
        self._iterations = 0  # calls of apply (Keras's `_iterations`, the saved count); see `iterations`
        self._step = 0  # `iterations` as of the update being applied (read by the update rules)
        self._slots = {}  # id(variable) -> list of native tensors
        self._tracked = []  # variables in the order their slots were created

    @property
    def iterations(self):
        """Optimizer steps taken: calls of `apply`, or with gradient accumulation the updates made (calls //
        gradient_accumulation_steps), as Keras 3 counts them. Inside an update it already counts that update."""
        steps = self.gradient_accumulation_steps
        return self._iterations // steps if steps else self._iterations

    @iterations.setter
    def iterations(self, value):
        self._iterations = int(value) * (self.gradient_accumulation_steps or 1)

    # -- learning rate -------------------------------------------------------------------------
    @property
    def learning_rate(self):
        """The rate of the next step: a schedule gets the step count, any other callable is called with no
        arguments (Keras 3)."""
        lr = self._learning_rate
        if isinstance(lr, LearningRateSchedule):
            lr = lr(self._iterations)  # Keras 3 gives schedules the count of apply calls
        elif callable(lr):
            lr = lr()
        lr = float(lr)
        if self.decay:
            lr = lr / (1.0 + self.decay * self._iterations)
        return lr

    @learning_rate.setter
    def learning_rate(self, value):
        if isinstance(self._learning_rate, LearningRateSchedule) and not callable(value):
            raise TypeError("This optimizer was created with a `LearningRateSchedule` object as its `learning_rate` "
                            "constructor argument, hence its learning rate is not settable. If you need the learning "
                            "rate to be settable, you should instantiate the optimizer with a float `learning_rate` "
                            "argument.")
        self._learning_rate = _float32_rate(value)

    lr = learning_rate

    # -- slots ------------------------------------------------------------------------------------
    def build(self, variables):
        for var in variables:
            if id(var) not in self._slots:
                self._slots[id(var)] = [self._new_slot(var, name) for name in self._slot_names]
                if self.use_ema:
                    self._averages[id(var)] = _C.zeros(list(var.value.shape), var.dtype, var.value.device)
                if self.gradient_accumulation_steps:
                    self._accumulators[id(var)] = _C.zeros(list(var.value.shape), var.dtype, var.value.device)
                self._tracked.append(var)

    def _new_slot(self, var, name):
        return _C.zeros(list(var.value.shape), var.dtype, var.value.device)

    def _slot_blocks(self):
        """The slots in Keras's saved order: groups of slot names, one group after the other over all variables, a
        variable's slots of one group side by side (Keras builds each group with one add_optimizer_variables)."""
        return (self._slot_names,)

    def _state_layout(self, variables):
        """(variable, what) for each per-variable array of the saved state, in Keras's order: the moving averages
        (use_ema), the gradient accumulators, then the slots (see _slot_blocks)."""
        layout = [(v, _AVERAGE) for v in variables if self.use_ema]
        layout += [(v, _ACCUMULATED) for v in variables if self.gradient_accumulation_steps]
        return layout + [(v, name) for block in self._slot_blocks() for v in variables for name in block]

    def _state_tensors(self, variables):
        """The native tensors of the per-variable saved state, in `_state_layout` order (after build)."""
        position = {name: i for i, name in enumerate(self._slot_names)}
        tables = {_AVERAGE: self._averages, _ACCUMULATED: self._accumulators}
        return [tables[what][id(v)] if what in tables else self._slots[id(v)][position[what]]
                for v, what in self._state_layout(variables)]

    def _extra_state(self):
        """Scalars an optimizer saves after the per-variable state (Keras's Nadam: its momentum product)."""
        return []

    def _load_extra_state(self, values):
        """Restores what `_extra_state` saved."""

    def state_header_size(self):
        """Arrays `variables` holds before the per-variable state: iterations, and the learning rate unless it is a
        schedule or a callable (Keras keeps those out of its variables)."""
        return 1 if callable(self._learning_rate) else 2

    def state_shapes(self, variables, header=None):
        """The shape of each array of `variables` for these tracked variables, in order (`header`: 1 or 2 leading
        scalars, by default as this optimizer saves them)."""
        header = self.state_header_size() if header is None else header
        shapes = [()] * header + [tuple(v.shape) for v, _ in self._state_layout(variables)]
        return shapes + [()] * len(self._extra_state())

    @property
    def variables(self):
        """[iterations, learning_rate (a plain rate only), averages, accumulators, slots, extra scalars] as NumPy
        arrays, in Keras's order (for saving)."""
        out = [np.array(self._iterations, dtype=np.int64)]
        if self.state_header_size() == 2:
            out.append(np.array(self.learning_rate, dtype=np.float32))
        out += [np.array(to_device(t, "cpu")) for t in self._state_tensors(self._tracked)]
        return out + self._extra_state()

    def set_state(self, values, variables, header=None):
        """Restores `variables` from `self.variables`-style arrays (after build); `header` as in state_shapes."""
        self.build(variables)
        self._iterations = int(values[0])
        tensors = self._state_tensors(variables)
        start = self.state_header_size() if header is None else header
        for tensor, value in zip(tensors, values[start:start + len(tensors)]):
            tensor.copy_from(_C.from_numpy(np.ascontiguousarray(value, dtype=tensor.dtype)))
        self._load_extra_state(values[start + len(tensors):])

    # -- applying -----------------------------------------------------------------------------------
    def apply_gradients(self, grads_and_vars):
        pairs = [(g, v) for g, v in grads_and_vars if g is not None]
        self.apply([g for g, _ in pairs], [v for _, v in pairs])

    # A method returning the slot an optimizer accumulates squared gradients in, as (slot index, d, c) for
    # acc = d * acc + c * g^2; None when it squares no gradient. See _update_rows.
    _squared_slot = None

    def apply(self, grads, variables):
        variables = list(variables)
        native_grads, updated, reads = [], [], None  # reads: position -> RowGradient of a RowGradientTensor
        for g, v in zip(grads, variables):
            if g is not None:  # no gradient: left alone (Keras)
                if type(g) is Tensor:
                    native_grads.append(g.value)
                else:
                    if getattr(g, "row_gradient", None) is not None:
                        reads = reads or {}
                        reads[len(updated)] = g.row_gradient
                    native_grads.append(g.value if isinstance(g, Tensor) else to_device(
                        _C.from_numpy(np.asarray(g, dtype=v.dtype, order="C")), v.value.device))
                updated.append(v)
        if not updated:
            return
        self.build(variables)  # every variable is tracked (and averaged with use_ema), as in Keras
        steps = self.gradient_accumulation_steps
        if self.loss_scale_factor is not None:  # the loss was scaled by scale_loss: gradients come back unscaled
            native_grads = [_C.scale(g, 1.0 / self.loss_scale_factor) for g in native_grads]
        if steps and not self._accumulate(native_grads, updated):
            self._iterations += 1
            if self.use_ema:
                self._update_averages()
            return
        grads = self._clip(native_grads)
        lr = self.learning_rate
        self._iterations += 1
        self._step = self._iterations // steps if steps else self._iterations  # `iterations`, this update included
        if grads is not native_grads or steps:
            reads = None  # clipping and accumulation densify the gradients (Keras)
        for i, (g, var) in enumerate(zip(grads, updated)):
            if self.weight_decay and self._use_weight_decay(var):
                var.value.copy_from(_C.scale(var.value, 1.0 - lr * float(self.weight_decay)))
            if reads and i in reads:
                self._update_rows(var, g, reads[i], self._slots[id(var)], lr)
            else:
                self._update(var, g, self._slots[id(var)], lr)
            if var.constraint is not None:
                _apply_constraint(var)
        if self.use_ema:
            self._update_averages()

    def _read_sums(self, rows, fn):
        """sum over an embedding's reads of fn(read gradient), per row (with the loss scale divided out)."""
        factor = self.loss_scale_factor
        if factor is None:
            return rows.sum_over_reads(fn)
        return rows.sum_over_reads(lambda values: fn(_C.scale(values, 1.0 / factor)))

    def _update_rows(self, var, grad, rows, slots, lr):
        """The update for an embedding table's gradient, made as Keras's TensorFlow backend makes it from
        IndexedSlices: where the rule squares the gradient, each read of a row is squared separately
        (sum_i g_i^2 where the dense rule has (sum_i g_i)^2; they differ when a row is read twice in a batch).
        By default the squared-gradient slot (`_squared_slot`: acc = d * acc + c * g^2) is shifted first by
        c/d * (sum_i g_i^2 - g^2), so the native update lands on d * acc + c * sum_i g_i^2 (d = 0 keeps the dense
        rule); optimizers whose rule differs override this."""
        spec = self._squared_slot() if self._squared_slot is not None else None
        if spec is not None and spec[1] > 0:
            index, d, c = spec
            squares = self._read_sums(rows, _square)
            excess = _C.binary(BinaryOp.subtract, squares, _square(grad))
            slots[index].copy_from(_C.binary(BinaryOp.add, slots[index], _C.scale(excess, c / d)))
        self._update(var, grad, slots, lr)

    def scale_loss(self, loss):
        """The loss times `loss_scale_factor` (when set), before gradients are taken; `apply` divides it out."""
        if self.loss_scale_factor is None:
            return loss
        from kcore import ops

        return ops.multiply(loss, float(self.loss_scale_factor))

    def _accumulate(self, grads, variables):
        """Gradient accumulation (Keras 3): on most steps the gradients are only added to the accumulators (False
        is returned); every `gradient_accumulation_steps`-th step `grads` become the mean over the steps since the
        last update, the accumulators are reset, and the update runs (True)."""
        accumulators = [self._accumulators[id(v)] for v in variables]
        if (self._iterations + 1) % self.gradient_accumulation_steps:
            for acc, g in zip(accumulators, grads):
                acc.copy_from(_C.binary(BinaryOp.add, acc, g))
            return False
        inverse = 1.0 / self.gradient_accumulation_steps
        for i, (acc, g) in enumerate(zip(accumulators, grads)):
            grads[i] = _C.scale(_C.binary(BinaryOp.add, g, acc), inverse)
            acc.copy_from(_C.zeros(list(acc.shape), acc.dtype, acc.device))  # (scaling by 0 would keep a NaN)
        return True

    # -- exponential moving average of the weights (use_ema) ----------------------------------------
    def _update_averages(self):
        """average = m * average + (1 - m) * var after each step (m = 0 on the first step, so it starts at the
        variable); every `ema_overwrite_frequency` steps the variables take their averages."""
        previous = (self._iterations - 1) // (self.gradient_accumulation_steps or 1)  # Keras's count before this step
        momentum = self.ema_momentum if previous > 0 else 0.0
        for var in self._tracked:
            avg = self._averages[id(var)]
            avg.copy_from(_C.binary(BinaryOp.add, _C.scale(avg, momentum), _C.scale(var.value, 1.0 - momentum)))
        if self.ema_overwrite_frequency and (previous + 1) % self.ema_overwrite_frequency == 0:
            self._overwrite_with_averages(self._tracked)

    def _overwrite_with_averages(self, variables):
        for var in variables:
            avg = self._averages.get(id(var))
            if avg is None:
                raise ValueError(f"Variable {var.path!r} is not tracked by optimizer {self.name!r}: it has no moving "
                                 "average to take (was the optimizer applied to this model's variables?)")
            var.value.copy_from(avg)

    def finalize_variable_values(self, var_list):
        """Called at the end of fit(): with use_ema the variables take their moving averages."""
        if self.use_ema and self._averages:
            self._overwrite_with_averages(list(var_list))

    # -- decoupled weight decay --------------------------------------------------------------------
    def exclude_from_weight_decay(self, var_list=None, var_names=None):
        """Leaves `var_list`, and every variable whose name contains one of `var_names` (regular expressions),
        out of weight decay. Must be called before the optimizer is built (before its first step)."""
        if self._slots:
            raise ValueError("`exclude_from_weight_decay()` can only be configured before the optimizer is built.")
        self._no_decay_ids = {id(v) for v in var_list or []}
        self._no_decay_pattern = re.compile("|".join(set(var_names))) if var_names else None

    def _use_weight_decay(self, var):
        if id(var) in self._no_decay_ids:
            return False
        return self._no_decay_pattern is None or self._no_decay_pattern.search(var.name) is None

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
        if isinstance(lr, LearningRateSchedule):
            from kcore.optimizers.schedules import serialize

            lr = serialize(lr)
        elif callable(lr):  # a plain function is not serialisable: its current value is kept
            lr = self.learning_rate
        return {"name": self.name, "learning_rate": lr,
                "weight_decay": self.weight_decay, "clipnorm": self.clipnorm, "clipvalue": self.clipvalue,
                "global_clipnorm": self.global_clipnorm, "use_ema": self.use_ema, "ema_momentum": self.ema_momentum,
                "ema_overwrite_frequency": self.ema_overwrite_frequency, "loss_scale_factor": self.loss_scale_factor,
                "gradient_accumulation_steps": self.gradient_accumulation_steps}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _square(t):
    return _C.unary(UnaryOp.square, t, 0.0)


def _norm(g):
    return math.sqrt(float(np.asarray(_C.reduce(ReduceOp.sum, _square(g), [], False))))


def _scale_to_norm(g, norm, max_norm):
    return _C.scale(g, max_norm / norm) if norm > max_norm else g


def _apply_constraint(var):
    c = var.constraint
    if hasattr(c, "apply"):
        c.apply(var)
    else:
        var.assign(np.asarray(c(var)))
