"""model.save / load_model (.keras archives) and save_weights / load_weights (.weights.h5).

Every write goes to a temporary file in the target folder that replaces the target only once
complete, so a crash never leaves a half-written file in place of a good one. Loading treats
the file as untrusted: see file_io (archive and JSON bounds), config_checks (layer configs) and
h5_safety (HDF5 datasets); every error names the file."""
import datetime
import io
import json
import os

from kcore.saving.file_io import MAX_CONFIG_BYTES, atomic_write, naming_file, open_archive, parse_json, read_member
from kcore.saving.h5_safety import check_global_heaps, check_global_heaps_in
from kcore.saving.object_registration import CustomObjectScope, SafeModeScope

_KERAS_VERSION = "3.15.1"


def _h5py():
    try:
        import h5py
    except ImportError as e:  # pragma: no cover - h5py is a dependency
        raise ImportError("kcore's saving needs h5py: pip install h5py") from e
    return h5py


def _weights_bytes(model, include_optimizer=True):
    from kcore.saving.weights_h5 import write_weights

    buf = io.BytesIO()
    with _h5py().File(buf, "w") as f:
        write_weights(model, f, include_optimizer)
    return buf.getvalue()


def _compile_config(model):
    from kcore.saving.objects import serialize_callable

    if not getattr(model, "compiled", False):
        return None
    args = model._compile_args
    opt = model.optimizer
    return {"optimizer": {"module": "keras.optimizers", "class_name": type(opt).__name__,
                          "config": opt.get_config(), "registered_name": None},
            "loss": serialize_callable(args["loss"]), "loss_weights": args["loss_weights"],
            "metrics": serialize_callable(args["metrics"]),
            "weighted_metrics": serialize_callable(args.get("weighted_metrics")), "run_eagerly": False,
            "steps_per_execution": 1, "jit_compile": False}


def save_model(model, filepath, overwrite=True, include_optimizer=True, **kwargs):
    """Writes `model` to a .keras archive (Keras 3's layout: metadata.json, config.json, model.weights.h5 with
    a CRC-32 per dataset). Custom classes and functions are saved by their registered names."""
    filepath = os.fspath(filepath)
    if filepath.endswith((".h5", ".hdf5")):
        from kcore.saving import legacy_h5

        return legacy_h5.save_model(model, filepath, overwrite=overwrite, include_optimizer=include_optimizer)
    if not filepath.endswith(".keras"):
        raise ValueError(f"Invalid filepath extension for saving: {filepath!r}. Use a path ending in '.keras'")
    if not model.built:
        raise ValueError("Cannot save a model that has not been built: call it on data or build() it first")
    from kcore.saving.serialization import serialize_layer

    config = serialize_layer(model)
    config["module"] = "keras"
    if type(model).__name__ == "Functional":  # where Keras 3 looks the class up
        config.update({"module": "keras.src.models.functional", "registered_name": "Functional"})
    if type(model).__name__ == "Sequential":
        config["build_config"] = {"input_shape": list(model._build_shape)}
    compile_config = _compile_config(model)
    if compile_config is not None:
        config["compile_config"] = compile_config
    metadata = {"keras_version": _KERAS_VERSION, "kcore_version": _kcore_version(),
                "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")}
    weights = _weights_bytes(model, include_optimizer)

    def write(path):
        import zipfile

        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as z:
            z.writestr("metadata.json", json.dumps(metadata))
            z.writestr("config.json", json.dumps(config))
            z.writestr("model.weights.h5", weights)

    atomic_write(filepath, write, overwrite)


