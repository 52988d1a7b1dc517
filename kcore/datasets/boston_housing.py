"""Boston housing prices (Keras's `boston_housing.npz`, keys x and y): 506 samples of 13 features."""
import numpy as np

from kcore.datasets._files import KERAS_ORIGIN, get_file, load_npz

_SHA256 = "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"


def load_data(path="boston_housing.npz", test_split=0.2, seed=113):
    """((x_train, y_train), (x_test, y_test)), float64: samples shuffled with RandomState(seed), the last
    `test_split` fraction is the test set (404 / 102 samples for the real file)."""
    if not 0 <= test_split < 1:
        raise ValueError(f"test_split must be in [0, 1), got {test_split}")
    path = get_file(path, KERAS_ORIGIN + "boston_housing.npz", file_hash=_SHA256,
                    what="Boston housing (boston_housing.npz)")
    data = load_npz(path)
    x, y = data["x"], data["y"]
    order = np.arange(len(x))
    np.random.RandomState(seed).shuffle(order)
    x, y = x[order], y[order]
    n_train = int(len(x) * (1 - test_split))
    return (x[:n_train], y[:n_train]), (x[n_train:], y[n_train:])
