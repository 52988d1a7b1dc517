"""kcore.datasets: the bundled digits set and Keras's classic datasets (read from the Keras cache)."""
from kcore.datasets import (boston_housing, cifar10, cifar100, digits, fashion_mnist, imdb, mnist,  # noqa: F401
                            reuters)
from kcore.datasets._files import DatasetNotFoundError  # noqa: F401
