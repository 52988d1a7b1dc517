"""RMSprop, Adagrad, Adadelta, Nadam, Adamax and AdamW with Keras 3's defaults and update rules."""
import numpy as np

from kcore.backend.native import _C, BinaryOp, UnaryOp
from kcore.optimizers.adam import Adam
from kcore.optimizers.base import Optimizer, _square


def _eps(epsilon):
    return 1e-7 if epsilon is None else float(epsilon)


def _moving(acc, new, rho):
    """rho * acc + (1 - rho) * new (native tensors)."""
    return _C.binary(BinaryOp.add, _C.scale(acc, rho), _C.scale(new, 1.0 - rho))


def _rms(acc, epsilon):
    """sqrt(acc + epsilon) (native tensors)."""
    return _C.unary(UnaryOp.sqrt, _C.binary(BinaryOp.add, acc, _C.full([], acc.dtype, epsilon, acc.device)), 0.0)


class RMSprop(Optimizer):
    """Divides the gradient by a moving root mean square of recent gradients (Keras 3 defaults; momentum and centered
    supported)."""

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.rho, self.momentum, self.epsilon, self.centered = float(rho), float(momentum), _eps(epsilon), centered
        self._slot_names = ("velocity",) + (("average_gradient",) if centered else ()) + \
            (("momentum",) if self.momentum else ())

    def _slot_blocks(self):  # Keras builds velocities, then momentums, then average gradients, each over all weights
        return tuple((name,) for name in ("velocity", "momentum", "average_gradient") if name in self._slot_names)

    def _squared_slot(self):
        return 0, self.rho, 1.0 - self.rho

    def _update(self, var, grad, slots, lr):
        avg = slots[1] if self.centered else None
        mom = slots[-1] if self.momentum else None
        _C.rmsprop_update(var.value, grad, slots[0], avg, mom, lr, self.rho, self.momentum, self.epsilon)

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon,
                "centered": self.centered}


class Adagrad(Optimizer):
    """Per-weight learning rates scaled by the accumulated squared gradients."""

    _slot_names = ("accumulator",)

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.initial_accumulator_value, self.epsilon = float(initial_accumulator_value), _eps(epsilon)

    def _new_slot(self, var, name):
        return _C.full(list(var.value.shape), var.dtype, self.initial_accumulator_value, var.value.device)

    def _squared_slot(self):
        return 0, 1.0, 1.0

    def _update(self, var, grad, slots, lr):
        _C.adagrad_update(var.value, grad, slots[0], lr, self.epsilon)

    def get_config(self):
        return {**super().get_config(), "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}


class Adadelta(Optimizer):
    """Adagrad variant with moving averages of squared gradients and of squared updates."""

    _slot_names = ("accumulated_grad", "accumulated_delta_var")

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.rho, self.epsilon = float(rho), _eps(epsilon)

    def _update(self, var, grad, slots, lr):
        _C.adadelta_update(var.value, grad, slots[0], slots[1], lr, self.rho, self.epsilon)

    def _update_rows(self, var, grad, rows, slots, lr):
        """Keras's rule on an embedding's reads: both accumulators take per-read squares (each read's update is
        -rms(delta accumulator) / rms(gradient accumulator) * g_i, every read of a row sharing the factor)."""
        acc_grad, acc_delta = slots
        squares = self._read_sums(rows, _square)
        acc_grad.copy_from(_moving(acc_grad, squares, self.rho))
        ratio = _C.binary(BinaryOp.divide, _rms(acc_delta, self.epsilon), _rms(acc_grad, self.epsilon))
        delta = _C.binary(BinaryOp.multiply, ratio, grad)
        acc_delta.copy_from(_moving(acc_delta, _C.binary(BinaryOp.multiply, _square(ratio), squares), self.rho))
        var.value.copy_from(_C.binary(BinaryOp.subtract, var.value, _C.scale(delta, lr)))

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}


