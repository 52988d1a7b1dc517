"""One registry helper for kcore's named objects (layers, activations, initializers, constraints, regularizers,
losses, metrics, optimizers): `get`, `serialize`, `deserialize` and `from_config` follow `keras.<module>.get`
and Keras 3's config layout, with Keras's error messages.

This module imports nothing from kcore, so any module may use it without an import cycle; a family fills its
Registry itself (e.g. kcore.layers registers the classes it exports), nobody imports a family to find names.
"""
import inspect

# Keys Keras writes that change nothing in kcore's computation.
_IGNORED_KEYS = {"quantization_config", "sparse", "ragged", "optional", "synchronized", "lora_rank", "lora_alpha",
                 "unroll", "implementation", "use_cudnn", "shared_object_id", "input_axes", "output_axes",
                 "renorm_momentum", "ema_momentum", "ema_overwrite_frequency", "loss_scale_factor",
                 "gradient_accumulation_steps"}
_BASE_KEYS = {"name", "trainable", "dtype", "input_shape", "batch_input_shape", "batch_size", "input_dim",
              "activity_regularizer"}


def dtype_name(value):
    """The dtype name of a config's `dtype` entry (a Keras 3 DTypePolicy dict or a plain name)."""
    if isinstance(value, dict):
        return value.get("config", {}).get("name", "float32")
    return value


def init_parameters(cls):
    """Names every __init__ along cls's MRO accepts explicitly."""
    names = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        for p in inspect.signature(init).parameters.values():
            if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL) and p.name != "self":
                names.add(p.name)
    return names


def filter_config(cls, config, what):
    """The config entries cls accepts; raises ValueError (naming `what`) on entries kcore cannot honour."""
    accepted = init_parameters(cls) | _BASE_KEYS
    out, rejected = {}, {}
    for key, value in config.items():
        if key in accepted:
            out[key] = value
        elif key not in _IGNORED_KEYS and value not in (None, False, 0, 0.0, [], {}):
            rejected[key] = value
    if rejected:
        raise ValueError(f"{what}: kcore does not support the config entries {rejected}")
    if "dtype" in out:
        out["dtype"] = dtype_name(out["dtype"])
    return out


class Configurable:
    """Base of small config-described objects (initializers, constraints, regularizers): an empty config by
    default, and `from_config` that accepts exactly what the constructor does (Keras-only keys ignored)."""

    def get_config(self):
        """The constructor arguments that rebuild this object."""
        return {}

    @classmethod
    def from_config(cls, config):
        """A new object from a `get_config` dict; unknown non-default entries raise ValueError."""
        return cls(**filter_config(cls, config, f"{cls.__name__}.from_config"))


class NamedObject:
    """Base of named config objects whose constructor takes their whole config (losses, metrics):
    `from_config(config)` is `cls(**config)`; repr shows the class and the name."""

    @classmethod
    def from_config(cls, config):
        """A new object from a `get_config` dict."""
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


