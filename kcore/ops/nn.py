"""Neural-network ops: fused losses and dropout (native forward and backward)."""
from __future__ import annotations

import numpy as np

from kcore.backend.autodiff import attach
from kcore.backend.native import _C, BinaryOp, ErrorKind, UnaryOp
from kcore.backend.tensor import Tensor, convert_to_tensor
from kcore.ops.core import _float, _pair, mean
from kcore.ops.elementwise import TensorLike
from kcore.ops.random import dropout_mask


def _logits_loss(forward, logits_grad, target_grad, logits, target):
    """A fused loss of (logits, target): native forward, native logits gradient, `target_grad(x, g)`."""
    x, y = _pair(logits, target)
    xv, yv = x.value, y.value

    def backward(g):
        gx = logits_grad(xv, yv, g) if x.requires_grad else None
        gy = _C.unary(UnaryOp.negative, target_grad(xv, g), 0.0) if y.requires_grad else None
        return gx, gy

    return attach(Tensor(forward(xv, yv)), (x, y), backward)


def softmax_cross_entropy(logits: TensorLike, target: TensorLike) -> Tensor:
    """Per-sample -sum(target * log_softmax(logits)) over the last axis."""
    # d/dy = -log_softmax(x), per sample scaled by g
    return _logits_loss(_C.softmax_cross_entropy, _C.softmax_cross_entropy_backward,
                        lambda xv, g: _C.binary(BinaryOp.multiply, _C.softmax(xv, -1, True),
                                                _C.reshape(g, list(g.shape) + [1])), logits, target)


def sparse_softmax_cross_entropy(logits: TensorLike, labels: TensorLike) -> Tensor:
    """Per-sample -log_softmax(logits)[label]; labels are integers of shape logits.shape[:-1]."""
    x = _float(logits)
    labels = _labels(labels, x)
    xv, lv = x.value, labels.value
    out = Tensor(_C.sparse_softmax_cross_entropy(xv, lv))
    return attach(out, (x,), lambda g: (_C.sparse_softmax_cross_entropy_backward(xv, lv, g),))


def _labels(labels, logits):
    if isinstance(labels, Tensor):
        arr = labels.numpy()
    else:
        arr = np.asarray(labels)
    expected = tuple(logits.shape[:-1])
    if arr.shape != expected and arr.shape == expected + (1,):
        arr = arr.reshape(expected)
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise ValueError("sparse_categorical_crossentropy: labels must be integer class ids, "
                             "got non-integer values")
        arr = arr.astype(np.int64)
    elif arr.dtype.kind not in "iu":
        raise TypeError(f"sparse_categorical_crossentropy: labels must be integers, got dtype {arr.dtype}")
    if arr.shape != expected:
        raise ValueError(f"sparse_categorical_crossentropy: labels of shape {arr.shape} do not match predictions "
                         f"of shape {tuple(logits.shape)}; expected labels of shape {expected}")
    return convert_to_tensor(np.asarray(arr, dtype=np.int64, order="C"))


def sigmoid_cross_entropy(logits: TensorLike, target: TensorLike) -> Tensor:
    """Elementwise binary crossentropy from logits (numerically stable)."""
    # d/dy = -x * g
    return _logits_loss(_C.sigmoid_cross_entropy, _C.sigmoid_cross_entropy_backward,
                        lambda xv, g: _C.binary(BinaryOp.multiply, xv, g), logits, target)


def _mean_error(kind, y_true, y_pred):
    p = _float(y_pred)
    y = _float(y_true, like=p)
    pv, yv = p.value, y.value
    broadcast = y.shape != p.shape and _broadcastable(y.shape, p.shape)
    if broadcast:  # y_true stretched to y_pred's shape; its gradient is summed back in backward
        yv = _C.broadcast_to(yv, list(p.shape))
    out = Tensor(_C.mean_error(kind, pv, yv))

    def backward(g):
        gp = _C.mean_error_backward(kind, pv, yv, g)
        if not y.requires_grad:
            return gp, None
        gy = _C.unary(UnaryOp.negative, gp, 0.0)
        return gp, (_C.sum_to_shape(gy, list(y.shape)) if broadcast else gy)

    return attach(out, (p, y), backward)


def _broadcastable(a, b):
    try:
        return tuple(_C.broadcast_shapes(list(a), list(b))) == tuple(b)
    except ValueError:
        return False


