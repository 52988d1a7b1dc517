"""Configs of functions and custom objects in Keras 3's layout, and their resolution on load.

    function:       {"module": "builtins", "class_name": "function", "config": "<registered name>",
                     "registered_name": "function"}
    custom object:  {"module": <module>, "class_name": <class>, "config": get_config(),
                     "registered_name": "<package>name"}   (the class name when not registered)
    Python lambda:  {"class_name": "__lambda__", "config": {"code": ..., "defaults": ..., "closure": ...}}
"""
import numpy as np

from kcore.saving.object_registration import find_custom_object, get_registered_name, is_registered

_SPECIAL = ("function", "__lambda__", "__numpy__", "__keras_tensor__")


def is_builtin(obj):
    """Objects defined by kcore itself, saved by name."""
    module = getattr(obj, "__module__", None) or ""
    return (module == "kcore" or module.startswith("kcore.")) and not is_registered(obj)


def serialize_function(fn):
    """The config of a (non-lambda) Python function; kcore.ops functions under Keras's keras.ops names."""
    import kcore

    name = getattr(fn, "__name__", None)
    if is_builtin(fn) and name and getattr(kcore.ops, name, None) is fn:
        return {"module": "keras.ops", "class_name": "function", "config": name, "registered_name": name}
    return {"module": "builtins", "class_name": "function", "config": get_registered_name(fn),
            "registered_name": "function"}


def serialize_object(obj):
    """The config of an object with get_config() (custom losses, metrics, layers ...)."""
    cls = type(obj)
    module = cls.__module__ if cls.__module__ != "__main__" else None
    return {"module": module, "class_name": cls.__name__, "config": _plain(obj.get_config()),
            "registered_name": get_registered_name(cls)}


def serialize_callable(obj):
    """A compile argument (loss, metric) or activation: names for kcore's own, configs for custom ones."""
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    if isinstance(obj, (list, tuple)):
        return [serialize_callable(o) for o in obj]
    if isinstance(obj, dict):
        return {k: serialize_callable(v) for k, v in obj.items()}
    if is_builtin(obj) or is_builtin(type(obj)) and not is_registered(type(obj)):
        return getattr(obj, "name", None) or getattr(obj, "__name__", None) or type(obj).__name__
    if isinstance(obj, type):
        raise TypeError(f"Cannot save the class {obj.__name__} as a compile argument: pass an instance")
    if getattr(obj, "__name__", None) == "<lambda>":
        from kcore.saving.function_code import dump_function

        return dump_function(obj)  # loads only with safe_mode=False, as in Keras
    if hasattr(obj, "get_config") and not callable(getattr(obj, "__code__", None)):
        return serialize_object(obj)
    return serialize_function(obj)


def _plain(value):
    """A get_config() value made JSON-ready (tuples to lists, NumPy scalars and arrays to Keras's forms)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return {"class_name": "__numpy__", "config": {"value": value.tolist(), "dtype": str(value.dtype)}}
    if isinstance(value, np.generic):
        return value.item()
    return value


def _not_found(kind, name, config):
    return ValueError(f"Unknown {kind}: '{name}'. Decorate it with "
                      "@kcore.saving.register_keras_serializable() before loading, or pass it in `custom_objects` "
                      f"(e.g. load_model(path, custom_objects={{'{name}': {name.split('>')[-1]}}})). Config: "
                      f"{_short(config)}")


def _short(config, limit=300):
    text = repr(config)
    return text if len(text) <= limit else text[:limit] + "..."


def resolve_function(config, custom_objects=None):
    """The function a function config names."""
    name = config.get("config")
    if not isinstance(name, str):
        raise ValueError(f"A function config must name the function with a string, got {_short(config)}")
    fn = find_custom_object([name], custom_objects)
    if fn is None:
        fn = _kcore_function(name, config.get("module"))
    if fn is None:
        raise _not_found("function", name, config)
    return fn


def _kcore_function(name, module):
    """kcore's function for a built-in name: keras.ops functions, activations, losses."""
    from kcore import activations, losses, ops

    if module == "keras.ops" and callable(getattr(ops, name, None)) and not name.startswith("_"):
        return getattr(ops, name)
    for registry in (activations._REGISTRY, losses._REGISTRY):
        fn = registry.lookup(name)
        if fn is not None and not isinstance(fn, type):  # functions only, not the loss classes
            return fn
    return None


