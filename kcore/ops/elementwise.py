"""Elementwise ops: conversion to float tensors, binary arithmetic (NumPy broadcasting), unary math and
activations, clip and cast. Forward = one native call, backward = one native call."""
from __future__ import annotations

from typing import Union

import numpy as np

from kcore.backend.autodiff import attach
from kcore.backend.native import _C, BinaryOp, UnaryOp
from kcore.backend.tensor import FLOAT_DTYPES, Tensor, _dtype_name, convert_to_tensor

# What an op accepts as a tensor argument: a kcore Tensor, a NumPy array, or (nested lists of) Python numbers.
TensorLike = Union[Tensor, np.ndarray, float, int, list, tuple]


# -- conversion -------------------------------------------------------------------


def _float(x, like: Tensor | None = None) -> Tensor:
    """x as a floating Tensor; Python numbers and arrays take `like`'s dtype."""
    if isinstance(x, Tensor):
        if x.dtype in FLOAT_DTYPES:
            return x
        return cast(x, like.dtype if like is not None and like.dtype in FLOAT_DTYPES else "float32")
    if like is not None and like.dtype in FLOAT_DTYPES:
        t = convert_to_tensor(x, dtype=like.dtype)
        return t if t.value.device == like.value.device else t.to(like.value.device)
    t = convert_to_tensor(x)
    return t if t.dtype in FLOAT_DTYPES else cast(t, "float32")


def _float_bytes(x):
    """Width of a NumPy float array or scalar (0 for anything else): the wider one sets the pair's dtype."""
    if not isinstance(x, (np.ndarray, np.generic)):
        return 0
    return x.dtype.itemsize if x.dtype.kind == "f" or x.dtype.name == "bfloat16" else 0


# Two floating tensors of different dtypes compute in the wider one (Keras 3: bfloat16 with float32 gives
# float32, anything with float64 gives float64).
_WIDER = {"bfloat16": 0, "float32": 1, "float64": 2}


def _is_int_tensor(x):
    return isinstance(x, Tensor) and x.dtype not in FLOAT_DTYPES


def _pair(a, b):
    if _is_int_tensor(a) and isinstance(b, Tensor) and not _is_int_tensor(b):
        a = cast(a, b.dtype)  # int with float: the float's dtype (Keras: int32 + bfloat16 is bfloat16)
    if isinstance(a, Tensor) or not isinstance(b, Tensor) and _float_bytes(a) > _float_bytes(b):
        a = _float(a)
        b = _float(b, like=a)
    else:
        b = _float(b)
        a = _float(a, like=b)
    if a.dtype != b.dtype:  # promote to the wider float
        wide = max(a.dtype, b.dtype, key=_WIDER.__getitem__)
        a, b = cast(a, wide), cast(b, wide)
    return a, b


# -- elementwise binary -----------------------------------------------------------


def _binary(op, name, a, b):
    a, b = _pair(a, b)
    av, bv = a.value, b.value
    out = Tensor(_C.binary(op, av, bv))
    return attach(out, (a, b), lambda g: _C.binary_backward(op, av, bv, g, a.requires_grad, b.requires_grad))


def two_operand_op(impl, op, name, doc):
    """The public op `name(x1, x2)` = `impl(op, name, x1, x2)`, documented by `doc` (arithmetic, comparisons)."""

    def fn(x1: TensorLike, x2: TensorLike) -> Tensor:
        return impl(op, name, x1, x2)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


def _binary_op(op, name, doc):
    return two_operand_op(_binary, op, name, doc)


_BROADCAST = ", broadcast as NumPy does."
add, subtract, multiply, divide, power, maximum, minimum = (_binary_op(op, op.name, doc) for op, doc in (
    (BinaryOp.add, "x1 + x2" + _BROADCAST), (BinaryOp.subtract, "x1 - x2" + _BROADCAST),
    (BinaryOp.multiply, "x1 * x2" + _BROADCAST), (BinaryOp.divide, "x1 / x2 (true division)" + _BROADCAST),
    (BinaryOp.power, "x1 ** x2" + _BROADCAST), (BinaryOp.maximum, "The elementwise larger of x1 and x2 (NaN wins)."),
    (BinaryOp.minimum, "The elementwise smaller of x1 and x2 (NaN wins).")))


true_divide = divide

# -- elementwise unary ------------------------------------------------------------


def _unary(op, x, alpha=0.0):
    x = _float(x)
    xv = x.value
    yv = _C.unary(op, xv, alpha)
    out = Tensor(yv)
    return attach(out, (x,), lambda g: (_C.unary_backward(op, xv, yv, g, alpha),))


def negative(x: TensorLike) -> Tensor:
    """-x."""
    return _unary(UnaryOp.negative, x)


def exp(x: TensorLike) -> Tensor:
    """e ** x."""
    return _unary(UnaryOp.exp, x)


