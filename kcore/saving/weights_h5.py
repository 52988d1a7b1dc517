"""Weights in Keras 3's HDF5 layout: layers/<key>/vars/<i>, nested layers below their key
(RNN weights under cell/), optimizer/vars/<i>, model-level vars/. Keys come from the class
names in model order (dense, dense_1, ...), so files match by structure, not by layer name."""
import numpy as np

from kcore.utils.naming import to_snake_case


def _child_layers(layer):
    """(key, child) pairs: a model's layers under 'layers/', plus custom nesting a layer declares."""
    from kcore.models.model import Model

    if isinstance(layer, Model):
        return keys_by_class("layers", layer.layers)
    return list(getattr(layer, "_saving_children", lambda: [])())


def keys_by_class(folder, layers):
    """Keras's keys for a list of layers: <folder>/<snake_case class name>, then _1, _2 ... for repeats."""
    counts, out = {}, []
    for child in layers:
        base = to_snake_case(type(child).__name__)
        n = counts.get(base, 0)
        counts[base] = n + 1
        out.append((f"{folder}/{base}" if n == 0 else f"{folder}/{base}_{n}", child))
    return out


def _own_variables(layer):
    own = getattr(layer, "_saving_variables", None)
    return own() if own is not None else list(layer._weights)


def _saving_groups(layer):
    """{group path: variables} for a layer; a layer may place its weights in a sub-group (RNN 'cell')."""
    groups = getattr(layer, "_saving_groups", None)
    return groups() if groups is not None else {"vars": _own_variables(layer)}


def write_layer(layer, group):
    for path, variables in _saving_groups(layer).items():
        vg = group.require_group(path)
        vg.attrs["name"] = layer.name
        for i, var in enumerate(variables):
            vg.create_dataset(str(i), data=var.numpy())
    for key, child in _child_layers(layer):
        write_layer(child, group.require_group(key))


def read_layer(layer, group, where=""):
    for path, variables in _saving_groups(layer).items():
        location = f"{where}/{path}".lstrip("/")
        if path not in group:
            if variables:
                raise ValueError(f"The weights file has no group '{location}' for layer '{layer.name}'")
            continue
        stored = group[path]
        if len(stored) != len(variables):
            raise ValueError(f"Layer '{layer.name}' expects {len(variables)} variables, but the file's group "
                             f"'{location}' holds {len(stored)}")
        for i, var in enumerate(variables):
            value = np.asarray(stored[str(i)])
            if tuple(value.shape) != tuple(var.shape):
                raise ValueError(f"Layer '{layer.name}' weight '{var.name}' has shape {tuple(var.shape)}, but the "
                                 f"file holds shape {value.shape} at '{location}/{i}'")
            var.assign(value)
    for key, child in _child_layers(layer):
        if key not in group:
            if child.weights:
                raise ValueError(f"The weights file has no group '{where}/{key}' for layer '{child.name}'")
            continue
        read_layer(child, group[key], f"{where}/{key}")


def write_optimizer(optimizer, group):
    vg = group.require_group("optimizer/vars")
    vg.attrs["name"] = optimizer.name
    for i, value in enumerate(optimizer.variables):
        vg.create_dataset(str(i), data=value)


def read_optimizer(optimizer, group, variables):
    if "optimizer/vars" not in group:
        return
    stored = group["optimizer/vars"]
    values = [np.asarray(stored[str(i)]) for i in range(len(stored))]
    if len(values) <= 2:
        optimizer.iterations = int(values[0]) if values else 0
        return
    expected = 2 + len(variables) * len(optimizer._slot_names)
    if len(values) != expected:
        raise ValueError(f"The file's optimizer state has {len(values)} variables; this optimizer "
                         f"({type(optimizer).__name__}) with {len(variables)} trainable weights needs {expected}")
    optimizer.set_state(values, variables)


def write_weights(model, h5file, include_optimizer=True):
    write_layer(model, h5file)
    optimizer = getattr(model, "optimizer", None)
    if include_optimizer and optimizer is not None:
        write_optimizer(optimizer, h5file)


def read_weights(model, h5file, include_optimizer=True):
    read_layer(model, h5file)
    optimizer = getattr(model, "optimizer", None)
    if include_optimizer and optimizer is not None:
        read_optimizer(optimizer, h5file, model.trainable_weights)
