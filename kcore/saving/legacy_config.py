"""Model and training configs in Keras 2's legacy HDF5 layout, translated to and from the Keras 3 layout
that kcore's deserializer (kcore.saving.serialization) reads and writes.

Keras 2 differences handled here: `Model` as a functional class name, InputLayer's `batch_input_shape`,
GRU configs written before `reset_after` existed (then it was False), Sequential configs that are a bare
list of layers, inbound nodes as `[[name, node, tensor, kwargs], ...]` lists, node indices of nested
models that count the model's own input node, and optimizers written with `lr=` / `decay=`."""
import json

MAX_CONFIG_BYTES = 16 * 1024 * 1024  # a model_config larger than this is refused, not parsed
MAX_CONFIG_DEPTH = 100  # nesting depth of JSON lists/dicts accepted in a config

_MODELS = ("Sequential", "Functional")
# Keras 3 config entries Keras 2 layers do not accept (they change nothing numerically here).
_KERAS3_ONLY = {"seed": ("LSTM", "GRU", "SimpleRNN", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D"), "use_cudnn": None,
                "quantization_config": None, "lora_rank": None, "lora_alpha": None, "optional": None}
_KERAS3_OPTIMIZER_ONLY = {"loss_scale_factor", "gradient_accumulation_steps"}
# Settings tf.keras's classic optimizer classes reject: without weight decay or EMA they are left out.
_NEW_OPTIMIZER_ONLY = ("weight_decay", "use_ema", "ema_momentum", "ema_overwrite_frequency", "jit_compile",
                       "is_legacy_optimizer")
# Loss aliases Keras 3's legacy .h5 loader cannot resolve.
_LOSS_NAMES = {"mse": "mean_squared_error", "mae": "mean_absolute_error", "mape": "mean_absolute_percentage_error",
               "msle": "mean_squared_logarithmic_error"}


def parse_json_attr(value, what, path):
    """Decodes a JSON attribute of an HDF5 file, refusing oversized or too deeply nested text."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if not isinstance(value, str):
        raise ValueError(f"{path}: the '{what}' attribute is not JSON text (found {type(value).__name__})")
    if len(value) > MAX_CONFIG_BYTES:
        raise ValueError(f"{path}: the '{what}' attribute is {len(value)} bytes, more than the "
                         f"{MAX_CONFIG_BYTES} kcore accepts")
    depth = peak = 0
    in_string = escaped = False
    for ch in value:  # bracket depth outside strings, checked before json builds anything
        if in_string:
            escaped = not escaped and ch == "\\"
            in_string = escaped or ch != '"'
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            peak = max(peak, depth)
        elif ch in "]}":
            depth -= 1
    if peak > MAX_CONFIG_DEPTH:
        raise ValueError(f"{path}: the '{what}' attribute nests {peak} levels deep (kcore accepts "
                         f"{MAX_CONFIG_DEPTH})")
    try:
        return json.loads(value)
    except ValueError as e:
        raise ValueError(f"{path}: the '{what}' attribute is not valid JSON ({e})") from e


# -- Keras 2 -> kcore --------------------------------------------------------------------------------


def from_keras2(entry):
    """A Keras 2 layer/model config entry as the Keras 3 layout kcore deserializes."""
    if not isinstance(entry, dict) or not isinstance(entry.get("class_name"), str):
        raise ValueError(f"A Keras 2 layer config must be a dict with a 'class_name', got {str(entry)[:200]!r}")
    cls = entry["class_name"]
    cfg = entry.get("config", {})
    if cls == "Model":
        cls = "Functional"
    if cls == "Sequential":
        cfg = {"layers": cfg} if isinstance(cfg, list) else dict(cfg)
        cfg["layers"] = [from_keras2(layer) for layer in cfg.get("layers", [])]
    elif cls == "Functional":
        cfg = _functional_from_keras2(cfg)
    else:
        if not isinstance(cfg, dict):
            raise ValueError(f"The config of layer class '{cls}' must be a dict, got {type(cfg).__name__}")
        cfg = dict(cfg)
        if cls == "Lambda":  # Keras 2 stores the function as marshalled bytecode or a global name
            raise ValueError(f"Layer '{cfg.get('name')}' is a Lambda whose function is stored as Python bytecode or "
                             "a name: kcore never runs code from a file. Rebuild the model in code and use "
                             "load_weights")
        if cls == "InputLayer" and "batch_input_shape" in cfg:
            cfg["batch_shape"] = cfg.pop("batch_input_shape")
        if cls == "GRU":
            cfg.setdefault("reset_after", False)  # Keras < 2.1 had only the reset-before variant
        if cfg.get("time_major"):
            raise ValueError(f"Layer '{cfg.get('name')}' ({cls}) has time_major=True; kcore's recurrent layers take "
                             "(batch, time, features) inputs only")
        for key in ("layer", "backward_layer"):
            if isinstance(cfg.get(key), dict):
                cfg[key] = from_keras2(cfg[key])
    out = {"class_name": cls, "config": cfg}
    for key in ("name", "inbound_nodes"):
        if key in entry:
            out[key] = entry[key]
    return out


def _functional_from_keras2(cfg):
    if not isinstance(cfg, dict) or not isinstance(cfg.get("layers"), list):
        raise ValueError("A Keras 2 functional config needs a 'layers' list")
    layers = [from_keras2(entry) for entry in cfg["layers"]]
    node_counts = {e.get("name", e["config"].get("name")): len(e.get("inbound_nodes") or []) for e in layers}
    models = {e.get("name", e["config"].get("name")) for e in layers if e["class_name"] in _MODELS}
    refs = [r for e in layers for node in e.get("inbound_nodes") or [] if isinstance(node, list) for r in node]
    refs += _ref_list(cfg.get("input_layers")) + _ref_list(cfg.get("output_layers"))
    # Keras 2 counts a nested model's own input node: its calls are numbered from 1 then.
    offsets = {name: 1 for name in models if any(_is_ref(r) and r[0] == name and r[1] >= node_counts[name]
                                                 for r in refs)}

    def ref(r):
        if not _is_ref(r):
            raise ValueError(f"Invalid Keras 2 node reference {str(r)[:200]!r}: expected [layer, node, tensor]")
        return [r[0], r[1] - offsets.get(r[0], 0), r[2]]

    def tensor(r):
        return {"class_name": "__keras_tensor__", "config": {"keras_history": ref(r)}}

    for e in layers:
        nodes = []
        for node in e.get("inbound_nodes") or []:
            if isinstance(node, dict):  # already Keras 3 style
                nodes.append(node)
                continue
            if not isinstance(node, list) or not node:
                raise ValueError(f"Layer '{e.get('name')}' has an invalid Keras 2 inbound node {str(node)[:200]!r}")
            kwargs = node[0][3] if _is_ref(node[0]) and len(node[0]) > 3 and isinstance(node[0][3], dict) else {}
            kwargs = {k: v for k, v in kwargs.items() if isinstance(v, (bool, int, float, str, type(None)))}
            args = tensor(node[0]) if len(node) == 1 else [tensor(r) for r in node]
            nodes.append({"args": [args], "kwargs": kwargs})
        if "inbound_nodes" in e:
            e["inbound_nodes"] = nodes
    out = dict(cfg, layers=layers)
    for key in ("input_layers", "output_layers"):
        spec = _ref_list(cfg.get(key))  # Keras 2 lists even a single input/output, which Keras means unwrapped
        out[key] = ref(spec[0]) if len(spec) == 1 else [ref(r) for r in spec]
    return out


def _is_ref(r):
    return (isinstance(r, list) and len(r) >= 3 and isinstance(r[0], str) and isinstance(r[1], int)
            and isinstance(r[2], int))


def _ref_list(spec):
    if not isinstance(spec, list):
        return []
    return [spec] if spec and isinstance(spec[0], str) else list(spec)


# -- kcore -> Keras 2 --------------------------------------------------------------------------------


def _initializer_to_keras2(entry):
    """Keras 3.15's VarianceScaling family adds input_axes / output_axes; Keras 2 knows neither (left at None
    they mean Keras 2's behaviour)."""
    config = {k: v for k, v in entry.get("config", {}).items()
              if not (k in ("input_axes", "output_axes") and v is None)}
    return dict(entry, config=config)


_ACTIVATION_KEYS = ("activation", "recurrent_activation")


def keras2_hard_sigmoid(config):
    """A Keras 2 file's 'hard_sigmoid' is clip(0.2 x + 0.5, 0, 1), not Keras 3's relu6(x + 3) / 6: renames it
    'hard_sigmoid_k2' (kcore's name for that formula) everywhere in a config, nested layers included."""
    if isinstance(config, list):
        return [keras2_hard_sigmoid(v) for v in config]
    if not isinstance(config, dict):
        return config
    return {k: "hard_sigmoid_k2" if k in _ACTIVATION_KEYS and v == "hard_sigmoid" else keras2_hard_sigmoid(v)
            for k, v in config.items()}


def _activations_to_keras2(cls, cfg):
    for key in _ACTIVATION_KEYS:
        if cfg.get(key) == "hard_sigmoid_k2":
            cfg[key] = "hard_sigmoid"
        elif cfg.get(key) == "hard_sigmoid":
            raise ValueError(f"{cls} layer '{cfg.get('name')}': its {key} is Keras 3's hard_sigmoid (relu6(x + 3) "
                             "/ 6), which Keras 2's .h5 format cannot hold (there 'hard_sigmoid' means clip(0.2 x + "
                             "0.5, 0, 1)); save the model as '.keras'")


def to_keras2(entry, nested=False):
    """A Keras 3 layout config entry (kcore's serialize output) in the layout tf.keras / Keras 2 writes."""
    from kcore.saving.serialization import dtype_name

    cls = entry["class_name"]
    cfg = dict(entry["config"])
    if "dtype" in cfg:
        cfg["dtype"] = dtype_name(cfg["dtype"])
    for key, classes in _KERAS3_ONLY.items():
        if key in cfg and (classes is None or cls in classes):
            cfg.pop(key)
    _activations_to_keras2(cls, cfg)
    for key, value in cfg.items():
        if isinstance(value, dict) and value.get("module") == "keras.initializers":
            cfg[key] = _initializer_to_keras2(value)
    if cls == "InputLayer":
        cfg["batch_input_shape"] = cfg.pop("batch_shape", None)
    elif cls == "Sequential":
        layers = [to_keras2(layer) for layer in cfg["layers"]]
        if nested:  # no input node of its own: Keras 2 and Keras 3 then agree on its call numbering
            layers = [e for e in layers if e["class_name"] != "InputLayer"]
            if layers:
                layers[0]["config"].pop("batch_input_shape", None)
        cfg["layers"] = layers
    elif cls == "Functional":
        cfg = _functional_to_keras2(cfg)
    for key in ("layer", "backward_layer"):
        if isinstance(cfg.get(key), dict):
            cfg[key] = to_keras2(cfg[key])
    out = dict(entry, config=cfg)  # keeps a layer's 'module': Keras 3 needs it to find a wrapped layer's class
    if cls in _MODELS:  # but a model's class is found by name only
        out.pop("module", None)
        out.pop("registered_name", None)
    return out


def _functional_to_keras2(cfg):
    offsets = {e["name"]: 1 for e in cfg["layers"] if e["class_name"] == "Functional"}

    def ref(history):
        return [history[0], history[1] + offsets.get(history[0], 0), history[2]]

    def flat(arg, kwargs):
        if isinstance(arg, dict):
            return [ref(arg["config"]["keras_history"]) + [kwargs]]
        return [r for a in arg for r in flat(a, kwargs)]

    layers = []
    for e in cfg["layers"]:
        out = to_keras2(e, nested=True)
        out["inbound_nodes"] = [flat(node["args"][0], node.get("kwargs", {})) for node in e.get("inbound_nodes", [])]
        layers.append(out)
    out = dict(cfg, layers=layers)
    for key in ("input_layers", "output_layers"):
        spec = cfg[key]
        if isinstance(spec, dict):
            raise ValueError("Keras 2's .h5 format cannot hold a functional model with dict inputs or outputs: "
                             "save it as '.keras'")
        out[key] = [ref(spec)] if spec and isinstance(spec[0], str) else [ref(r) for r in spec]
    return out


# -- training config ---------------------------------------------------------------------------------


def training_config(model, compile_config):
    """Keras 2's `training_config` attribute for a compiled model."""
    opt = compile_config["optimizer"]
    config = {k: v for k, v in opt["config"].items() if k not in _KERAS3_OPTIMIZER_ONLY}
    class_name = opt["class_name"]
    if config.get("weight_decay") or config.get("use_ema"):
        class_name = "Custom>" + class_name  # tf.keras's marker of its new optimizers (Keras 3 ignores the settings)
    else:  # settings both tf.keras's classic optimizers and Keras 3 read
        config = {k: v for k, v in config.items() if k not in _NEW_OPTIMIZER_ONLY}
    if getattr(model.optimizer, "decay", 0.0):  # Keras 2's time-based decay, which Keras 3 configs lack
        config["decay"] = model.optimizer.decay
    args = model._compile_args
    loss = _object_spec(args["loss"])
    loss = _LOSS_NAMES.get(loss, loss) if isinstance(loss, str) else loss
    return {"loss": loss, "metrics": _object_spec(args["metrics"]), "weighted_metrics": None,
            "loss_weights": compile_config["loss_weights"],
            "optimizer_config": {"class_name": class_name, "config": config}}


def _object_spec(obj):
    """A loss or metric for training_config: names as names, objects with their settings (from_logits, ...)."""
    if isinstance(obj, (list, tuple, dict)):
        items = obj.items() if isinstance(obj, dict) else enumerate(obj)
        out = {k: _object_spec(v) for k, v in items}
        return out if isinstance(obj, dict) else list(out.values())
    if hasattr(obj, "get_config") and not isinstance(obj, type):
        return {"class_name": type(obj).__name__, "config": obj.get_config()}
    if obj is None or isinstance(obj, (str, int, float)):
        return obj
    return getattr(obj, "name", None) or getattr(obj, "__name__", None) or type(obj).__name__


def compile_from_training_config(model, tc, path):
    """Compiles `model` as a Keras 2 training_config says (optimizer with its settings, loss, metrics)."""
    from kcore import optimizers
    from kcore.utils.registry import filter_config

    opt = tc.get("optimizer_config") or {}
    name = str(opt.get("class_name", "")).split(">")[-1]  # tf.keras 2.11+ writes 'Custom>Adam'
    try:
        cls = type(optimizers.get(name.lower()))
    except ValueError as e:
        raise ValueError(f"{path}: the training config uses optimizer '{name}', which kcore does not have "
                         "(load with compile=False)") from e
    config = dict(opt.get("config") or {})  # kcore takes Keras 2's lr= and decay= as they were meant
    for key in ("is_legacy_optimizer", "jit_compile"):
        config.pop(key, None)
    from kcore import losses, metrics

    model.compile(optimizer=cls(**filter_config(cls, config, f"optimizer {name}")),
                  loss=_compile_objects(tc.get("loss"), losses, "loss", path),
                  metrics=_compile_objects(tc.get("metrics"), metrics, "metric", path),
                  loss_weights=tc.get("loss_weights"))


def _compile_objects(spec, module, what, path):
    """Keras 2 losses/metrics as kcore objects: names stay names, loss/metric objects are rebuilt with their
    settings (from_logits, curve, ...); a single output's nested metric list is flattened."""
    if isinstance(spec, dict) and "class_name" in spec:
        name, cfg = spec["class_name"], dict(spec.get("config") or {})
        if name in ("MeanMetricWrapper", "LossFunctionWrapper"):  # a function compiled by name
            return cfg.get("name") or cfg.get("fn")
        try:
            cls = type(module.get(name))
        except ValueError as e:
            raise ValueError(f"{path}: the training config's {what} '{name}' is not in kcore (load with "
                             "compile=False, or compile it yourself)") from e
        cfg.pop("fn", None)
        if cfg.get("reduction") == "auto":  # tf.keras's default, Keras 3's sum_over_batch_size
            cfg["reduction"] = "sum_over_batch_size"
        try:
            return cls.from_config(cfg)
        except (TypeError, ValueError) as e:
            raise ValueError(f"{path}: cannot rebuild the training config's {what} {name}({cfg}): {e}") from e
    if isinstance(spec, dict):
        return {k: _compile_objects(v, module, what, path) for k, v in spec.items()}
    if isinstance(spec, list):
        if len(spec) == 1 and isinstance(spec[0], list):
            return _compile_objects(spec[0], module, what, path)
        return [_compile_objects(s, module, what, path) for s in spec]
    return spec
