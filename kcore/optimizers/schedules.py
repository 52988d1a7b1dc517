"""Learning-rate schedules: callables of the optimizer's step count."""
import math


def _number(value, name, owner):
    """value as a float; anything else (a string, None, a list) is a TypeError naming the schedule and argument."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{owner}: `{name}` must be a number, got {value!r}")
    return float(value)


def _check_steps(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"Argument `{name}` must be a number > 0. Received: {name}={value!r}")


class LearningRateSchedule:
    """Base of learning-rate schedules: called with the step, returns the rate."""

    def __call__(self, step):
        raise NotImplementedError

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class ExponentialDecay(LearningRateSchedule):
    """initial_learning_rate * decay_rate ** (step / decay_steps), the exponent floored when staircase."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False, name="ExponentialDecay"):
        _check_steps(decay_steps, "decay_steps")
        self.initial_learning_rate = _number(initial_learning_rate, "initial_learning_rate", "ExponentialDecay")
        self.decay_steps, self.decay_rate = decay_steps, _number(decay_rate, "decay_rate", "ExponentialDecay")
        self.staircase, self.name = staircase, name

    def __call__(self, step):
        p = step / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return self.initial_learning_rate * self.decay_rate**p

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "decay_rate": self.decay_rate, "staircase": self.staircase, "name": self.name}


class PiecewiseConstantDecay(LearningRateSchedule):
    """values[i] while step <= boundaries[i], values[-1] after the last boundary."""

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        if len(values) != len(boundaries) + 1:
            raise ValueError("The length of `values` must be one more than the length of `boundaries`")
        self.boundaries = [_number(b, "boundaries", "PiecewiseConstantDecay") for b in boundaries]
        self.values = [_number(v, "values", "PiecewiseConstantDecay") for v in values]
        self.boundaries = [int(b) if b == int(b) else b for b in self.boundaries]
        self.name = name

    def __call__(self, step):
        for boundary, value in zip(self.boundaries, self.values):
            if step <= boundary:
                return float(value)
        return float(self.values[-1])

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class CosineDecay(LearningRateSchedule):
    """Cosine decay from initial_learning_rate to alpha * initial_learning_rate over decay_steps (after an optional
    linear warmup)."""

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay", warmup_target=None,
                 warmup_steps=0):
        _check_steps(decay_steps, "decay_steps")
        self.initial_learning_rate = _number(initial_learning_rate, "initial_learning_rate", "CosineDecay")
        self.decay_steps, self.alpha = decay_steps, _number(alpha, "alpha", "CosineDecay")
        self.warmup_target = None if warmup_target is None else _number(warmup_target, "warmup_target", "CosineDecay")
        self.warmup_steps = _number(warmup_steps, "warmup_steps", "CosineDecay")
        self.warmup_steps = int(self.warmup_steps) if self.warmup_steps == int(self.warmup_steps) else self.warmup_steps
        self.name = name

    def __call__(self, step):
        if self.warmup_target is not None and step < self.warmup_steps:
            return self.initial_learning_rate + (self.warmup_target - self.initial_learning_rate) * \
                step / self.warmup_steps
        start = self.warmup_target if self.warmup_target is not None else self.initial_learning_rate
        done = min(max(step - self.warmup_steps, 0), self.decay_steps) / self.decay_steps
        cosine = 0.5 * (1 + math.cos(math.pi * done))
        return start * ((1 - self.alpha) * cosine + self.alpha)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "alpha": self.alpha, "name": self.name, "warmup_target": self.warmup_target,
                "warmup_steps": self.warmup_steps}


class PolynomialDecay(LearningRateSchedule):
    """(initial - end) * (1 - step / decay_steps) ** power + end, the step held at decay_steps; with cycle,
    decay_steps grows to the first multiple of itself above the step."""

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0, cycle=False,
                 name="PolynomialDecay"):
        _check_steps(decay_steps, "decay_steps")
        for arg, value in (("initial_learning_rate", initial_learning_rate), ("end_learning_rate", end_learning_rate),
                           ("power", power)):
            _number(value, arg, "PolynomialDecay")
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.end_learning_rate, self.power, self.cycle, self.name = end_learning_rate, power, cycle, name

    def __call__(self, step):
        steps = float(self.decay_steps)
        if self.cycle:
            steps *= 1.0 if step == 0 else math.ceil(step / self.decay_steps)
        else:
            step = min(step, steps)
        fraction = step / steps
        return (self.initial_learning_rate - self.end_learning_rate) * (1 - fraction) ** self.power + \
            self.end_learning_rate

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "end_learning_rate": self.end_learning_rate, "power": self.power, "cycle": self.cycle,
                "name": self.name}


