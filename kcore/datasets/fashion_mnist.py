"""Fashion-MNIST: 60,000 training and 10,000 test 28x28 grayscale images of 10 kinds of clothing.

Read from the gzipped IDX files Keras keeps in `<cache>/fashion-mnist/`.
"""
import gzip
import os

import numpy as np

from kcore.datasets._files import KERAS_ORIGIN, get_file

_FILES = ("train-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
          "t10k-images-idx3-ubyte.gz")


def load_data():
    """((x_train, y_train), (x_test, y_test)): uint8 images (n, 28, 28) and uint8 labels 0..9."""
    subdir = os.path.join("datasets", "fashion-mnist")
    paths = [get_file(name, KERAS_ORIGIN + name, subdir=subdir, what=f"Fashion-MNIST ({name})") for name in _FILES]
    y_train, x_train, y_test, x_test = (_read_idx(p) for p in paths)
    return (x_train, y_train), (x_test, y_test)


def _read_idx(path):
    """An IDX file's uint8 payload: labels (n,) or images (n, rows, cols), as declared by its header."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4 or raw[:2] != b"\x00\x00" or raw[2] != 0x08:
        raise ValueError(f"{path} is not an IDX file of unsigned bytes")
    ndim = raw[3]
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(shape)):
        raise ValueError(f"{path}: header declares shape {shape} but holds {data.size} bytes")
    return data.reshape(shape).copy()
