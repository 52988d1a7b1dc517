"""The Keras 3 activations that are compositions of other ops (celu, glu, the shrinks, sparse_plus, sparsemax, ...).

Each is built from differentiable kcore ops exactly as Keras composes it, so forward values and gradients match
Keras's (including which branch a boundary point takes) without a native kernel of its own.
"""
from __future__ import annotations

import numpy as np

from kcore.backend.tensor import Tensor, convert_to_tensor
from kcore.ops.axes import normalize_axis
from kcore.ops.core import split, sum
from kcore.ops.elementwise import (
    TensorLike,
    _float,
    abs,
    add,
    clip,
    divide,
    exp,
    hard_sigmoid,
    maximum,
    minimum,
    multiply,
    relu,
    sigmoid,
    sqrt,
    square,
    subtract,
    tanh,
)
from kcore.ops.logic import greater, greater_equal, less, less_equal, where


def celu(x: TensorLike, alpha: float = 1.0) -> Tensor:
    """Continuously differentiable ELU: max(x, 0) + alpha * expm1(min(x, 0) / alpha)."""
    x = _float(x)
    alpha = float(alpha)
    if alpha == 0.0:
        raise ValueError("celu: alpha must be nonzero (it divides x), got 0")
    negative = minimum(x, 0.0)
    expm1 = subtract(exp(divide(negative, alpha)), 1.0)
    return add(maximum(x, 0.0), multiply(expm1, alpha))


def glu(x: TensorLike, axis: int = -1) -> Tensor:
    """Gated linear unit: the first half of `axis` times the sigmoid of the second half."""
    x = _float(x)
    ax = normalize_axis(axis, x.ndim, "glu")
    if x.shape[ax] % 2:
        raise ValueError(f"glu: the size of axis {axis} must be divisible by 2, got x.shape={tuple(x.shape)}")
    first, second = split(x, 2, axis=ax)
    return multiply(first, sigmoid(second))


def hard_silu(x: TensorLike) -> Tensor:
    """x * hard_sigmoid(x), with Keras 3's hard_sigmoid relu6(x + 3) / 6 (also called hard_swish)."""
    x = _float(x)
    return multiply(x, hard_sigmoid(x))


hard_swish = hard_silu


def hard_tanh(x: TensorLike) -> Tensor:
    """x clipped to [-1, 1]."""
    return clip(x, -1.0, 1.0)


def hard_shrink(x: TensorLike, threshold: float = 0.5) -> Tensor:
    """x where |x| > threshold, else 0."""
    x = _float(x)
    return where(greater(abs(x), float(threshold)), x, 0.0)


def soft_shrink(x: TensorLike, threshold: float = 0.5) -> Tensor:
    """x - threshold above threshold, x + threshold below -threshold, 0 in between."""
    x = _float(x)
    t = float(threshold)
    return where(greater(x, t), subtract(x, t), where(less(x, -t), add(x, t), 0.0))


def tanh_shrink(x: TensorLike) -> Tensor:
    """x - tanh(x)."""
    x = _float(x)
    return subtract(x, tanh(x))


def threshold(x: TensorLike, threshold: float, default_value: float) -> Tensor:
    """x where x > threshold, else default_value."""
    x = _float(x)
    return where(greater(x, float(threshold)), x, float(default_value))


def sparse_plus(x: TensorLike) -> Tensor:
    """0 for x <= -1, (x + 1)^2 / 4 for -1 < x < 1, x for x >= 1 (a smooth, sparse softplus)."""
    x = _float(x)
    return where(less_equal(x, -1.0), 0.0, where(less(x, 1.0), multiply(square(add(x, 1.0)), 0.25), x))


def sparse_sigmoid(x: TensorLike) -> Tensor:
    """0 for x <= -1, 1 for x >= 1, (x + 1) / 2 in between."""
    x = _float(x)
    return where(less_equal(x, -1.0), 0.0, where(greater_equal(x, 1.0), 1.0, multiply(add(x, 1.0), 0.5)))


def squareplus(x: TensorLike, b: float = 4) -> Tensor:
    """(x + sqrt(x^2 + b)) / 2, a smooth relu; b >= 0."""
    x = _float(x)
    if float(b) < 0:
        raise ValueError(f"squareplus: b must be >= 0 (it is under a square root), got {b}")
    return multiply(add(x, sqrt(add(square(x), float(b)))), 0.5)


def sparsemax(x: TensorLike, axis: int = -1) -> Tensor:
    """The Euclidean projection of x onto the probability simplex along `axis` (Martins & Astudillo, 2016).

    Output max(x - tau, 0), with tau chosen so each slice sums to 1; entries below tau are exactly 0. The
    support is found once on the values; tau is then the differentiable (sum of x over the support - 1) /
    (support size), so the gradient is sparsemax's Jacobian. (Keras 3.15's TensorFlow backend sums running
    sums instead and does not reach the simplex whenever the support has more than one entry; kcore computes
    the projection itself, which agrees with Keras wherever Keras's result does sum to 1.)
    """
    x = _float(x)
    ax = normalize_axis(axis, x.ndim, "sparsemax")
    if 0 in tuple(x.shape):
        return x
    values = np.moveaxis(np.asarray(x.numpy(), dtype=np.float64), ax, -1)
    ranked = -np.sort(-values, axis=-1)
    running = np.cumsum(ranked, axis=-1)
    k = np.arange(1, values.shape[-1] + 1)
    size = np.sum(1.0 + k * ranked > running, axis=-1, keepdims=True)
    tau = (np.take_along_axis(running, np.maximum(size, 1) - 1, axis=-1) - 1.0) / np.maximum(size, 1)
    support = np.moveaxis((values > tau).astype(np.float32), -1, ax)
    device = x.value.device
    mask = convert_to_tensor(support, dtype=x.dtype).to(device)
    count = convert_to_tensor(np.maximum(np.sum(support, axis=ax, keepdims=True), 1.0), dtype=x.dtype).to(device)
    tau_t = divide(subtract(sum(multiply(x, mask), axis=ax, keepdims=True), 1.0), count)
    return relu(subtract(x, tau_t))
