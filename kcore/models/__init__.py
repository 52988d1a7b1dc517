"""kcore.models: Sequential, functional and subclassed models."""
from kcore.models.functional import Functional
from kcore.models.model import Model
from kcore.models.sequential import Sequential
from kcore.utils.registry import LAYERS as _LAYERS

# Found by name when a saved model is loaded; a Keras "Model" entry is a functional model.
_LAYERS.update({"Sequential": Sequential, "Functional": Functional, "Model": Functional})


def load_model(filepath, custom_objects=None, compile=True, **kwargs):
    """Loads a model saved by `model.save` (see `kcore.saving.load_model`)."""
    from kcore.saving import load_model as _load_model

    return _load_model(filepath, custom_objects=custom_objects, compile=compile, **kwargs)


def save_model(model, filepath, **kwargs):
    """Saves `model` to `filepath` (see `kcore.saving.save_model`)."""
    from kcore.saving import save_model as _save_model

    return _save_model(model, filepath, **kwargs)
