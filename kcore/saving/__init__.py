"""Saving and loading models (.keras) and weights (.weights.h5) in Keras 3's formats and Keras 2's legacy
.h5, and the registration of custom objects so they survive a round trip."""
from kcore.saving.object_registration import (
    CustomObjectScope,
    custom_object_scope,
    enable_unsafe_deserialization,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
)
from kcore.saving.saving_api import load_model, load_weights, save_model, save_weights


def serialize_keras_object(obj):
    """The JSON-ready config of a custom object or function (Keras 3's layout)."""
    from kcore.saving.objects import serialize_callable

    return serialize_callable(obj)


def deserialize_keras_object(config, custom_objects=None):
    """The object a config from serialize_keras_object (or a Keras 3 file) describes."""
    from kcore.saving.objects import deserialize_keras_object as deserialize

    return deserialize(config, custom_objects)
