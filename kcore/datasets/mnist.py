"""MNIST handwritten digits (Keras's `mnist.npz`): 60,000 training and 10,000 test 28x28 images."""
from kcore.datasets._files import KERAS_ORIGIN, get_file, load_npz

_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"


def load_data(path="mnist.npz"):
    """((x_train, y_train), (x_test, y_test)): uint8 images (n, 28, 28) with values 0..255 and uint8 labels 0..9.

    `path` is relative to the Keras cache folder (~/.keras/datasets) or absolute.
    """
    path = get_file(path, KERAS_ORIGIN + "mnist.npz", file_hash=_SHA256, what="MNIST (mnist.npz)")
    data = load_npz(path)
    return (data["x_train"], data["y_train"]), (data["x_test"], data["y_test"])
