"""Layer and model configs in Keras 3's JSON layout (so .keras files move between Keras and kcore)."""
import inspect

from kcore.saving.objects import serialize_object
from kcore.utils.registry import LAYERS, dtype_name, filter_config, init_parameters  # noqa: F401 (re-exported)


def dtype_policy(dtype):
    return {"module": "keras", "class_name": "DTypePolicy", "config": {"name": dtype}, "registered_name": None}


def serialize_layer(layer):
    from kcore.saving.objects import _plain, is_builtin

    config = _plain(dict(layer.get_config()))
    config.pop("batch_input_shape", None)  # Keras 3 rejects it; models carry an InputLayer entry instead
    if "dtype" in config and isinstance(config["dtype"], str):
        config["dtype"] = dtype_policy(config["dtype"])
    cls = type(layer)
    if is_builtin(cls):
        out = {"module": "keras.layers", "class_name": cls.__name__, "config": config, "registered_name": None}
    else:  # as Keras 3 writes custom classes: found again by registered name (the class name when unregistered)
        out = serialize_object(layer)
        out["config"] = config
    if layer.built and layer._build_shape is not None and type(layer).__name__ != "InputLayer":
        out["build_config"] = {"input_shape": _jsonable(layer._build_shape)}
    return out


def _layer_class(config, custom_objects):
    from kcore.saving.objects import custom_class

    name = config["class_name"]
    cls = custom_class(config, custom_objects) or LAYERS.lookup(name)
    if cls is None:
        shown = config.get("registered_name") or name
        raise ValueError(f"Unknown layer: '{shown}'. Decorate the class with "
                         "@kcore.saving.register_keras_serializable() or pass it in `custom_objects` when loading, "
                         f"e.g. load_model(path, custom_objects={{'{name}': {name}}})")
    return cls


def deserialize_layer(config, custom_objects=None):
    """The layer a {class_name, config, build_config} entry describes, built; a config kcore cannot honour
    (unknown class, bad or absurd values) raises ValueError naming the layer."""
    from kcore.saving.config_checks import check_layer_config, check_shape, rebuilding
    from kcore.saving.objects import resolve_nested

    check_layer_config(config)
    name, inner = config["class_name"], config.get("config") or {}
    cls = _layer_class(config, custom_objects)
    with rebuilding(inner.get("name"), name):
        inner = resolve_nested(inner, custom_objects)
        if cls is LAYERS.lookup("Functional"):  # a functional model used as a layer
            layer = functional_from_config(inner, custom_objects)
        elif hasattr(cls, "from_config") and "custom_objects" in inspect.signature(cls.from_config).parameters:
            layer = cls.from_config(inner, custom_objects=custom_objects)
        else:
            layer = cls.from_config(inner)
        build = config.get("build_config")
        if build and not layer.built and build.get("input_shape") is not None:
            layer._maybe_build(_tupleize(check_shape(build["input_shape"], "build_config input_shape")))
    return layer


def _jsonable(shape):
    if isinstance(shape, (list, tuple)):
        return [_jsonable(s) for s in shape]
    return shape


def _tupleize(shape):
    if isinstance(shape, list) and shape and isinstance(shape[0], list):
        return [_tupleize(s) for s in shape]
    return tuple(shape) if isinstance(shape, list) else shape


# -- functional models ------------------------------------------------------------------------------


def _history_entry(tensor, node_indices):
    layer, node_index, tensor_index = tensor._keras_history
    return [layer.name, node_indices.get((id(layer), node_index), node_index), tensor_index]


def functional_config(model):
    """Keras 3's functional config: layers with their inbound nodes, input and output layers."""
    from kcore.layers.keras_tensor import KerasTensor

    node_indices, counts = {}, {}
    for node in model._nodes:
        idx = node.layer._inbound_nodes.index(node)
        node_indices[(id(node.layer), idx)] = counts.get(id(node.layer), 0)
        counts[id(node.layer)] = counts.get(id(node.layer), 0) + 1

    def tensor_config(t):
        return {"class_name": "__keras_tensor__",
                "config": {"shape": list(t.shape), "dtype": t.dtype, "keras_history": _history_entry(t, node_indices)}}

    def args_config(inputs):
        if isinstance(inputs, KerasTensor):
            return tensor_config(inputs)
        return [args_config(i) for i in inputs]

    layers = []
    for layer in model.layers:
        entry = serialize_layer(layer)
        entry["name"] = layer.name
        entry["inbound_nodes"] = []
        for n in model._nodes:
            if n.layer is not layer:
                continue
            # a layer may fold tensor keyword arguments into its inputs (RNN's initial_state): unfold them
            split = getattr(layer, "_node_arguments", None)
            args, kwargs = split(n.inputs, n.kwargs) if split else (n.inputs, n.kwargs)
            tensors = {k: args_config(v) for k, v in kwargs.items() if _is_symbolic(v)}
            entry["inbound_nodes"].append({"args": [args_config(args)], "kwargs": {**_jsonable_kwargs(kwargs),
                                                                                   **tensors}})
        layers.append(entry)
    return {"name": model.name, "trainable": model.trainable, "layers": layers,
            "input_layers": _layer_refs(model._input_struct, node_indices),
            "output_layers": _layer_refs(model._output_struct, node_indices)}