def custom_class(config, custom_objects=None):
    """The class a custom object's config names (by registered name, then class name), or None."""
    names = [config.get("registered_name"), config.get("class_name")]
    return find_custom_object([n for n in names if n not in (None, "function")], custom_objects)


def is_custom_config(value):
    """A {module, class_name, config, registered_name} dict naming a class kcore does not define itself."""
    if not (isinstance(value, dict) and "class_name" in value and "config" in value):
        return False
    if value["class_name"] in _SPECIAL:
        return False
    module = value.get("module")
    return value.get("registered_name") is not None and not (isinstance(module, str) and module.startswith("keras"))


def deserialize_keras_object(config, custom_objects=None):
    """The object a config describes: functions and custom objects (by registration or `custom_objects`),
    NumPy arrays, and plain values; containers are resolved element-wise."""
    if isinstance(config, list):
        return [deserialize_keras_object(c, custom_objects) for c in config]
    if isinstance(config, str):
        found = find_custom_object([config], custom_objects)
        return found if found is not None else config
    if not isinstance(config, dict):
        return config
    if "class_name" not in config or "config" not in config:
        return {k: deserialize_keras_object(v, custom_objects) for k, v in config.items()}
    kind = config["class_name"]
    if kind == "function":
        return resolve_function(config, custom_objects)
    if kind == "__numpy__":
        return np.array(config["config"]["value"], dtype=config["config"]["dtype"])
    if kind == "__lambda__":
        from kcore.saving.function_code import load_function

        return load_function(config, "a deserialized object")
    cls = custom_class(config, custom_objects)
    if cls is None:
        cls = _kcore_class(kind, config.get("module"))
    if cls is None:
        raise _not_found("object", config.get("registered_name") or kind, config)
    inner = config["config"] or {}
    if not isinstance(inner, dict):
        raise ValueError(f"The config of '{kind}' must be a dict, got {_short(inner)}")
    return cls.from_config(inner)


_CLASS_AREAS = ("layers", "losses", "metrics", "initializers", "regularizers", "constraints", "optimizers")


def _kcore_class(name, module):
    """A class kcore defines in one of the modelling modules (never anything else a config might name)."""
    import kcore

    area = (module or "").split(".")[-1]
    for sub in ((area,) if area in _CLASS_AREAS else ()) + _CLASS_AREAS:
        obj = getattr(getattr(kcore, sub), name, None)
        if isinstance(obj, type) and hasattr(obj, "from_config"):
            return obj
    return None


def resolve_nested(value, custom_objects=None):
    """A layer config with its function configs and custom non-layer objects (activations, initializers,
    regularizers ... given by config) replaced by the objects; layer configs are left for the layer."""
    from kcore.layers.layer import Layer

    if isinstance(value, list):
        return [resolve_nested(v, custom_objects) for v in value]
    if not isinstance(value, dict):
        return value
    if value.get("class_name") == "function" and "config" in value:
        return resolve_function(value, custom_objects)
    if value.get("class_name") == "__lambda__" and "config" in value:
        from kcore.saving.function_code import load_function

        return load_function(value, "its config")
    if is_custom_config(value):
        cls = custom_class(value, custom_objects)
        if cls is None:
            raise _not_found("object", value.get("registered_name"), value)
        if not (isinstance(cls, type) and issubclass(cls, Layer)):
            return deserialize_keras_object(value, custom_objects)
    return {k: resolve_nested(v, custom_objects) for k, v in value.items()}
