"""kcore.utils: data helpers, seeding, the progress bar, plot_model."""
import numpy as np

from kcore.saving.object_registration import (
    CustomObjectScope,
    custom_object_scope,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
)
from kcore.utils.data_utils import pad_sequences
from kcore.utils.plotting import model_to_dot, plot_model
from kcore.utils.progbar import Progbar
from kcore.utils.rng import set_random_seed
from kcore.utils.sequence import PyDataset, Sequence


def to_categorical(y, num_classes=None, dtype="float32"):
    """One-hot encodes integer class ids (a trailing axis of size 1 is dropped), as float32 by default."""
    y = np.asarray(y)
    if y.dtype.kind == "f":
        if np.any(y != np.round(y)):
            raise ValueError("to_categorical: class ids must be integers")
    elif y.dtype.kind not in "iub":
        raise TypeError(f"to_categorical: class ids must be integers, got dtype {y.dtype}")
    y = y.astype(np.int64)
    if y.ndim > 1 and y.shape[-1] == 1:
        y = y[..., 0]
    if y.size and y.min() < 0:
        raise ValueError("to_categorical: class ids must be >= 0")
    num_classes = int(num_classes) if num_classes is not None else (int(y.max()) + 1 if y.size else 0)
    if y.size and y.max() >= num_classes:
        raise ValueError(f"to_categorical: class id {int(y.max())} is out of range for num_classes={num_classes}")
    out = np.zeros(y.shape + (num_classes,), dtype=dtype)
    np.put_along_axis(out, y[..., None], 1, axis=-1)
    return out


def normalize(x, axis=-1, order=2):
    """x divided by its `order`-norm along `axis` (zero vectors stay zero), as a NumPy array."""
    x = np.asarray(x)
    norm = np.linalg.norm(x, ord=order, axis=axis, keepdims=True)
    return x / np.where(norm == 0, 1, norm)
