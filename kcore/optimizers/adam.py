from kcore.backend.native import _C
from kcore.optimizers.base import Optimizer


class Adam(Optimizer):
    """Keras's Adam (epsilon 1e-7, not bias-corrected: the 'epsilon hat' form); amsgrad optional."""

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_1, self.beta_2 = float(beta_1), float(beta_2)
        self.epsilon = 1e-7 if epsilon is None else float(epsilon)
        self.amsgrad = bool(amsgrad)
        self._slot_names = ("momentum", "velocity", "velocity_hat") if amsgrad else ("momentum", "velocity")

    def _slot_blocks(self):
        return (("momentum", "velocity"), ("velocity_hat",)) if self.amsgrad else (("momentum", "velocity"),)

    def _squared_slot(self):
        return 1, self.beta_2, 1.0 - self.beta_2

    def _update(self, var, grad, slots, lr):
        vhat = slots[2] if self.amsgrad else None
        _C.adam_update(var.value, grad, slots[0], slots[1], vhat, lr, self.beta_1, self.beta_2, self.epsilon,
                       self._step)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                "amsgrad": self.amsgrad}
