"""Keras 2's legacy HDF5 format (.h5 / .hdf5): whole models and weight files, read and written.

Layout: file attributes `keras_version`, `backend`, `model_config` (JSON) and `training_config` (JSON, for a
compiled model); group `model_weights` (or the file root, for a weights-only file) with attribute
`layer_names`, one group per layer with attribute `weight_names`, and one dataset per weight name under it.
A layer's weights are its trainable weights then its non-trainable ones (nested models and wrappers
flattened), which is how Keras 2 orders them; loading matches layers by order or, with by_name=True, by name.
Every dataset is read through `_read_array`, which refuses external or virtual storage and checks the
shape and dtype before any data is read; every path is followed by `_member`, which refuses links into
other files."""
import os
import warnings

import numpy as np

from kcore.saving.file_io import naming_file
from kcore.saving.legacy_config import (
    compile_from_training_config,
    from_keras2,
    keras2_hard_sigmoid,
    parse_json_attr,
    to_keras2,
    training_config,
)

_KERAS2_VERSION = "2.15.0"
_LEGACY_WARNING = ("You are saving your model as an HDF5 file: this Keras 2 format is legacy. Prefer the native "
                   "Keras format, e.g. model.save('my_model.keras').")


class _ShapeMismatch(ValueError):
    """A stored weight whose shape differs from the layer's (skippable with skip_mismatch=True)."""


def is_legacy_path(filepath):
    """True for paths Keras reads and writes as Keras 2 HDF5 (.h5/.hdf5, but not Keras 3's .weights.h5)."""
    name = os.fspath(filepath)
    return name.endswith((".h5", ".hdf5")) and not name.endswith(".weights.h5")


def _read_array(dataset, expected_shape, where, path):
    """The one place this module reads HDF5 data: a plain numeric dataset stored inside the file (checked by
    the shared hostile-file rules in h5_safety), whose shape, checked before reading, is `expected_shape`."""
    from kcore.saving.h5_safety import SafeH5Reader

    if not isinstance(dataset, _h5py().Dataset):
        raise ValueError(f"{path}: '{where}' should be a dataset of weights, found a {type(dataset).__name__}")
    SafeH5Reader(dataset.file, path).check_dataset(dataset, kinds="fiub")
    if tuple(dataset.shape) != tuple(expected_shape):
        raise _ShapeMismatch(f"expects shape {tuple(expected_shape)}, but the file holds shape "
                             f"{tuple(dataset.shape)} at '{where}'")
    return np.asarray(dataset[()]).reshape(expected_shape)


def _member(group, name, path):
    """group[name] (None when absent), refusing soft links and links to other files at every step."""
    from kcore.saving.h5_safety import SafeH5Reader

    return SafeH5Reader(group.file, path).get(name, base=group)


def _h5py():
    from kcore.saving.saving_api import _h5py as load

    return load()


def _attr(obj, name, path):
    """Attribute `name` of `obj` (None when absent), read only when its stored type is a string or a number."""
    from kcore.saving.h5_safety import SafeH5Reader

    return SafeH5Reader(obj.file, path).attr(obj, name)


def _names_attr(group, name, path):
    """A list-of-names attribute, joined from Keras's numbered chunks (name0, name1, ...) when split."""
    if name in group.attrs:
        values = list(np.atleast_1d(_attr(group, name, path)))
    else:
        values, i = [], 0
        while f"{name}{i}" in group.attrs:
            values.extend(np.atleast_1d(_attr(group, f"{name}{i}", path)))
            i += 1
    out = []
    for v in values:
        if isinstance(v, bytes):
            v = v.decode("utf-8", errors="replace")
        if not isinstance(v, str):
            if isinstance(v, float) and not values[1:]:
                continue  # Keras writes an empty list as a float64 array
            raise ValueError(f"{path}: attribute '{name}' of '{group.name}' should hold names, found {v!r}")
        out.append(v)
    return out


def _legacy_weights(layer):
    return list(layer.trainable_weights) + list(layer.non_trainable_weights)


def _weight_names(layer, weights):
    names, seen = [], set()
    for var in weights:
        base = getattr(var, "path", None) or var.name
        if "/" not in base:
            base = f"{layer.name}/{base}"
        name, n = f"{base}:0", 1
        while name in seen:
            name, n = f"{base}_{n}:0", n + 1
        seen.add(name)
        names.append(name)
    return names


_ATTR_LIMIT = 64512  # bytes an HDF5 object header holds: longer name lists go in chunks name0, name1, ...


