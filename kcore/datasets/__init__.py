"""kcore.datasets: the bundled digits set and Keras's classic datasets (read from the Keras cache).

Each dataset module is imported on first use (`kcore.datasets.mnist.load_data()`), so importing kcore
does not pull in the download machinery (urllib, tarfile, ...)."""
import importlib

_DATASETS = ("boston_housing", "cifar10", "cifar100", "digits", "fashion_mnist", "imdb", "mnist", "reuters")
__all__ = list(_DATASETS) + ["DatasetNotFoundError"]


def __getattr__(name):
    if name in _DATASETS:
        return importlib.import_module(f"kcore.datasets.{name}")
    if name == "DatasetNotFoundError":
        from kcore.datasets._files import DatasetNotFoundError

        return DatasetNotFoundError
    raise AttributeError(f"module 'kcore.datasets' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
