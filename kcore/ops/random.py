"""Random tensors drawn natively on a reference tensor's device (the layers' noise and dropout masks)."""
from kcore.backend.native import _C
from kcore.backend.tensor import Tensor


def uniform_like(shape, seed: int, like: Tensor, minval: float = 0.0, maxval: float = 1.0) -> Tensor:
    """Uniform values in [minval, maxval) of `shape`, with `like`'s dtype and device, from an integer seed."""
    return Tensor(_C.random_uniform(list(shape), float(minval), float(maxval), int(seed), like.value))


def dropout_mask(shape, rate: float, seed: int, like: Tensor) -> Tensor:
    """Inverted-dropout mask of `shape` on `like`'s dtype and device: 0 with probability `rate`, else
    1 / (1 - rate)."""
    return Tensor(_C.dropout_mask(list(shape), float(rate), int(seed), like.value))