class Registry:
    """Names -> classes or functions of one family (`kind`, e.g. "initializer"), saved under Keras module
    `module` (e.g. "keras.initializers"). `fold_case` makes name lookups case-insensitive (optimizers)."""

    def __init__(self, kind, module, names=None, fold_case=False):
        self.kind, self.module, self.fold_case = kind, module, fold_case
        self._table = {}
        self.update(names or {})

    def _key(self, name):
        return name.lower() if self.fold_case and isinstance(name, str) else name

    def register(self, name, obj):
        """Makes `get(name)` find `obj`."""
        self._table[self._key(name)] = obj

    def update(self, names):
        """Registers every (name, object) pair of a mapping."""
        for name, obj in dict(names).items():
            self.register(name, obj)

    def register_classes(self, namespace, base):
        """Registers every subclass of `base` in a module namespace (`vars(module)`) under its exported name."""
        self.update({name: obj for name, obj in namespace.items()
                     if isinstance(obj, type) and issubclass(obj, base) and not name.startswith("_")})

    def lookup(self, name, default=None):
        """The object registered as `name`, else `default`."""
        return self._table.get(self._key(name), default) if isinstance(name, str) else default

    def __contains__(self, name):
        return self.lookup(name) is not None

    def items(self):
        """(name, object) pairs, in registration order."""
        return self._table.items()

    def names(self):
        """The registered names, sorted."""
        return sorted(self._table)

    def deserialize(self, config, custom_objects=None, extra=None):
        """The object a {'class_name', 'config'} dict describes, built with its class's from_config; a bare
        name is resolved as `get` does."""
        if isinstance(config, str):
            return self.get(config, extra)
        name = config.get("class_name")
        cls = (custom_objects or {}).get(name) or self.lookup(name) or (extra or {}).get(name)
        if not isinstance(cls, type):
            raise ValueError(f"Could not interpret {self.kind} identifier: {config}")
        return cls.from_config(config.get("config", {}))

    def get(self, identifier, extra=None):
        """Keras's rules: None stays None; a name is looked up (then in `extra`), a dict deserialized; a class
        found or given is instantiated with no arguments; any other callable is returned as it is. Anything
        else (an unknown name included) raises ValueError("Could not interpret <kind> identifier: ...")."""
        if identifier is None:
            return None
        if isinstance(identifier, dict):
            obj = self.deserialize(identifier, extra=extra)
        elif isinstance(identifier, str):
            obj = self.lookup(identifier) or (extra or {}).get(identifier)
            if obj is None:
                raise ValueError(f"Could not interpret {self.kind} identifier: {identifier}. "
                                 f"Known names: {self.names()}")
        else:
            obj = identifier
        if isinstance(obj, type):
            obj = obj()
        if not callable(obj):
            raise ValueError(f"Could not interpret {self.kind} identifier: {identifier}")
        return obj

    def serialize(self, obj):
        """{'module', 'class_name', 'config', 'registered_name'} of an object, as Keras 3 writes built-ins;
        None stays None."""
        if obj is None:
            return None
        return {"module": self.module, "class_name": type(obj).__name__, "config": obj.get_config(),
                "registered_name": None}


def serialize_function(fn):
    """How Keras 3 writes a plain function into a config (the `fn` of LossFunctionWrapper / MeanMetricWrapper)."""
    return {"module": "builtins", "class_name": "function", "config": fn.__name__, "registered_name": "function"}


def function_from_config(value, table, kind):
    """The function a config's `fn` entry names (a serialize_function dict or a bare name), looked up in
    `table`; a callable is returned as it is."""
    if callable(value):
        return value
    name = value.get("config") if isinstance(value, dict) else value
    fn = table.get(name) if isinstance(name, str) else None
    if fn is None or isinstance(fn, type):
        raise ValueError(f"Could not interpret {kind} function: {value}")
    return fn


class FunctionWrapperConfig:
    """get_config/from_config of a wrapper around a plain function (LossFunctionWrapper, MeanMetricWrapper):
    the plain wrapper class (`_wrapper_base`) writes its function as `fn`; built-in subclasses know theirs.
    A subclass sets `_wrapper_base`, `_fn_table()` (the functions `fn` may name) and `_fn_kind`."""

    _wrapper_base = None
    _fn_kind = "function"

    def _wrapped_fn_config(self, config, fn):
        if type(self) is self._wrapper_base:
            config["fn"] = serialize_function(fn)
        return config

    @classmethod
    def _fn_table(cls):
        return {}

    @classmethod
    def from_config(cls, config):
        """A wrapper from its get_config dict (the plain wrapper looks its `fn` up by name)."""
        if cls is not cls._wrapper_base:
            return cls(**config)
        config = dict(config)
        fn = function_from_config(config.pop("fn", None), cls._fn_table(), cls._fn_kind)
        return cls(fn, **config)


# The families whose classes are found by name when a model is loaded.
LAYERS = Registry("layer", "keras.layers")