def _kcore_version():
    import kcore

    return kcore.__version__


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Loads a .keras archive (written by kcore or Keras 3). Lambda layers holding Python bytecode load only
    with safe_mode=False; custom classes and functions come from registration or `custom_objects`."""
    from kcore.saving.serialization import model_from_config
    from kcore.saving.weights_h5 import read_weights

    filepath = os.fspath(filepath)
    if filepath.endswith((".h5", ".hdf5")):
        from kcore.saving import legacy_h5

        return legacy_h5.load_model(filepath, custom_objects, compile=compile)
    with open_archive(filepath) as archive, naming_file(filepath):
        config_text = read_member(archive, "config.json", filepath, MAX_CONFIG_BYTES)
        config = parse_json(config_text, f"{filepath}/config.json")
        weights = read_member(archive, "model.weights.h5", filepath)
        check_global_heaps(weights, f"{filepath}/model.weights.h5")
    with naming_file(filepath):
        with CustomObjectScope(custom_objects), SafeModeScope(safe_mode):
            model = model_from_config(config, custom_objects)
            compile_config = config.get("compile_config")
            if compile and compile_config:
                _compile_from_config(model, compile_config, custom_objects)
        with _h5py().File(io.BytesIO(weights), "r") as f:
            read_weights(model, f, f"{filepath}/model.weights.h5",
                         include_optimizer=compile and bool(compile_config))
    return model


def _compile_from_config(model, cc, custom_objects=None):
    from kcore import optimizers
    from kcore.saving.objects import deserialize_keras_object

    if not isinstance(cc, dict):
        raise ValueError(f"compile_config must be a dict, got {cc!r:.100}")
    opt = cc.get("optimizer")
    if isinstance(opt, dict):
        from kcore.utils.registry import filter_config

        cls = optimizers.get(opt["class_name"].lower()).__class__
        opt = cls(**filter_config(cls, opt.get("config", {}), f"optimizer {opt['class_name']}"))
    model.compile(optimizer=opt, loss=deserialize_keras_object(cc.get("loss"), custom_objects),
                  metrics=deserialize_keras_object(cc.get("metrics"), custom_objects),
                  weighted_metrics=deserialize_keras_object(cc.get("weighted_metrics"), custom_objects),
                  loss_weights=cc.get("loss_weights"))


def save_weights(model, filepath, overwrite=True):
    """Writes the model's (and its optimizer's) variables to a .weights.h5 file."""
    filepath = os.fspath(filepath)
    if not filepath.endswith(".weights.h5"):
        raise ValueError(f"The filename must end in `.weights.h5`. Received: filepath={filepath}")
    if not model.built:
        raise ValueError("Cannot save the weights of a model that has not been built")
    data = _weights_bytes(model, include_optimizer=True)

    def write(path):
        with open(path, "wb") as f:
            f.write(data)

    atomic_write(filepath, write, overwrite)


def load_weights(model, filepath, skip_mismatch=False, by_name=None):
    """Loads weights from a .keras archive, a Keras 3 .weights.h5 file or a Keras 2 .h5/.hdf5 file (the only
    kind `by_name` and `skip_mismatch` apply to, as in Keras 3); nothing is assigned unless every dataset
    passes its checks."""
    from kcore.saving import legacy_h5
    from kcore.saving.weights_h5 import read_weights

    filepath = os.fspath(filepath)
    if legacy_h5.is_legacy_path(filepath):
        return legacy_h5.load_weights(model, filepath, by_name=bool(by_name), skip_mismatch=skip_mismatch)
    if by_name is not None:
        raise ValueError(f"`by_name` only supports loading legacy '.h5' or '.hdf5' files. Received: {filepath}")
    if filepath.endswith(".keras"):
        with open_archive(filepath) as archive, naming_file(filepath):
            data = read_member(archive, "model.weights.h5", filepath)
        label = f"{filepath}/model.weights.h5"
        check_global_heaps(data, label)
        source = io.BytesIO(data)
    elif filepath.endswith(".weights.h5") or filepath.endswith(".h5"):
        if not os.path.exists(filepath):
            raise FileNotFoundError(f"No file found at {filepath}")
        check_global_heaps_in(filepath)  # PermissionError surfaces as itself
        source, label = open(filepath, "rb"), filepath
    else:
        raise ValueError(f"load_weights expects a '.weights.h5', '.keras' or Keras 2 '.h5' file, got {filepath!r}")
    with source:
        if not model.built:
            raise ValueError("Build the model (call it on data or build(input_shape)) before load_weights")
        with naming_file(label), _h5py().File(source, "r") as f:
            read_weights(model, f, label, include_optimizer=getattr(model, "optimizer", None) is not None)
