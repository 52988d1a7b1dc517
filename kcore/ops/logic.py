"""Comparisons, logical connectives and `where`: Keras's ops.greater, ops.logical_and, ops.where...

Comparisons and logical ops return bool tensors and are not differentiable (no gradient flows
through them); `where` passes gradients to the branch each element was taken from.
"""
from __future__ import annotations

import numpy as np

from kcore.backend.autodiff import attach
from kcore.backend.native import _C
from kcore.backend.tensor import FLOAT_DTYPES, Tensor, convert_to_tensor
from kcore.ops.elementwise import TensorLike, two_operand_op

CompareOp = _C.CompareOp

# Promotion order for mixed operands (Keras promotes bool < int < float the same way).
_RANK = {"bool": 0, "int32": 1, "int64": 2, "bfloat16": 3, "float32": 4, "float64": 5}


def _scalar_dtype(v, like):
    """The dtype a Python/NumPy scalar takes next to a tensor of dtype `like` (weak typing, as Keras)."""
    if isinstance(v, (bool, np.bool_)):
        return like
    if isinstance(v, (int, np.integer)):
        return like if like != "bool" else "int32"
    return like if like in FLOAT_DTYPES else "float32"


def _common(x1, x2, op):
    """Both operands as tensors of one dtype (and one device)."""
    t1, t2 = isinstance(x1, Tensor), isinstance(x2, Tensor)
    if not t1 and not t2:
        x1 = convert_to_tensor(x1)
        t1 = True
    if t1 and not t2 and np.ndim(x2) == 0 and not isinstance(x2, np.ndarray):
        x2 = convert_to_tensor(np.asarray(x2), dtype=_scalar_dtype(x2, x1.dtype))
    elif t2 and not t1 and np.ndim(x1) == 0 and not isinstance(x1, np.ndarray):
        x1 = convert_to_tensor(np.asarray(x1), dtype=_scalar_dtype(x1, x2.dtype))
    else:
        x1, x2 = convert_to_tensor(x1), convert_to_tensor(x2)
    if x1.dtype != x2.dtype:
        dtype = x1.dtype if _RANK[x1.dtype] >= _RANK[x2.dtype] else x2.dtype
        x1, x2 = x1.astype(dtype), x2.astype(dtype)
    if x1.value.device != x2.value.device:
        x2 = x2.to(x1.value.device)
    try:
        _C.broadcast_shapes(list(x1.shape), list(x2.shape))
    except ValueError:
        raise ValueError(f"{op}: operands could not be broadcast together, got shapes {tuple(x1.shape)} and "
                         f"{tuple(x2.shape)}") from None
    return x1, x2


def _compare(op, name, x1, x2):
    a, b = _common(x1, x2, name)
    return Tensor(_C.compare(op, a.value, b.value))


def _comparison(op, name, doc):
    return two_operand_op(_compare, op, name, doc)


equal = _comparison(CompareOp.equal, "equal", "x1 == x2 elementwise, as a bool tensor.")
not_equal = _comparison(CompareOp.not_equal, "not_equal", "x1 != x2 elementwise, as a bool tensor (True at NaN).")
less = _comparison(CompareOp.less, "less", "x1 < x2 elementwise, as a bool tensor.")
less_equal = _comparison(CompareOp.less_equal, "less_equal", "x1 <= x2 elementwise, as a bool tensor.")
greater = _comparison(CompareOp.greater, "greater", "x1 > x2 elementwise, as a bool tensor.")
greater_equal = _comparison(CompareOp.greater_equal, "greater_equal", "x1 >= x2 elementwise, as a bool tensor.")
logical_and = _comparison(CompareOp.logical_and, "logical_and",
                          "Elementwise AND; nonzero (and NaN) elements count as true.")
logical_or = _comparison(CompareOp.logical_or, "logical_or",
                         "Elementwise OR; nonzero (and NaN) elements count as true.")
logical_xor = _comparison(CompareOp.logical_xor, "logical_xor",
                          "Elementwise XOR; nonzero (and NaN) elements count as true.")


def logical_not(x: TensorLike) -> Tensor:
    """Elementwise NOT: True where x is zero (False, 0, 0.0)."""
    x = convert_to_tensor(x)
    return _compare(CompareOp.equal, "logical_not", x, False if x.dtype == "bool" else 0)


def isnan(x: TensorLike) -> Tensor:
    """True where x is NaN (always False for integer and bool tensors)."""
    x = convert_to_tensor(x)
    return not_equal(x, x)


def isinf(x: TensorLike) -> Tensor:
    """True where x is +inf or -inf."""
    x = convert_to_tensor(x)
    if x.dtype not in FLOAT_DTYPES:
        return not_equal(x, x)
    return logical_or(equal(x, np.inf), equal(x, -np.inf))


def isfinite(x: TensorLike) -> Tensor:
    """True where x is neither NaN nor infinite."""
    return logical_not(logical_or(isnan(x), isinf(x)))


def where(condition: TensorLike, x1: TensorLike | None = None,
          x2: TensorLike | None = None) -> Tensor | tuple:
    """x1 where condition holds, else x2 (all three broadcast together).

    Gradients flow to x1 and x2 (zero where the other branch was taken), none to the condition.
    With only `condition`, returns the indices of its true elements, one int64 tensor per axis.
    """
    if x1 is None and x2 is None:
        cond = convert_to_tensor(condition)
        return tuple(convert_to_tensor(i.astype(np.int64)) for i in np.nonzero(cond.numpy()))
    if x1 is None or x2 is None:
        raise ValueError("where: x1 and x2 must be given together (or neither, for the indices of the true "
                         "elements)")
    cond = convert_to_tensor(condition)
    if cond.dtype != "bool":
        cond = cond.astype("bool")
    a, b = _common(x1, x2, "where")
    if cond.value.device != a.value.device:
        cond = cond.to(a.value.device)
    try:
        _C.broadcast_shapes(_C.broadcast_shapes(list(cond.shape), list(a.shape)), list(b.shape))
    except ValueError:
        raise ValueError(f"where: condition, x1 and x2 could not be broadcast together, got shapes "
                         f"{tuple(cond.shape)}, {tuple(a.shape)} and {tuple(b.shape)}") from None
    cv = cond.value
    out = Tensor(_C.where(cv, a.value, b.value))
    if a.dtype not in FLOAT_DTYPES:
        return out
    a_shape, b_shape = list(a.shape), list(b.shape)

    def backward(g):
        zero = _C.zeros([], g.dtype, g.device)
        ga = _C.sum_to_shape(_C.where(cv, g, zero), a_shape) if a.requires_grad else None
        gb = _C.sum_to_shape(_C.where(cv, zero, g), b_shape) if b.requires_grad else None
        return ga, gb

    return attach(out, (a, b), backward)