def log(x: TensorLike) -> Tensor:
    """The natural logarithm of x."""
    return _unary(UnaryOp.log, x)


def sqrt(x: TensorLike) -> Tensor:
    """The square root of x."""
    return _unary(UnaryOp.sqrt, x)


def square(x: TensorLike) -> Tensor:
    """x * x."""
    return _unary(UnaryOp.square, x)


def abs(x: TensorLike) -> Tensor:  # noqa: A001
    """|x|."""
    return _unary(UnaryOp.abs, x)


def tanh(x: TensorLike) -> Tensor:
    """The hyperbolic tangent of x."""
    return _unary(UnaryOp.tanh, x)


def softplus(x: TensorLike) -> Tensor:
    """log(1 + exp(x))."""
    return _unary(UnaryOp.softplus, x)


def softsign(x: TensorLike) -> Tensor:
    """x / (1 + |x|)."""
    return _unary(UnaryOp.softsign, x)


def selu(x: TensorLike) -> Tensor:
    """Scaled exponential linear unit (Keras's alpha and scale)."""
    return _unary(UnaryOp.selu, x)


def silu(x: TensorLike) -> Tensor:
    """x * sigmoid(x) (also called swish)."""
    return _unary(UnaryOp.silu, x)


def relu6(x: TensorLike) -> Tensor:
    """min(max(x, 0), 6)."""
    return _unary(UnaryOp.relu6, x)


def log_sigmoid(x: TensorLike) -> Tensor:
    """log(sigmoid(x)), computed stably."""
    return _unary(UnaryOp.log_sigmoid, x)


def reciprocal(x: TensorLike) -> Tensor:
    """1 / x."""
    return _unary(UnaryOp.reciprocal, x)


def sin(x: TensorLike) -> Tensor:
    """The sine of x."""
    return _unary(UnaryOp.sin, x)


def cos(x: TensorLike) -> Tensor:
    """The cosine of x."""
    return _unary(UnaryOp.cos, x)


def sign(x: TensorLike) -> Tensor:
    """-1, 0 or 1 by the sign of x."""
    return _unary(UnaryOp.sign, x)


def mish(x: TensorLike) -> Tensor:
    """x * tanh(softplus(x))."""
    return _unary(UnaryOp.mish, x)


swish = silu


def relu(x: TensorLike) -> Tensor:
    """max(x, 0)."""
    return _unary(UnaryOp.relu, x)


def sigmoid(x: TensorLike) -> Tensor:
    """1 / (1 + exp(-x)); the result remembers x so a crossentropy on it can use the logits."""
    x = _float(x)
    out = _unary(UnaryOp.sigmoid, x)
    out._keras_logits = ("sigmoid", x)
    return out
def elu(x: TensorLike, alpha: float = 1.0) -> Tensor:
    """x for x > 0, alpha * (exp(x) - 1) otherwise."""
    return _unary(UnaryOp.elu, x, float(alpha))


def leaky_relu(x: TensorLike, negative_slope: float = 0.2) -> Tensor:
    """x for x >= 0, negative_slope * x otherwise."""
    return _unary(UnaryOp.leaky_relu, x, float(negative_slope))


def hard_sigmoid(x: TensorLike) -> Tensor:
    """Keras 3's hard_sigmoid: relu6(x + 3) / 6."""
    return _unary(UnaryOp.hard_sigmoid, x)


def hard_sigmoid_k2(x: TensorLike) -> Tensor:
    """Keras 2's hard_sigmoid: clip(0.2 x + 0.5, 0, 1)."""
    return _unary(UnaryOp.hard_sigmoid_k2, x)


def gelu(x: TensorLike, approximate: bool = True) -> Tensor:
    """Gaussian error linear unit: x * Phi(x), or its tanh approximation when `approximate`."""
    return _unary(UnaryOp.gelu_tanh if approximate else UnaryOp.gelu, x)


def clip(x: TensorLike, x_min: float, x_max: float) -> Tensor:
    """x limited to [x_min, x_max]; the gradient passes where x lies inside."""
    x = _float(x)
    xv, lo, hi = x.value, float(x_min), float(x_max)
    out = Tensor(_C.clip(xv, lo, hi))
    return attach(out, (x,), lambda g: (_C.clip_backward(xv, g, lo, hi),))


def cast(x: TensorLike, dtype) -> Tensor:
    """x converted to `dtype` (a name or NumPy dtype); float-to-float casts pass gradients back."""
    x = convert_to_tensor(x)
    if dtype is None:
        raise TypeError("cast: dtype must be given (e.g. 'float32'), got None")
    dtype = _dtype_name(dtype)
    if x.dtype == dtype:
        return x
    src = x.dtype
    out = Tensor(x.value.astype(dtype))
    if dtype in FLOAT_DTYPES and src in FLOAT_DTYPES:
        return attach(out, (x,), lambda g: (g.astype(src),))
    return out
