"""Activation functions by Keras 3 name; each is a native op with a native backward."""
from kcore import ops


def linear(x):
    return x


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return ops.relu(x)
    if max_value == 6.0 and negative_slope == 0.0 and threshold == 0.0:
        return ops.relu6(x)
    raise NotImplementedError("relu with negative_slope/threshold: use leaky_relu or relu6")


def softmax(x, axis=-1):
    return ops.softmax(x, axis=axis)


def log_softmax(x, axis=-1):
    return ops.log_softmax(x, axis=axis)


def elu(x, alpha=1.0):
    return ops.elu(x, alpha)


def leaky_relu(x, negative_slope=0.2):
    return ops.leaky_relu(x, negative_slope)


def gelu(x, approximate=False):
    return ops.gelu(x, approximate=approximate)


tanh = ops.tanh
sigmoid = ops.sigmoid
exponential = ops.exp
selu = ops.selu
softplus = ops.softplus
softsign = ops.softsign
hard_sigmoid = ops.hard_sigmoid
silu = ops.silu
swish = ops.silu
relu6 = ops.relu6
mish = ops.mish
log_sigmoid = ops.log_sigmoid

_BY_NAME = {
    "linear": linear, "relu": relu, "softmax": softmax, "log_softmax": log_softmax, "elu": elu,
    "leaky_relu": leaky_relu, "gelu": gelu, "tanh": tanh, "sigmoid": sigmoid, "exponential": exponential,
    "selu": selu, "softplus": softplus, "softsign": softsign, "hard_sigmoid": hard_sigmoid, "silu": silu,
    "swish": swish, "relu6": relu6, "mish": mish, "log_sigmoid": log_sigmoid,
}


def get(identifier):
    """A name, a callable, or None (linear)."""
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        fn = _BY_NAME.get(identifier)
        if fn is None:
            raise ValueError(f"Could not interpret activation function identifier: {identifier}. Known names: "
                             f"{sorted(_BY_NAME)}")
        return fn
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret activation function identifier: {identifier}")


def serialize(fn):
    """A built-in activation's name; a custom function's config in Keras 3's layout (see kcore.saving)."""
    for name, f in _BY_NAME.items():
        if f is fn:
            return name
    from kcore.saving.objects import serialize_callable

    return serialize_callable(fn)
