"""CIFAR-10: 50,000 training and 10,000 test 32x32 colour images in 10 classes."""
import os

import numpy as np

from kcore.datasets._cifar import dataset_folder, load_batch, to_data_format

_ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
_SHA256 = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
_TRAIN = [f"data_batch_{i}" for i in range(1, 6)]


def load_data():
    """((x_train, y_train), (x_test, y_test)): uint8 images (n, 32, 32, 3) (channels-first if configured) and
    uint8 labels of shape (n, 1)."""
    folder = dataset_folder("cifar-10-batches-py", _ORIGIN, _SHA256, _TRAIN + ["test_batch"])
    batches = [load_batch(os.path.join(folder, name)) for name in _TRAIN]
    x_train = np.concatenate([data for data, _ in batches])
    y_train = np.concatenate([np.asarray(labels, dtype=np.uint8) for _, labels in batches])
    x_test, y_test = load_batch(os.path.join(folder, "test_batch"))
    y_train = y_train.reshape(-1, 1)
    y_test = np.asarray(y_test, dtype=np.uint8).reshape(-1, 1)
    return (to_data_format(x_train), y_train), (to_data_format(x_test), y_test)
