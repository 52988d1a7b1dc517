"""How every `kcore.<module>.get` resolves an identifier, following `keras.<module>.get`."""


def deserialize(config, table, kind, custom_objects=None):
    """The object a {'class_name', 'config'} dict describes, built with the class's from_config."""
    cls = {**table, **(custom_objects or {})}.get(config.get("class_name"))
    if not isinstance(cls, type):
        raise ValueError(f"Could not interpret {kind} identifier: {config}")
    return cls.from_config(config.get("config", {}))


def resolve(identifier, table, kind):
    """Keras's rules: None stays None; a name is looked up in `table`, a dict deserialized; a class found or
    given is instantiated with no arguments; any other callable is returned as it is. Anything else (an
    unknown name included) raises ValueError("Could not interpret <kind> identifier: ...")."""
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        obj = deserialize(identifier, table, kind)
    elif isinstance(identifier, str):
        obj = table.get(identifier)
        if obj is None:
            raise ValueError(f"Could not interpret {kind} identifier: {identifier}. Known names: {sorted(table)}")
    else:
        obj = identifier
    if isinstance(obj, type):
        obj = obj()
    if not callable(obj):
        raise ValueError(f"Could not interpret {kind} identifier: {identifier}")
    return obj


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
