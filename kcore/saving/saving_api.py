"""model.save / load_model (.keras archives) and save_weights / load_weights (.weights.h5).

Every write goes to a temporary file in the target folder that replaces the target only once
complete, so a crash never leaves a half-written file in place of a good one."""
import datetime
import io
import json
import os
import tempfile
import zipfile

_KERAS_VERSION = "3.15.1"


def _h5py():
    try:
        import h5py
    except ImportError as e:  # pragma: no cover - h5py is a dependency
        raise ImportError("kcore's saving needs h5py: pip install h5py") from e
    return h5py


def _atomic_write(filepath, write, overwrite):
    filepath = os.fspath(filepath)
    if os.path.exists(filepath) and not overwrite:
        raise FileExistsError(f"{filepath} exists and overwrite=False")
    folder = os.path.dirname(os.path.abspath(filepath))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".kcore-", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, filepath)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _weights_bytes(model, include_optimizer=True):
    from kcore.saving.weights_h5 import write_weights

    buf = io.BytesIO()
    with _h5py().File(buf, "w") as f:
        write_weights(model, f, include_optimizer)
    return buf.getvalue()


def _compile_config(model):
    if not getattr(model, "compiled", False):
        return None
    args = model._compile_args
    opt = model.optimizer
    return {"optimizer": {"module": "keras.optimizers", "class_name": type(opt).__name__,
                          "config": opt.get_config(), "registered_name": None},
            "loss": _name_of(args["loss"]), "loss_weights": args["loss_weights"],
            "metrics": _name_of(args["metrics"]), "weighted_metrics": None, "run_eagerly": False,
            "steps_per_execution": 1, "jit_compile": False}


def _name_of(obj):
    if obj is None or isinstance(obj, (str, int, float)):
        return obj
    if isinstance(obj, (list, tuple)):
        return [_name_of(o) for o in obj]
    if isinstance(obj, dict):
        return {k: _name_of(v) for k, v in obj.items()}
    return getattr(obj, "name", None) or getattr(obj, "__name__", None) or type(obj).__name__


def save_model(model, filepath, overwrite=True, include_optimizer=True, **kwargs):
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
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as z:
            z.writestr("metadata.json", json.dumps(metadata))
            z.writestr("config.json", json.dumps(config))
            z.writestr("model.weights.h5", weights)

    _atomic_write(filepath, write, overwrite)


def _kcore_version():
    import kcore

    return kcore.__version__


def _open_archive(filepath):
    filepath = os.fspath(filepath)
    if not os.path.exists(filepath):
        raise FileNotFoundError(f"No file or directory found at {filepath}")
    try:
        archive = zipfile.ZipFile(filepath)
        names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError) as e:
        raise ValueError(f"{filepath} is not a valid .keras archive (it is truncated, corrupted or another format): "
                         f"{e}") from e
    missing = {"config.json", "model.weights.h5"} - names
    if missing:
        raise ValueError(f"{filepath} is a zip file but not a Keras model archive: it lacks {sorted(missing)}")
    return archive


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    from kcore.saving.serialization import model_from_config
    from kcore.saving.weights_h5 import read_weights

    if os.fspath(filepath).endswith((".h5", ".hdf5")):
        from kcore.saving import legacy_h5

        return legacy_h5.load_model(filepath, custom_objects, compile=compile)
    archive = _open_archive(filepath)
    with archive:
        try:
            config = json.loads(archive.read("config.json"))
            weights = archive.read("model.weights.h5")
        except (zipfile.BadZipFile, OSError, ValueError) as e:
            raise ValueError(f"{filepath}: the archive is damaged ({e})") from e
    model = model_from_config(config, custom_objects)
    compile_config = config.get("compile_config")
    if compile and compile_config:
        _compile_from_config(model, compile_config)
    try:
        with _h5py().File(io.BytesIO(weights), "r") as f:
            read_weights(model, f, include_optimizer=compile and bool(compile_config))
    except OSError as e:
        raise ValueError(f"{filepath}: model.weights.h5 inside the archive is not readable HDF5 ({e})") from e
    return model


def _compile_from_config(model, cc):
    from kcore import optimizers

    opt = cc.get("optimizer")
    if isinstance(opt, dict):
        from kcore.saving.serialization import filter_config

        cls = optimizers.get(opt["class_name"].lower()).__class__
        opt = cls(**filter_config(cls, opt.get("config", {}), f"optimizer {opt['class_name']}"))
    model.compile(optimizer=opt, loss=cc.get("loss"), metrics=cc.get("metrics"), loss_weights=cc.get("loss_weights"))


def save_weights(model, filepath, overwrite=True):
    filepath = os.fspath(filepath)
    if not filepath.endswith(".weights.h5"):
        raise ValueError(f"The filename must end in `.weights.h5`. Received: filepath={filepath}")
    if not model.built:
        raise ValueError("Cannot save the weights of a model that has not been built")
    data = _weights_bytes(model, include_optimizer=True)

    def write(path):
        with open(path, "wb") as f:
            f.write(data)

    _atomic_write(filepath, write, overwrite)


def load_weights(model, filepath, skip_mismatch=False, by_name=None):
    """Loads weights from a .keras archive, a Keras 3 .weights.h5 file or a Keras 2 .h5/.hdf5 file (the only
    kind `by_name` and `skip_mismatch` apply to, as in Keras 3)."""
    from kcore.saving import legacy_h5
    from kcore.saving.weights_h5 import read_weights

    filepath = os.fspath(filepath)
    if legacy_h5.is_legacy_path(filepath):
        return legacy_h5.load_weights(model, filepath, by_name=bool(by_name), skip_mismatch=skip_mismatch)
    if by_name is not None:
        raise ValueError(f"`by_name` only supports loading legacy '.h5' or '.hdf5' files. Received: {filepath}")
    if filepath.endswith(".keras"):
        with _open_archive(filepath) as archive:
            data = archive.read("model.weights.h5")
        source = io.BytesIO(data)
    elif filepath.endswith(".weights.h5"):
        if not os.path.exists(filepath):
            raise FileNotFoundError(f"No file found at {filepath}")
        source = filepath
    else:
        raise ValueError(f"load_weights expects a '.weights.h5', '.keras' or Keras 2 '.h5' file, got {filepath!r}")
    if not model.built:
        raise ValueError("Build the model (call it on data or build(input_shape)) before load_weights")
    try:
        with _h5py().File(source, "r") as f:
            read_weights(model, f, include_optimizer=getattr(model, "optimizer", None) is not None)
    except OSError as e:
        raise ValueError(f"{filepath} is not a readable weights file (truncated or another format): {e}") from e
