"""CIFAR-100: 50,000 training and 10,000 test 32x32 colour images, 100 fine or 20 coarse classes."""
import os

import numpy as np

from kcore.datasets._cifar import dataset_folder, load_batch, to_data_format

_ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
_SHA256 = "85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7"


def load_data(label_mode="fine"):
    """((x_train, y_train), (x_test, y_test)): uint8 images (n, 32, 32, 3) and labels of shape (n, 1).

    Labels are int64, as Keras returns them for CIFAR-100 (its CIFAR-10 labels are uint8).
    """
    if label_mode not in ("fine", "coarse"):
        raise ValueError(f'`label_mode` must be one of "fine", "coarse". Received: label_mode={label_mode}.')
    folder = dataset_folder("cifar-100-python", _ORIGIN, _SHA256, ["train", "test"])
    key = f"{label_mode}_labels"
    x_train, y_train = load_batch(os.path.join(folder, "train"), label_key=key)
    x_test, y_test = load_batch(os.path.join(folder, "test"), label_key=key)
    y_train = np.asarray(y_train, dtype=np.int64).reshape(-1, 1)
    y_test = np.asarray(y_test, dtype=np.int64).reshape(-1, 1)
    return (to_data_format(x_train), y_train), (to_data_format(x_test), y_test)