class Nadam(Optimizer):
    """Adam with Nesterov momentum and Keras's momentum-decay schedule u_t = b1 (1 - 0.5 * 0.96^t)."""

    _slot_names = ("momentum", "velocity")

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        kwargs.pop("schedule_decay", None)
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), _eps(epsilon)
        self._u_product = 1.0
        self._u_product_step = 0

    def _coefficients(self):
        t = self._step  # this update included
        if self._u_product_step != t:  # advance the running product once per step
            self._u_product *= self.beta_1 * (1.0 - 0.5 * 0.96**t)
            self._u_product_step = t
        u_t = self.beta_1 * (1.0 - 0.5 * 0.96**t)
        u_next = self.beta_1 * (1.0 - 0.5 * 0.96 ** (t + 1))
        c_m = u_next / (1.0 - self._u_product * u_next)
        c_g = (1.0 - u_t) / (1.0 - self._u_product)
        return c_m, c_g, 1.0 - self.beta_2**t

    def _extra_state(self):
        """Keras's Nadam saves its running momentum product u_1...u_t after the slots."""
        return [np.array(self._u_product, dtype=np.float32)]

    def _load_extra_state(self, values):
        if values:  # a file with the product (Keras's layout): taken as saved
            self._u_product = float(values[0])
        else:  # recomputed from the step count
            self._u_product = 1.0
            for t in range(1, self.iterations + 1):
                self._u_product *= self.beta_1 * (1.0 - 0.5 * 0.96**t)
        self._u_product_step = self.iterations

    def _squared_slot(self):
        return 1, self.beta_2, 1.0 - self.beta_2

    def _update(self, var, grad, slots, lr):
        c_m, c_g, bias2 = self._coefficients()
        _C.nadam_update(var.value, grad, slots[0], slots[1], lr, self.beta_1, self.beta_2, self.epsilon, c_m, c_g,
                        bias2)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


class Adamax(Optimizer):
    """Adam with the infinity norm in place of the second moment."""

    _slot_names = ("m", "u")

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), _eps(epsilon)

    def _update(self, var, grad, slots, lr):
        _C.adamax_update(var.value, grad, slots[0], slots[1], lr, self.beta_1, self.beta_2, self.epsilon,
                         self._step)

    def _update_rows(self, var, grad, rows, slots, lr):
        """Keras's rule on an embedding's reads: u = max(beta_2 u, sum_i |g_i|) (TensorFlow densifies the read
        magnitudes before the maximum); u is raised to sum_i |g_i| / beta_2 first, so the native max lands there."""
        if self.beta_2 > 0:
            magnitudes = self._read_sums(rows, lambda t: _C.unary(UnaryOp.abs, t, 0.0))
            slots[1].copy_from(_C.binary(BinaryOp.maximum, slots[1], _C.scale(magnitudes, 1.0 / self.beta_2)))
        self._update(var, grad, slots, lr)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


class AdamW(Adam):
    """Adam with decoupled weight decay (w -= lr * weight_decay * w before each step)."""

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, **kwargs):
        super().__init__(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, amsgrad=amsgrad,
                         weight_decay=weight_decay, **kwargs)


class Lion(Optimizer):
    """Lion (Chen et al., 2023): w -= lr * sign(beta_1 m + (1 - beta_1) g), then m = beta_2 m + (1 - beta_2) g."""

    _slot_names = ("momentum",)

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.99, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        if not 0 < beta_1 <= 1:
            raise ValueError(f"Argument `beta_1` must be in the [0, 1] range. Otherwise, the optimizer degenerates "
                             f"to SignSGD. Received: beta_1={beta_1}.")
        self.beta_1, self.beta_2 = float(beta_1), float(beta_2)

    def _update(self, var, grad, slots, lr):
        m = slots[0]
        mixed = _C.binary(BinaryOp.add, _C.scale(m, self.beta_1), _C.scale(grad, 1.0 - self.beta_1))
        var.value.copy_from(_C.binary(BinaryOp.subtract, var.value, _C.scale(_C.unary(UnaryOp.sign, mixed, 0.0), lr)))
        m.copy_from(_C.binary(BinaryOp.add, _C.scale(m, self.beta_2), _C.scale(grad, 1.0 - self.beta_2)))

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2}
