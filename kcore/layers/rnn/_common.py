"""Helpers shared by the recurrent cells and layers: argument checks, masks, dropout masks."""
import numpy as np

from kcore import activations
from kcore.backend.tensor import Tensor, convert_to_tensor
from kcore.ops.rnn import ACTIVATIONS

NATIVE_ACTIVATIONS = tuple(ACTIVATIONS)  # the recurrent kernels' list (csrc/ops/rnn.h)


def activation_name(identifier, argument, owner):
    """Recurrent kernels apply activations natively, so they are kept by name."""
    if identifier is None:
        return "linear"
    name = identifier if isinstance(identifier, str) else activations.serialize(identifier)
    if name not in NATIVE_ACTIVATIONS:
        raise ValueError(f"{owner}: `{argument}` must be one of {list(NATIVE_ACTIVATIONS)} (the recurrent kernels "
                         f"apply it natively); got {identifier!r}")
    return name


def positive_units(units, owner):
    if not isinstance(units, (int, np.integer)) or isinstance(units, bool) or units <= 0:
        raise ValueError(f"{owner}: received an invalid value for argument `units`, expected a positive integer, "
                         f"got {units!r}")
    return int(units)


def rate(value, name):
    value = float(value)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"Received an invalid value for argument `{name}`, expected a float between 0 and 1, got "
                         f"{value}")
    return value


def legacy_sequence_shape(kwargs):
    """Keras 2: LSTM(32, input_dim=64, input_length=10) means batch_input_shape (None, 10, 64)."""
    input_dim, input_length = kwargs.pop("input_dim", None), kwargs.pop("input_length", None)
    if input_dim is not None and not any(k in kwargs for k in ("input_shape", "batch_input_shape")):
        kwargs["batch_input_shape"] = (kwargs.pop("batch_size", None), input_length, int(input_dim))


def check_sequence_rank(layer, shape, exact=True):
    """A clear error for inputs without a time axis (or, for the fused layers, with extra axes)."""
    rank = len(shape)
    if rank == 3 or (rank > 3 and not exact):
        return
    hint = ""
    if rank == 2:
        hint = (" The time axis is missing: recurrent layers take (batch, timesteps, features); reshape a "
                "single step to (batch, 1, features), or put an Embedding / Reshape before this layer.")
    expected = "ndim=3" if exact else "ndim>=3"
    raise ValueError(f"Input 0 of layer '{layer.name}' is incompatible with the layer: expected {expected} "
                     f"(batch, timesteps, features), found ndim={rank}. Full shape received: {tuple(shape)}.{hint}")


def dropout_mask(shape, rate_value, seed, dtype):
    """Inverted-dropout mask: 0 with probability rate, else 1 / (1 - rate)."""
    from kcore.backend.native import _C
    from kcore.utils.rng import next_seed

    if rate_value >= 1.0:
        return convert_to_tensor(np.zeros(shape), dtype)
    like = convert_to_tensor(np.zeros((1,)), dtype)
    return Tensor(_C.dropout_mask(list(shape), rate_value, next_seed(seed), like.value))


def mask_array(mask):
    """A (batch, timesteps) boolean array from a mask tensor/array (or the first of a list), or None."""
    if mask is None:
        return None
    if isinstance(mask, (list, tuple)):
        mask = mask[0]
        if mask is None:
            return None
    return np.asarray(mask.numpy() if isinstance(mask, Tensor) else mask) != 0


def flatten_states(states):
    """Nested lists of state tensors -> a flat list (Keras's tree.flatten for RNN states)."""
    if isinstance(states, (list, tuple)):
        return [t for s in states for t in flatten_states(s)]
    return [states]


def nest_like(structure, flat):
    """Rebuilds the nesting of `structure` (ints / lists of ints, as state_size) from a flat list."""
    items = iter(flat)

    def build(s):
        if isinstance(s, (list, tuple)):
            return [build(x) for x in s]
        return next(items)

    return build(structure)


def set_weight_paths(layer, prefix):
    """Keras 3 variable paths: '<outer>/<layer>/<weight>', nested layers below their parent."""
    here = f"{prefix}/{layer.name}" if prefix else layer.name
    for w in layer._weights:
        w.path = f"{here}/{w.name}"
    for child in layer._layers:
        set_weight_paths(child, here)


_WEIGHT_OPTIONS = tuple(f"{w}_{kind}" for kind in ("initializer", "regularizer", "constraint")
                        for w in ("kernel", "recurrent", "bias"))


def set_weight_options(layer, options):
    """Sets a recurrent cell's kernel/recurrent/bias initializers, regularizers and constraints (Keras names)."""
    from kcore import constraints, initializers, regularizers

    getters = {"initializer": initializers.get, "regularizer": regularizers.get, "constraint": constraints.get}
    for key in _WEIGHT_OPTIONS:
        setattr(layer, key, getters[key.rsplit("_", 1)[1]](options[key]))


def weight_options_config(layer):
    """The config entries of set_weight_options, serialized as Keras writes them."""
    from kcore import constraints, initializers, regularizers

    serializers = {"initializer": initializers.serialize, "regularizer": regularizers.serialize,
                   "constraint": constraints.serialize}
    return {key: serializers[key.rsplit("_", 1)[1]](getattr(layer, key)) for key in _WEIGHT_OPTIONS}
