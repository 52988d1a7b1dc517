"""Activation functions by Keras 3 name; each is a native op with a native backward."""
import operator

from kcore import ops
from kcore.ops import core as ops_core  # hot paths: the unwrapped ops (errors are named by the layer)
from kcore.ops import elementwise as ops_elementwise
from kcore.utils.registry import Registry


def linear(x):
    """x unchanged (the identity activation; None means linear)."""
    return x


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """Keras's relu: x above `threshold` (capped at `max_value`), `negative_slope * (x - threshold)` below.

    Composed exactly as Keras composes it, so every combination of the arguments gives Keras's
    numbers (NaN propagates, except through a nonzero threshold where Keras maps it to 0).
    """
    if negative_slope != 0.0:
        if max_value is None and threshold == 0:
            return ops.leaky_relu(x, negative_slope)
        negative_part = ops.relu(ops.add(ops.negative(x), threshold) if threshold != 0 else ops.negative(x))
    else:
        negative_part = None
    clip_max = max_value is not None
    if threshold != 0:
        x = ops.convert_to_tensor(x)
        x = ops.where(ops.greater(x, threshold), x, 0.0)
    elif max_value == 6:
        x, clip_max = ops.relu6(x), False
    else:
        x = ops_elementwise.relu(x)
    if clip_max:
        x = ops.clip(x, 0.0, float(max_value))
    if negative_part is not None:
        x = ops.subtract(x, ops.multiply(negative_part, float(negative_slope)))
    return x


def softmax(x, axis=-1):
    """Softmax over `axis` (an int or a tuple of ints)."""
    return ops_core.softmax(x, axis=axis)


def log_softmax(x, axis=-1):
    """Log-softmax over `axis` (an int or a tuple of ints)."""
    return ops.log_softmax(x, axis=axis)


def elu(x, alpha=1.0):
    """x for x > 0, alpha * (exp(x) - 1) otherwise."""
    return ops.elu(x, alpha)


def leaky_relu(x, negative_slope=0.2):
    """x for x >= 0, negative_slope * x otherwise."""
    return ops.leaky_relu(x, negative_slope)


def gelu(x, approximate=False):
    """Gaussian error linear unit (exact by default, as keras.activations.gelu)."""
    return ops.gelu(x, approximate=approximate)


# The activations that are kcore.ops functions as they are.
tanh, sigmoid, exponential, selu, softplus = ops.tanh, ops.sigmoid, ops.exp, ops.selu, ops.softplus
softsign, hard_sigmoid, silu, swish = ops.softsign, ops.hard_sigmoid, ops.silu, ops.silu
hard_sigmoid_k2 = ops_elementwise.hard_sigmoid_k2  # Keras 2's clip(0.2 x + 0.5, 0, 1): what a Keras 2 .h5 file means
relu6, mish, log_sigmoid = ops.relu6, ops.mish, ops.log_sigmoid
celu, glu, hard_silu, hard_swish, hard_tanh = ops.celu, ops.glu, ops.hard_silu, ops.hard_silu, ops.hard_tanh
hard_shrink, soft_shrink, tanh_shrink, threshold = ops.hard_shrink, ops.soft_shrink, ops.tanh_shrink, ops.threshold
sparse_plus, sparse_sigmoid, sparsemax, squareplus = ops.sparse_plus, ops.sparse_sigmoid, ops.sparsemax, ops.squareplus

_REGISTRY = Registry("activation function", "keras.activations", {
    "linear": linear, "relu": relu, "softmax": softmax, "log_softmax": log_softmax, "elu": elu,
    "leaky_relu": leaky_relu, "gelu": gelu, "tanh": tanh, "sigmoid": sigmoid, "exponential": exponential,
    "selu": selu, "softplus": softplus, "softsign": softsign, "hard_sigmoid": hard_sigmoid,
    "hard_sigmoid_k2": hard_sigmoid_k2, "silu": silu,
    "swish": swish, "relu6": relu6, "mish": mish, "log_sigmoid": log_sigmoid, "celu": celu, "glu": glu,
    "hard_silu": hard_silu, "hard_swish": hard_swish, "hard_tanh": hard_tanh, "hard_shrink": hard_shrink,
    "soft_shrink": soft_shrink, "tanh_shrink": tanh_shrink, "threshold": threshold, "sparse_plus": sparse_plus,
    "sparse_sigmoid": sparse_sigmoid, "sparsemax": sparsemax, "squareplus": squareplus,
})


def get(identifier):
    """A name, a callable, or None (linear)."""
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        return _REGISTRY.get(identifier)
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret activation function identifier: {identifier}")


class ActivationAttribute(property):
    """A layer attribute holding its activation: assigning None means linear, a name is looked up.

    So `layer.activation = None` (or "relu") after construction works as in Keras. Reading it costs a plain
    attribute read (the getter is a C-level attrgetter of the `_<name>_fn` slot; the class holds `linear`).
    """

    def __set_name__(self, owner, name):
        slot = f"_{name}_fn"
        setattr(owner, slot, staticmethod(linear))

        def set_activation(obj, value):
            setattr(obj, slot, get(value))

        property.__init__(self, operator.attrgetter(slot), set_activation, None, self.__doc__)


def serialize(fn):
    """A built-in activation's name; a custom function's config in Keras 3's layout (see kcore.saving)."""
    for name, f in _REGISTRY.items():
        if f is fn:
            return name
    from kcore.saving.objects import serialize_callable

    return serialize_callable(fn)
