"""Argument checks shared by the ops: axes, shapes and counts follow NumPy's rules.

Every rejection is a TypeError (wrong kind of value: a float, a string, a bool) or a
ValueError (right kind, out of range) naming the op and the argument; nothing wraps around
or truncates silently.
"""
import operator

import numpy as np

from kcore.backend.sizes import shape_arg as checked_shape


def as_int(value, op, arg):
    """`value` as a Python int; bools, floats and strings are refused (NumPy's operator.index rule)."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{op}: {arg} must be an integer, got the bool {value!r}")
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{op}: {arg} must be an integer, got {value!r} of type {type(value).__name__}") from None


def normalize_axis(axis, ndim, op, arg="axis"):
    """One axis in [0, ndim) from an int in [-ndim, ndim); anything else raises."""
    a = as_int(axis, op, arg)
    if not -ndim <= a < ndim:
        if ndim == 0:
            raise ValueError(f"{op}: {arg} {a} is out of range: the tensor is 0-d (a scalar) and has no axes")
        raise ValueError(f"{op}: {arg} {a} is out of range for a tensor of rank {ndim} "
                         f"(expected {-ndim} <= {arg} < {ndim})")
    return a % ndim


def normalize_axes(axis, ndim, op, arg="axis"):
    """None -> every axis; an int or a tuple/list of ints -> distinct axes in [0, ndim); () -> none."""
    if axis is None:
        return list(range(ndim))
    if isinstance(axis, (tuple, list)):
        axes = [normalize_axis(a, ndim, op, arg) for a in axis]
        if len(set(axes)) != len(axes):
            raise ValueError(f"{op}: {arg}={tuple(axis)!r} repeats an axis")
        return axes
    return [normalize_axis(axis, ndim, op, arg)]


def shape_arg(shape, op, arg="shape", allow_minus_one=False):
    """A shape as a list of ints >= 0 (or one -1 when `allow_minus_one`); an int is a 1-d shape."""
    if shape is None or isinstance(shape, (str, bytes)):
        raise TypeError(f"{op}: {arg} must be a tuple of integers, got {shape!r}")
    if not isinstance(shape, (tuple, list, np.ndarray)):
        shape = (shape,)
    dims = [as_int(d, op, arg) for d in shape]
    for d in dims:
        if d < 0 and not (allow_minus_one and d == -1):
            raise ValueError(f"{op}: {arg}={tuple(dims)} has the negative dimension {d}")
    if allow_minus_one and dims.count(-1) > 1:
        raise ValueError(f"{op}: {arg}={tuple(dims)} may contain at most one -1")
    checked_shape([1 if d == -1 else d for d in dims], op, arg)  # its byte size must fit int64
    return dims
