"""kcore: Keras's API on a native C++ engine (OpenMP + BLAS on the CPU).

    import kcore as keras
    model = keras.Sequential([keras.layers.Dense(32, activation="relu", input_shape=(784,)),
                              keras.layers.Dense(10, activation="softmax")])
"""
__version__ = "0.1.0"

from kcore import backend  # noqa: E402  (loads the native engine)
from kcore.backend import GradientTape, Tensor, Variable, convert_to_tensor, get_num_threads, no_grad, set_num_threads
from kcore import (activations, callbacks, constraints, datasets, initializers, layers, losses, metrics, models,
                   ops, optimizers, regularizers, utils)
from kcore.layers import Input
from kcore.models import Model, Sequential
from kcore import testing  # noqa: F401

__all__ = [
    "Sequential", "Model", "Input", "Variable", "GradientTape", "Tensor", "convert_to_tensor", "no_grad",
    "set_num_threads", "get_num_threads", "activations", "callbacks", "constraints", "datasets", "initializers",
    "layers", "losses", "metrics", "models", "ops", "optimizers", "regularizers", "utils", "backend",
]
