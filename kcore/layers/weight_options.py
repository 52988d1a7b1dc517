"""A layer's per-weight options (`<weight>_initializer`, `<weight>_regularizer`, `<weight>_constraint`): set
from constructor arguments and written back into configs the same way for every layer."""
from kcore import constraints, initializers, regularizers

_FAMILIES = {"initializer": initializers, "regularizer": regularizers, "constraint": constraints}


def set_weight_options(layer, **options):
    """`layer.<key> = <family>.get(value)` for each `<weight>_initializer/_regularizer/_constraint` keyword."""
    for key, value in options.items():
        setattr(layer, key, _FAMILIES[key.rsplit("_", 1)[1]].get(value))


def weight_options_config(layer, *weights, kinds=("initializer", "regularizer", "constraint")):
    """The serialized `<weight>_<kind>` config entries of `layer`, kind by kind (Keras's key order)."""
    return {f"{w}_{kind}": _FAMILIES[kind].serialize(getattr(layer, f"{w}_{kind}")) for kind in kinds for w in weights}
