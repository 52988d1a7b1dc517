"""Size checks at the Python edge of the engine.

The engine computes every size in int64 and checks it (csrc/core/checked.h); these helpers reject
arguments that cannot be an int64 size before they reach it, so the error names the layer or op
and the argument instead of a native signature.
"""
import math

import numpy as np

INT64_MAX = 2 ** 63 - 1


def is_int(v):
    """A Python or NumPy integer (bools excluded)."""
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def check_int64(op, what, values):
    """ValueError naming op and `what` when a value of `values` does not fit int64."""
    values = tuple(values)
    if any(abs(int(v)) > INT64_MAX for v in values):
        raise ValueError(f"{op}: {what} {values} is too large (values must fit int64)")
    return values


def shape_arg(shape, op, name="shape", itemsize=8):
    """`shape` (an int or a sequence of ints) as a list of non-negative ints whose tensor fits int64 bytes."""
    dims = [shape] if is_int(shape) else shape
    try:
        dims = list(dims)
    except TypeError:
        raise TypeError(f"{op}: {name} must be an int or a sequence of ints, got {shape!r}") from None
    if not all(is_int(d) for d in dims):
        raise TypeError(f"{op}: {name} must contain integers only, got {shape!r}")
    dims = [int(d) for d in dims]
    if any(d < 0 for d in dims):
        raise ValueError(f"{op}: {name} must not contain negative dimensions, got {tuple(dims)}")
    if math.prod(dims) * itemsize > INT64_MAX or any(d > INT64_MAX for d in dims):
        raise ValueError(f"{op}: a tensor of {name} {tuple(dims)} is too large "
                         f"({math.prod(dims)} elements; the size overflows int64)")
    return dims