def _is_symbolic(value):
    from kcore.layers.keras_tensor import any_symbolic

    return any_symbolic(value)


def _jsonable_kwargs(kwargs):
    return {k: v for k, v in kwargs.items() if isinstance(v, (bool, int, float, str, type(None)))}


def _layer_refs(struct, node_indices):
    from kcore.layers.keras_tensor import KerasTensor

    if isinstance(struct, KerasTensor):
        return _history_entry(struct, node_indices)
    if isinstance(struct, dict):
        return {k: _history_entry(v, node_indices) for k, v in struct.items()}
    return [_history_entry(t, node_indices) for t in struct]


def functional_from_config(config, custom_objects=None):
    from kcore.models.functional import Functional
    from kcore.saving.config_checks import check_shape, rebuilding

    outputs_of = {}  # (layer name, node index) -> output tensors
    pending = []  # [layer, entry name, [(node index, node config)]] still to be called
    mask_ops = _mask_operations(config)
    for entry in config["layers"]:
        if entry.get("name") in mask_ops:
            continue  # a mask Keras computed in the graph: kcore's layers propagate the same mask themselves
        layer = deserialize_layer(entry, custom_objects)
        if type(layer).__name__ == "InputLayer":
            outputs_of[(layer.name, 0)] = [layer.output]
        else:
            pending.append([layer, entry.get("name", layer.name), list(enumerate(entry.get("inbound_nodes", [])))])
    # A shared layer's later calls may consume layers listed after it: call nodes as their inputs appear.
    progress = True
    while progress and any(nodes for _, _, nodes in pending):
        progress = False
        for layer, name, nodes in pending:
            with rebuilding(name, type(layer).__name__):
                while nodes and _node_ready(nodes[0][1], outputs_of):
                    node_index, node = nodes.pop(0)
                    kwargs = {k: _resolve_args(v, outputs_of, name) if _is_tensor_config(v) else v
                              for k, v in node.get("kwargs", {}).items()}
                    out = layer(_resolve_args(node["args"][0], outputs_of, name), **kwargs)
                    out = out if isinstance(out, list) else [out]
                    check_shape([list(t.shape) for t in out], "its output shape")
                    outputs_of[(layer.name, node_index)] = out
                    progress = True
    stuck = [name for _, name, nodes in pending if nodes]
    if stuck:
        raise ValueError(f"The functional config cannot be rebuilt: the inputs of layers {stuck} are never defined")

    def ref(r):
        return outputs_of[(r[0], r[1])][r[2]]

    def refs(spec):
        if isinstance(spec, dict):
            return {k: ref(v) for k, v in spec.items()}
        if spec and isinstance(spec[0], str):
            return ref(spec)
        return [ref(r) for r in spec]

    return Functional(refs(config["input_layers"]), refs(config["output_layers"]), name=config.get("name"))


def _mask_operations(config):
    """Names of the Keras 3 operation nodes (NotEqual, Any, ...: entries whose module is keras.src.ops.*) that a
    functional config holds only to compute masks: Keras records Embedding(mask_zero) and Masking masks as such ops
    and passes them to the next layers as `mask=`. Those `mask` arguments are dropped here (kcore propagates the same
    masks), and the ops skipped; an operation used any other way is a clear error."""
    ops = {e.get("name") for e in config.get("layers", []) if isinstance(e, dict)
           and str(e.get("module") or "").startswith(("keras.src.ops", "keras.ops"))}
    if not ops:
        return ops
    used_elsewhere = set()
    for entry in config["layers"]:
        for node in entry.get("inbound_nodes", []) if isinstance(entry, dict) else []:
            kwargs = node.get("kwargs", {}) if isinstance(node, dict) else {}
            if _is_tensor_config(kwargs.get("mask")) and _history_names(kwargs["mask"]) <= ops:
                del kwargs["mask"]
            if entry.get("name") not in ops:
                used_elsewhere |= _history_names([node.get("args", []), list(kwargs.values())]) & ops
    for key in ("output_layers", "input_layers"):
        spec = config.get(key) or []
        refs = spec.values() if isinstance(spec, dict) else (spec if spec and not isinstance(spec[0], str) else [spec])
        used_elsewhere |= {r[0] for r in refs if isinstance(r, list) and r} & ops
    if used_elsewhere:
        kinds = sorted({e["class_name"] for e in config["layers"] if e.get("name") in used_elsewhere})
        raise ValueError(f"The functional config uses Keras operations {kinds} (layers {sorted(used_elsewhere)}) as "
                         f"layer inputs; kcore rebuilds them only where they compute masks")
    return ops