def _set_names_attr(group, name, values):
    data = np.array([v.encode("utf-8") for v in values]) if values else np.array([])
    chunks = 1
    while data.nbytes / chunks > _ATTR_LIMIT and chunks < len(values):
        chunks += 1
    if chunks == 1:
        group.attrs[name] = data
    else:
        for i, part in enumerate(np.array_split(data, chunks)):
            group.attrs[f"{name}{i}"] = part


def write_weights_group(model, group):
    """Writes the model's weights in Keras 2's layout into an HDF5 group."""
    group.attrs["backend"] = "tensorflow"
    group.attrs["keras_version"] = _KERAS2_VERSION
    _set_names_attr(group, "layer_names", [layer.name for layer in model.layers])
    for layer in model.layers:
        g = group.create_group(layer.name)
        weights = _legacy_weights(layer)
        names = _weight_names(layer, weights)
        _set_names_attr(g, "weight_names", names)
        for name, var in zip(names, weights):
            g.create_dataset(name, data=var.numpy())
    _set_names_attr(group.create_group("top_level_model_weights"), "weight_names", [])


def _stored_layers(group, path):
    """(name, weight names) for each layer group in the file that holds weights."""
    out = []
    for name in _names_attr(group, "layer_names", path):
        layer_group = _member(group, name, path)
        if not isinstance(layer_group, _h5py().Group):
            raise ValueError(f"{path}: layer '{name}' is listed in layer_names but has no group in the file")
        weight_names = _names_attr(layer_group, "weight_names", path)
        out.append((name, weight_names))
    return out


def _assign_layer(layer, weights, group, stored_name, weight_names, path, skip_mismatch):
    """Loads one file layer group into one kcore layer's weights, checking count and every shape."""
    if len(weight_names) != len(weights):
        found = [d.shape if isinstance(d, _h5py().Dataset) else "missing"
                 for d in (_member(group, n, path) for n in weight_names)]
        message = (f"Layer '{layer.name}' expects {len(weights)} weight(s) with shapes "
                   f"{[tuple(w.shape) for w in weights]}, but the file's layer '{stored_name}' holds "
                   f"{len(weight_names)} with shapes {found} ({path})")
        if skip_mismatch:
            warnings.warn(f"Skipping weights: {message}", stacklevel=4)
            return
        raise ValueError(message)
    values = []
    for var, name in zip(weights, weight_names):
        dataset = _member(group, name, path)
        if dataset is None:
            raise ValueError(f"{path}: weight '{name}' of layer '{stored_name}' is listed but missing from the file")
        try:
            values.append(_read_array(dataset, tuple(var.shape), f"{group.name}/{name}", path))
        except _ShapeMismatch as e:
            message = f"Layer '{layer.name}' weight '{var.name}' {e} ({path})"
            if not skip_mismatch:
                raise ValueError(message) from None
            warnings.warn(f"Skipping a weight: {message}", stacklevel=4)
            values.append(None)
    for var, value in zip(weights, values):
        if value is not None:
            var.assign(value.astype(var.dtype) if hasattr(var, "dtype") else value)


def read_weights_group(model, group, path, by_name=False, skip_mismatch=False):
    """Loads Keras 2 layout weights from `group` into `model`, by layer order or by layer name."""
    stored = _stored_layers(group, path)
    if by_name:
        index = {}
        for layer in model.layers:
            index.setdefault(layer.name, []).append(layer)
        for name, weight_names in stored:
            for layer in index.get(name, []):
                _assign_layer(layer, _legacy_weights(layer), _member(group, name, path), name, weight_names, path,
                              skip_mismatch)
        return
    layers = [layer for layer in model.layers if _legacy_weights(layer)]
    stored = [(name, names) for name, names in stored if names]
    if len(layers) != len(stored):
        raise ValueError(f"{path} holds weights for {len(stored)} layers {[n for n, _ in stored]}, but the model "
                         f"has {len(layers)} layers with weights {[layer.name for layer in layers]}")
    for layer, (name, weight_names) in zip(layers, stored):
        _assign_layer(layer, _legacy_weights(layer), _member(group, name, path), name, weight_names, path,
                      skip_mismatch)


def _open(filepath):
    from kcore.saving.h5_safety import check_global_heaps_in

    filepath = os.fspath(filepath)
    if not os.path.exists(filepath):
        raise FileNotFoundError(f"No file found at {filepath}")
    check_global_heaps_in(filepath)
    try:
        return _h5py().File(filepath, "r")
    except OSError as e:
        raise ValueError(f"{filepath} is not a readable HDF5 file (truncated or another format): {e}") from e