def mean_squared_error(y_true: TensorLike, y_pred: TensorLike) -> Tensor:
    """Per-sample mean of (y_true - y_pred) ** 2 over the last axis (one native call each way)."""
    return _mean_error(ErrorKind.squared, y_true, y_pred)


def mean_absolute_error(y_true: TensorLike, y_pred: TensorLike) -> Tensor:
    """Per-sample mean of |y_true - y_pred| over the last axis (one native call each way)."""
    return _mean_error(ErrorKind.absolute, y_true, y_pred)


def dropout(x: TensorLike, rate: float, noise_shape=None, seed: int | None = None) -> Tensor:
    """Inverted dropout: zeroes with probability `rate`, scales the rest by 1 / (1 - rate)."""
    from kcore.ops.elementwise import multiply
    from kcore.utils.rng import next_seed

    x = _float(x)
    rate = float(rate)
    if not 0.0 <= rate < 1.0:
        raise ValueError(f"dropout: rate must be in [0, 1), got {rate}")
    if rate == 0.0:
        return x
    shape = list(x.shape) if noise_shape is None else [x.shape[i] if d is None else int(d)
                                                       for i, d in enumerate(noise_shape)]
    from kcore.distribution._context import rank_salt

    seed = next_seed(seed) ^ rank_salt()  # data-parallel ranks draw different masks, even with a fixed seed
    return multiply(x, dropout_mask(shape, rate, seed, x))


def assign_moving_average(variable, value, momentum: float) -> None:
    """In place, outside autodiff: variable <- variable * momentum + value * (1 - momentum) (value is cast to
    the variable's dtype); BatchNormalization's moving statistics."""
    mixed = _C.binary(BinaryOp.add, _C.scale(variable.value, momentum),
                      _C.scale(value.value.astype(variable.dtype), 1.0 - momentum))
    variable.value.copy_from(mixed)


def average(x: TensorLike, axis: int | tuple | None = None) -> Tensor:
    return mean(x, axis)


def _norm_params(gamma, beta, like, size):
    g = _float(gamma, like=like) if gamma is not None else Tensor(_C.full([size], like.dtype, 1.0, like.device))
    b = _float(beta, like=like) if beta is not None else Tensor(_C.zeros([size], like.dtype, like.device))
    return g, b


def batch_normalization_training(x: TensorLike, gamma, beta, axis: int = -1,
                                 epsilon: float = 1e-3) -> tuple[Tensor, Tensor, Tensor]:
    """Normalises with the batch statistics; returns (y, batch mean, biased batch variance)."""
    x = _float(x)
    g, b = _norm_params(gamma, beta, x, x.shape[axis])
    xv, gv = x.value, g.value
    yv, mean, var = _C.batch_norm_train(xv, gv, b.value, axis, epsilon)

    def backward(grad):
        dx, dg, db = _C.batch_norm_backward(xv, gv, mean, var, grad, axis, epsilon, True)
        return dx, dg, db

    return attach(Tensor(yv), (x, g, b), backward), Tensor(mean), Tensor(var)


def batch_normalization(x: TensorLike, mean: TensorLike, variance: TensorLike, axis: int = -1, offset=None, scale=None,
                        epsilon: float = 1e-3) -> Tensor:
    """Normalises with given statistics (inference): gradients flow to x, scale and offset."""
    x = _float(x)
    g, b = _norm_params(scale, offset, x, x.shape[axis])
    mv, vv = _float(mean, like=x).value, _float(variance, like=x).value
    xv, gv = x.value, g.value
    out = Tensor(_C.batch_norm_infer(xv, gv, b.value, mv, vv, axis, epsilon))
    return attach(out, (x, g, b), lambda grad: _C.batch_norm_backward(xv, gv, mv, vv, grad, axis, epsilon, False))


def layer_normalization(x: TensorLike, gamma=None, beta=None, norm_size: int | None = None,
                        epsilon: float = 1e-3) -> Tensor:
    """Normalises each sample over its trailing `norm_size` elements (default: the last axis)."""
    x = _float(x)
    d = int(norm_size or x.shape[-1])
    g, b = _norm_params(gamma, beta, x, d)
    xv, gv = x.value, g.value
    yv, mean, inv = _C.layer_norm(xv, gv, b.value, d, epsilon)

    def backward(grad):
        dx, dg, db = _C.layer_norm_backward(xv, gv, mean, inv, grad, d)
        return dx, _C.reshape(dg, list(g.shape)), _C.reshape(db, list(b.shape))

    return attach(Tensor(yv), (x, g, b), backward)