def _history_names(value):
    """The layer names that the Keras tensor configs inside `value` (nested lists/dicts) come from."""
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            return {value.get("config", {}).get("keras_history", [None])[0]}
        return set().union(*(_history_names(v) for v in value.values())) if value else set()
    if isinstance(value, (list, tuple)):
        return set().union(*(_history_names(v) for v in value)) if value else set()
    return set()


def _is_tensor_config(value):
    """A keyword argument holding Keras tensors (Keras writes RNN initial_state this way)."""
    if isinstance(value, dict):
        return value.get("class_name") == "__keras_tensor__"
    return isinstance(value, list) and bool(value) and all(_is_tensor_config(v) for v in value)


def _node_ready(node, outputs_of):
    tensors = [v for v in node.get("kwargs", {}).values() if _is_tensor_config(v)]
    return _inputs_ready(node["args"][0], outputs_of) and all(_inputs_ready(v, outputs_of) for v in tensors)


def _inputs_ready(arg, outputs_of):
    if isinstance(arg, dict):
        name, node_index, _ = arg["config"]["keras_history"]
        return (name, node_index) in outputs_of
    return all(_inputs_ready(a, outputs_of) for a in arg)


def _resolve_args(arg, outputs_of, layer_name):
    if isinstance(arg, dict) and arg.get("class_name") == "__keras_tensor__":
        name, node_index, tensor_index = arg["config"]["keras_history"]
        if (name, node_index) not in outputs_of:
            raise ValueError(f"Layer '{layer_name}' refers to '{name}' node {node_index}, which is not defined "
                             "before it in the config")
        return outputs_of[(name, node_index)][tensor_index]
    if isinstance(arg, list):
        return [_resolve_args(a, outputs_of, layer_name) for a in arg]
    raise ValueError(f"Unsupported inbound node argument for layer '{layer_name}': {arg!r}")


def sequential_from_config(cls, config, custom_objects=None):
    """A Sequential model from its config, checking each layer's output shape as it is added."""
    from kcore.saving.config_checks import check_layer_output, check_shape, rebuilding

    if not isinstance(config.get("layers"), list):
        raise ValueError(f"A Sequential config needs a list of 'layers', got {config.get('layers')!r:.100}")
    model = cls(name=config.get("name"), trainable=config.get("trainable", True))
    for layer_config in config["layers"]:
        layer = deserialize_layer(layer_config, custom_objects)
        with rebuilding(layer.name, type(layer).__name__):
            model.add(layer)
        if model._layers:
            check_layer_output(model._layers[-1])
    shape = config.get("build_input_shape")
    if shape is not None and not model.built:
        model.build(tuple(check_shape(shape, "build_input_shape")))
        for layer in model._layers:
            check_layer_output(layer)
    return model


def model_from_config(config, custom_objects=None):
    """The model a saved config describes (Sequential, functional, or a registered/custom class)."""
    from kcore.saving.config_checks import check_shape

    if not isinstance(config, dict) or not isinstance(config.get("config", {}), dict):
        raise ValueError(f"The model config must be a dict with a dict 'config', got {config!r:.100}")
    name = config.get("class_name")
    inner = config.get("config", {})
    if name == "Sequential":
        from kcore.models.sequential import Sequential

        model = Sequential.from_config(inner, custom_objects=custom_objects)
        shape = (config.get("build_config") or {}).get("input_shape")
        if not model.built and shape is not None:
            model.build(tuple(check_shape(shape, "build_config input_shape")))
        return model
    if name in ("Functional", "Model"):
        return functional_from_config(inner, custom_objects)
    from kcore.saving.objects import custom_class

    if custom_class(config, custom_objects) is not None:
        return deserialize_layer(config, custom_objects)
    raise ValueError(f"Cannot rebuild a model of class '{name}': subclassed models need `custom_objects` with the "
                     "class (and a `from_config`), or registration with kcore.saving.register_keras_serializable()")
