"""The UCI handwritten digits (8x8, 1,797 samples), bundled with kcore (see data/DIGITS_LICENSE.txt).

`load_data()` returns ((x_train, y_train), (x_test, y_test)): uint8 images (n, 8, 8) with
values 0..16 and uint8 labels 0..9. The split is fixed: the samples are permuted with
NumPy's RandomState(seed) (seed 113 by default) and the last `test_split` (20%) form the test set,
giving 1,437 training and 360 test samples.
"""
import os

import numpy as np

_PATH = os.path.join(os.path.dirname(__file__), "data", "digits.npz")


def load_data(test_split=0.2, seed=113):
    with np.load(_PATH) as f:
        images, labels = f["images"], f["labels"]
    order = np.random.RandomState(seed).permutation(len(images))
    images, labels = images[order], labels[order]
    n_train = int(len(images) * (1 - test_split))
    return (images[:n_train], labels[:n_train]), (images[n_train:], labels[n_train:])
