"""kcore: Keras's API on a native C++ engine (OpenMP + BLAS on the CPU).

    import kcore as keras
    model = keras.Sequential([keras.layers.Dense(32, activation="relu", input_shape=(784,)),
                              keras.layers.Dense(10, activation="softmax")])
"""
__version__ = "0.1.0"

from kcore import (  # kcore.backend loads the native engine
    activations,
    backend,
    callbacks,
    constraints,
    dtype_policies,
    initializers,
    layers,
    losses,
    metrics,
    mixed_precision,
    models,
    ops,
    optimizers,
    regularizers,
    utils,
)
from kcore.backend import (
    GradientTape,
    Tensor,
    Variable,
    convert_to_tensor,
    from_dlpack,
    get_device,
    get_num_threads,
    no_grad,
    set_device,
    set_num_threads,
)
from kcore.dtype_policies import DTypePolicy, FloatDTypePolicy
from kcore.layers import Input
from kcore.models import Model, Sequential

_LAZY_SUBMODULES = ("datasets", "saving", "testing", "cuda", "info", "config")  # imported on first attribute access


def __getattr__(name):
    """`kcore.datasets` & co. load on first use, so `import kcore` stays fast."""
    if name in _LAZY_SUBMODULES:
        import importlib

        return importlib.import_module(f"kcore.{name}")
    raise AttributeError(f"module 'kcore' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_LAZY_SUBMODULES))

__all__ = [
    "Sequential", "Model", "Input", "Variable", "GradientTape", "Tensor", "convert_to_tensor", "no_grad",
    "set_num_threads", "get_num_threads", "set_device", "get_device", "from_dlpack", "activations", "callbacks",
    "constraints", "datasets", "initializers", "dtype_policies", "mixed_precision", "DTypePolicy", "FloatDTypePolicy",
    "layers", "losses", "metrics", "models", "ops", "optimizers", "regularizers", "utils", "backend",
]
