"""Turning what fit/evaluate/predict receive into batches of NumPy arrays."""
import math
import warnings

import numpy as np


def _check_array(a, what):
    if isinstance(a, (list, tuple)) and a and not np.isscalar(a[0]) and not isinstance(a[0], (list, tuple)):
        a = np.asarray(a)
    arr = a.numpy() if hasattr(a, "numpy") and not isinstance(a, np.ndarray) else np.asarray(a)
    if arr.dtype.kind in "OUSVc" and arr.dtype.name != "bfloat16":  # ml_dtypes.bfloat16 is kind "V"
        raise TypeError(f"{what} has dtype {arr.dtype}; kcore needs real numeric arrays (float or int). Convert "
                        f"your data, e.g. np.asarray({what}, dtype='float32')")
    if (arr.dtype.kind == "f" or arr.dtype.name == "bfloat16") and arr.size and _has_nonfinite(arr):
        warnings.warn(f"{what} contains NaN or infinite values; the loss and weights will become NaN",
                      RuntimeWarning, stacklevel=4)
    if arr.ndim == 0:
        raise ValueError(f"{what} must have a batch axis, got a scalar")
    return arr


def _has_nonfinite(arr):
    from kcore.backend.native import _C

    if arr.dtype in (np.float32, np.float64) and arr.flags.c_contiguous:
        return _C.has_nonfinite(_C.from_numpy(arr))  # one pass, no temporary array
    return not np.all(np.isfinite(arr))


def flatten_arrays(data, what):
    """A single array, a list/tuple of arrays or a dict of arrays -> (list of arrays, structure)."""
    if data is None:
        return None, None
    if isinstance(data, dict):
        keys = list(data)
        return [_check_array(data[k], f"{what}[{k!r}]") for k in keys], keys
    if isinstance(data, (list, tuple)) and data and (hasattr(data[0], "shape") or isinstance(data[0], (list, tuple))):
        return [_check_array(a, f"{what}[{i}]") for i, a in enumerate(data)], len(data)
    return [_check_array(data, what)], None


def pack(arrays, structure):
    if structure is None:
        return arrays[0]
    if isinstance(structure, list):
        return dict(zip(structure, arrays))
    return list(arrays)


def as_sample_weight(sample_weight, what="sample_weight"):
    """`sample_weight` as a float32 array, or a ValueError naming the argument when it holds no numbers."""
    if isinstance(sample_weight, (str, bytes, dict)):
        raise TypeError(f"{what} must be an array of numbers (one weight per sample), got {sample_weight!r:.80}")
    try:
        return np.asarray(sample_weight, dtype=np.float32)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{what} must be an array of numbers (one weight per sample), got "
                         f"{sample_weight!r:.80} ({e})") from None