def load_weights(model, filepath, by_name=False, skip_mismatch=False):
    """model.load_weights for a Keras 2 .h5 file (a weights file or a whole saved model)."""
    if not model.built:
        raise ValueError("Build the model (call it on data or build(input_shape)) before load_weights")
    with naming_file(filepath), _open(filepath) as f:
        group = f
        if "layer_names" not in f.attrs and "layer_names0" not in f.attrs:
            if "model_weights" in f:
                group = _member(f, "model_weights", filepath)
            elif "layers" in f or "vars" in f:  # Keras 3 layout saved under a plain .h5 name
                from kcore.saving.weights_h5 import read_weights

                return read_weights(model, f, filepath,
                                    include_optimizer=getattr(model, "optimizer", None) is not None)
            else:
                raise ValueError(f"{filepath} is an HDF5 file but not a Keras weights file: it has no "
                                 "'layer_names' attribute or 'model_weights' group")
        read_weights_group(model, group, filepath, by_name=by_name, skip_mismatch=skip_mismatch)


def save_model(model, filepath, overwrite=True, include_optimizer=True):
    """model.save('x.h5'): the whole model in Keras 2's legacy HDF5 layout (with a warning that it is legacy)."""
    import json

    from kcore.saving.file_io import atomic_write
    from kcore.saving.saving_api import _compile_config
    from kcore.saving.serialization import serialize_layer

    warnings.warn(_LEGACY_WARNING, UserWarning, stacklevel=3)
    if not model.built:
        raise ValueError("Cannot save a model that has not been built: call it on data or build() it first")
    entry = serialize_layer(model)
    if type(model).__name__ not in ("Sequential", "Functional"):
        raise ValueError(f"Keras 2's .h5 format holds Sequential and functional models only, not a subclassed "
                         f"'{type(model).__name__}': save it as '.keras' or save_weights")
    config = json.dumps(to_keras2({"class_name": entry["class_name"], "config": entry["config"]}))
    compile_config = _compile_config(model) if include_optimizer else None

    def write(path):
        with _h5py().File(path, "w") as f:
            f.attrs["keras_version"] = _KERAS2_VERSION
            f.attrs["backend"] = "tensorflow"
            f.attrs["model_config"] = config
            write_weights_group(model, f.create_group("model_weights"))
            if compile_config is not None:
                from kcore.saving.legacy_optimizer import write_optimizer_weights

                tc = training_config(model, compile_config)
                f.attrs["training_config"] = json.dumps(tc)
                write_optimizer_weights(model, f, tc["optimizer_config"]["class_name"].startswith("Custom>"))

    atomic_write(filepath, write, overwrite)


def load_model(filepath, custom_objects=None, compile=True):
    """Loads a whole model saved in Keras 2's HDF5 layout (by Keras 2.x, tf.keras, Keras 3 or kcore)."""
    from kcore.saving.serialization import model_from_config

    with naming_file(filepath), _open(filepath) as f:
        if "model_config" not in f.attrs:
            raise ValueError(f"{filepath} has no 'model_config' attribute: it is a weights-only file or not a "
                             "Keras model (build the model and use load_weights for weights)")
        config = from_keras2(parse_json_attr(_attr(f, "model_config", filepath), "model_config", filepath))
        version = _attr(f, "keras_version", filepath)
        if not str(version.decode() if isinstance(version, bytes) else version).startswith("3"):
            config = keras2_hard_sigmoid(config)  # Keras 2 (and kcore's Keras-2-format) files
        try:
            model = model_from_config(config, custom_objects)
        except (KeyError, TypeError, AttributeError, IndexError) as e:  # a config of the wrong shape
            raise ValueError(f"{filepath}: the model_config is malformed ({type(e).__name__}: {e})") from e
        group = _member(f, "model_weights", filepath)
        if group is None or not isinstance(group, _h5py().Group):
            raise ValueError(f"{filepath} has a model_config but no 'model_weights' group")
        read_weights_group(model, group, filepath)
        tc = _attr(f, "training_config", filepath)
        if compile and tc is not None:
            compile_from_training_config(model, parse_json_attr(tc, "training_config", filepath), filepath)
            optimizer_group = _member(f, "optimizer_weights", filepath)
            if isinstance(optimizer_group, _h5py().Group):
                from kcore.saving.legacy_optimizer import read_optimizer_weights

                read_optimizer_weights(model, optimizer_group, filepath)
    return model
