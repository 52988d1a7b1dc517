"""Separable image resizing as TensorFlow computes it (half-pixel centres, no antialiasing).

Each method's 1-D resampling is a fixed (out, in) weight matrix built here in NumPy; resizing
applies it along each spatial axis with a native matmul, so gradients come for free.
"""
from __future__ import annotations

import math

import numpy as np

from kcore.backend.tensor import Tensor
from kcore.ops.core import _float, matmul, reshape, transpose
from kcore.ops.elementwise import TensorLike

RESIZE_METHODS = ("nearest", "bilinear", "bicubic", "lanczos3", "lanczos5", "area")


def _bilinear(in_size, out_size):
    w = np.zeros((out_size, in_size))
    scale = in_size / out_size
    for i in range(out_size):
        src = (i + 0.5) * scale - 0.5
        lo = math.floor(src)
        frac = src - lo
        w[i, min(max(lo, 0), in_size - 1)] += 1.0 - frac
        w[i, min(max(math.ceil(src), 0), in_size - 1)] += frac
    return w


def _keys_cubic(x, a=-0.5):
    x = abs(x)
    if x <= 1.0:
        return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0
    if x < 2.0:
        return ((a * x - 5.0 * a) * x + 8.0 * a) * x - 4.0 * a
    return 0.0


def _bicubic(in_size, out_size):
    """Keys cubic (a = -0.5) at the sub-pixel offset rounded to 1/1024 (TensorFlow reads its weights
    from a 1024-step table); taps outside the image get no weight and the rest are renormalised."""
    w = np.zeros((out_size, in_size))
    scale = in_size / out_size
    for i in range(out_size):
        src = (i + 0.5) * scale - 0.5
        lo = math.floor(src)
        t = float(np.rint((src - lo) * 1024)) / 1024
        for j, dist in zip(range(lo - 1, lo + 3), (1.0 + t, t, 1.0 - t, 2.0 - t)):
            if 0 <= j < in_size:
                w[i, j] += _keys_cubic(dist)
        w[i] /= w[i].sum()
    return w


def _lanczos(radius):
    def kernel(x):
        x = abs(x)
        if x > radius:
            return 0.0
        if x <= 1e-3:
            return 1.0
        return radius * math.sin(math.pi * x) * math.sin(math.pi * x / radius) / (math.pi * math.pi * x * x)

    def weights(in_size, out_size):
        w = np.zeros((out_size, in_size))
        scale = in_size / out_size
        for i in range(out_size):
            src = (i + 0.5) * scale  # sample position in continuous coordinates (pixel j covers [j, j + 1))
            if src < 0 or src > in_size:
                continue
            start = min(max(math.ceil(src - radius - 0.5), 0), in_size - 1)
            stop = min(max(math.floor(src + radius - 0.5), 0), in_size - 1) + 1
            for j in range(start, stop):
                w[i, j] = kernel(j + 0.5 - src)
            total = w[i].sum()
            if abs(total) > 1e-30:
                w[i] /= total
        return w

    return weights


def _area(in_size, out_size):
    """Each output cell averages the input cells it overlaps, weighted by the overlap."""
    w = np.zeros((out_size, in_size))
    scale = in_size / out_size
    for i in range(out_size):
        start, stop = i * scale, (i + 1) * scale
        for j in range(math.floor(start), min(math.ceil(stop), in_size)):
            w[i, j] = (min(stop, j + 1) - max(start, j)) / scale
    return w


def _nearest(in_size, out_size):
    w = np.zeros((out_size, in_size))
    scale = in_size / out_size
    for i in range(out_size):
        w[i, min(int(math.floor((i + 0.5) * scale)), in_size - 1)] = 1.0
    return w


_WEIGHTS = {"nearest": _nearest, "bilinear": _bilinear, "bicubic": _bicubic, "lanczos3": _lanczos(3.0),
            "lanczos5": _lanczos(5.0), "area": _area}


def interpolation_method(interpolation, op):
    """`interpolation` lower-cased, or a ValueError naming `op` and the supported methods."""
    method = interpolation.lower() if isinstance(interpolation, str) else interpolation
    if method not in RESIZE_METHODS:
        raise ValueError(f"{op}: invalid interpolation {interpolation!r}; expected one of "
                         f"{', '.join(repr(m) for m in RESIZE_METHODS)}")
    return method


def resize_weights(in_size, out_size, method):
    """The (out_size, in_size) matrix that resamples one axis by `method`."""
    return _WEIGHTS[interpolation_method(method, "resize")](int(in_size), int(out_size))


def resize_axes(x, sizes, axes, method):
    """Resamples `x` to `sizes[i]` cells along `axes[i]` with `method` (TensorFlow's resize numbers)."""
    x = _float(x)
    for size, axis in zip(sizes, axes):
        axis %= x.ndim
        n = x.shape[axis]
        if n == size:
            continue
        matrix = resize_weights(n, size, method).T.astype(x.dtype)
        perm = [d for d in range(x.ndim) if d != axis] + [axis]
        moved = transpose(x, perm)
        flat = reshape(moved, [-1, n])
        y = reshape(matmul(flat, _float(matrix, like=x)), list(moved.shape[:-1]) + [size])
        x = transpose(y, list(np.argsort(perm)))
    return x


def resize(images: TensorLike, size, interpolation: str = "bilinear", antialias: bool = False,
           data_format: str | None = None) -> Tensor:
    """Keras's ops.image.resize for (batch,) height, width, channels images (or channels first).

    Every method of RESIZE_METHODS, up or down, gives TensorFlow's numbers; antialiasing is not
    supported (antialias=True raises).
    """
    from kcore.ops.conv import normalize_data_format

    x = _float(images)
    method = interpolation_method(interpolation, "resize")
    if antialias:
        raise NotImplementedError("resize: antialias=True is not supported by kcore")
    if not isinstance(size, (tuple, list)) or len(size) != 2 or not all(
            isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s > 0 for s in size):
        raise ValueError(f"resize: size must be a tuple of two positive ints (height, width), got {size!r}")
    if x.ndim not in (3, 4):
        raise ValueError(f"resize: images must have rank 3 (height, width, channels) or 4 (with a batch axis), got "
                         f"shape {tuple(x.shape)}")
    first = 1 if x.ndim == 4 else 0
    if normalize_data_format(data_format) == "channels_first":
        first += 1
    return resize_axes(x, [int(s) for s in size], [first, first + 1], method)