class ArrayBatches:
    """Batches of arrays: (x, y, sample_weight) per step, reshuffled each epoch if asked."""

    def __init__(self, x, y=None, sample_weight=None, batch_size=32, shuffle=False):
        self.xs, self.x_struct = flatten_arrays(x, "x")
        self.ys, self.y_struct = flatten_arrays(y, "y")
        self.sw = None if sample_weight is None else as_sample_weight(sample_weight)
        n = len(self.xs[0])
        for a in self.xs + (self.ys or []):
            if len(a) != n:
                sizes = [len(a) for a in self.xs] + [len(a) for a in (self.ys or [])]
                raise ValueError(f"Data cardinality is ambiguous: x and y must have the same number of samples, "
                                 f"got sizes {sizes}")
        if n == 0:
            raise ValueError("Expected non-empty input data, got arrays with 0 samples")
        if self.sw is not None and len(self.sw) != n:
            raise ValueError(f"sample_weight has {len(self.sw)} entries but x has {n} samples")
        self.n = n
        self.batch_size = int(batch_size)
        if self.batch_size <= 0:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size}")
        self.shuffle = shuffle
        self.steps = math.ceil(n / self.batch_size)

    def split(self, fraction):
        """Keras's validation_split: the last part of the data, taken before shuffling."""
        split_at = int(self.n * (1.0 - fraction))
        if split_at == 0 or split_at == self.n:
            raise ValueError(f"validation_split={fraction} leaves an empty training or validation set for "
                             f"{self.n} samples")

        def part(arrays, sl):
            return None if arrays is None else [a[sl] for a in arrays]

        train, val = (ArrayBatches.__new__(ArrayBatches) for _ in range(2))
        for obj, sl in ((train, slice(0, split_at)), (val, slice(split_at, None))):
            obj.xs, obj.x_struct = part(self.xs, sl), self.x_struct
            obj.ys, obj.y_struct = part(self.ys, sl), self.y_struct
            obj.sw = None if self.sw is None else self.sw[sl]
            obj.n = len(obj.xs[0])
            obj.batch_size, obj.shuffle = self.batch_size, self.shuffle
            obj.steps = math.ceil(obj.n / obj.batch_size)
        val.shuffle = False
        return train, val

    def epoch_order(self):
        """This epoch's sample order (None: in order), reshuffled when shuffle is on."""
        if not self.shuffle:
            return None
        from kcore.utils.rng import generator

        order = generator().permutation(self.n)
        if self.shuffle == "batch":
            blocks = [order[i:i + self.batch_size] for i in range(0, self.n, self.batch_size)]
            order = np.concatenate([np.sort(b) for b in blocks])
        return order

    def take(self, rows):
        """(x, y, sample_weight) for `rows` (a slice or an index array), packed like the inputs."""
        take = (lambda a: a[rows]) if isinstance(rows, slice) else (lambda a: np.take(a, rows, axis=0))
        xb = pack([take(a) for a in self.xs], self.x_struct)
        yb = None if self.ys is None else pack([take(a) for a in self.ys], self.y_struct)
        return xb, yb, None if self.sw is None else take(self.sw)

    def __iter__(self):
        order = self.epoch_order()
        for start in range(0, self.n, self.batch_size):
            stop = min(start + self.batch_size, self.n)
            yield self.take(slice(start, stop) if order is None else order[start:stop])


class GeneratorBatches:
    """Batches from a Python generator / iterable or a kcore.utils.Sequence."""

    def __init__(self, source, steps=None):
        self.source = source
        self.steps = steps if steps is not None else (len(source) if hasattr(source, "__len__") else None)
        self._iterator = None

    def __iter__(self):
        if hasattr(self.source, "__getitem__") and hasattr(self.source, "__len__"):
            n = self.steps or len(self.source)
            for i in range(n):
                yield _unpack(self.source[i % len(self.source)])
            if hasattr(self.source, "on_epoch_end"):
                self.source.on_epoch_end()
            return
        if self._iterator is None:
            self._iterator = iter(self.source)
        count = 0
        while self.steps is None or count < self.steps:
            try:
                item = next(self._iterator)
            except StopIteration:
                self._iterator = None
                return
            count += 1
            yield _unpack(item)


def _unpack(item):
    if isinstance(item, tuple):
        if len(item) == 2:
            return item[0], item[1], None
        if len(item) == 3:
            return item
        if len(item) == 1:
            return item[0], None, None
    return item, None, None


def make_batches(x, y=None, sample_weight=None, batch_size=None, shuffle=False, steps=None):
    if _is_generator_like(x):
        if y is not None:
            raise ValueError("`y` must not be given when x is a generator or Sequence (yield (x, y) pairs)")
        return GeneratorBatches(x, steps)
    return ArrayBatches(x, y, sample_weight, batch_size or 32, shuffle)


def _is_generator_like(x):
    import types

    from kcore.utils.sequence import Sequence

    return isinstance(x, (types.GeneratorType, Sequence)) or (
        hasattr(x, "__next__") and not isinstance(x, np.ndarray))