class InverseTimeDecay(LearningRateSchedule):
    """initial_learning_rate / (1 + decay_rate * step / decay_steps), the ratio floored when staircase."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False, name="InverseTimeDecay"):
        _check_steps(decay_steps, "decay_steps")
        for arg, value in (("initial_learning_rate", initial_learning_rate), ("decay_rate", decay_rate)):
            _number(value, arg, "InverseTimeDecay")
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.decay_rate, self.staircase, self.name = decay_rate, staircase, name

    def __call__(self, step):
        p = step / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return self.initial_learning_rate / (1.0 + self.decay_rate * p)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "decay_steps": self.decay_steps,
                "decay_rate": self.decay_rate, "staircase": self.staircase, "name": self.name}


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (SGDR, Loshchilov & Hutter 2016): periods of first_decay_steps, each
    t_mul times longer than the last, each restart's peak m_mul times the last; alpha is the floor fraction."""

    def __init__(self, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0, alpha=0.0, name="SGDRDecay"):
        _check_steps(first_decay_steps, "first_decay_steps")
        for arg, value in (("initial_learning_rate", initial_learning_rate), ("t_mul", t_mul), ("m_mul", m_mul),
                           ("alpha", alpha)):
            _number(value, arg, "CosineDecayRestarts")
        if t_mul <= 0:
            raise ValueError(f"CosineDecayRestarts: `t_mul` must be > 0, got {t_mul}")
        self.initial_learning_rate, self.first_decay_steps = initial_learning_rate, first_decay_steps
        self.t_mul, self.m_mul, self.alpha, self.name = t_mul, m_mul, alpha, name

    def __call__(self, step):
        fraction = step / self.first_decay_steps
        if self.t_mul == 1.0:
            restart = math.floor(fraction)
            fraction -= restart
        else:
            restart = math.floor(math.log(1.0 - fraction * (1.0 - self.t_mul)) / math.log(self.t_mul))
            fraction = (fraction - (1.0 - self.t_mul ** restart) / (1.0 - self.t_mul)) / self.t_mul ** restart
        cosine = 0.5 * self.m_mul ** restart * (1.0 + math.cos(math.pi * fraction))
        return self.initial_learning_rate * ((1 - self.alpha) * cosine + self.alpha)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "first_decay_steps": self.first_decay_steps,
                "t_mul": self.t_mul, "m_mul": self.m_mul, "alpha": self.alpha, "name": self.name}


_BUILT_IN = {cls.__name__: cls for cls in (ExponentialDecay, PiecewiseConstantDecay, CosineDecay, PolynomialDecay,
                                           InverseTimeDecay, CosineDecayRestarts)}


def serialize(schedule):
    """A schedule's config as Keras 3 writes it: {module, class_name, config, registered_name}."""
    from kcore.saving import get_registered_name

    cls = type(schedule)
    registered = None if cls.__name__ in _BUILT_IN and _BUILT_IN[cls.__name__] is cls else get_registered_name(cls)
    return {"module": "keras.optimizers.schedules", "class_name": cls.__name__, "config": schedule.get_config(),
            "registered_name": registered}


def deserialize(config, custom_objects=None):
    """The schedule a `serialize` dict (or a Keras 3 file's) describes: built-in, registered or in custom_objects."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"Could not interpret learning rate schedule config: {config!r}")
    name = config.get("registered_name") or config["class_name"]
    cls = _BUILT_IN.get(config["class_name"]) if not config.get("registered_name") else None
    if cls is None:
        from kcore.saving import get_registered_object

        cls = get_registered_object(name, custom_objects)
    if cls is None or not (isinstance(cls, type) and issubclass(cls, LearningRateSchedule)):
        raise ValueError(f"Unknown learning rate schedule: {config['class_name']!r} (register a custom schedule "
                         f"with kcore.saving.register_keras_serializable or pass it in custom_objects)")
    try:
        return cls.from_config(dict(config.get("config") or {}))
    except (TypeError, ValueError) as e:
        raise ValueError(f"Learning rate schedule {config['class_name']!r}: invalid config: {e}") from None
