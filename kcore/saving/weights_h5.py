"""Weights in Keras 3's HDF5 layout: layers/<key>/vars/<i>, nested layers below their key
(RNN weights under cell/), optimizer/vars/<i>, model-level vars/. Keys come from the class
names in model order (dense, dense_1, ...), so files match by structure, not by layer name."""
from kcore.saving.h5_safety import SafeH5Reader, mark_checksummed, write_dataset
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
            write_dataset(vg, str(i), var.numpy())
    for key, child in _child_layers(layer):
        write_layer(child, group.require_group(key))


def _kinds(dtype):
    """Dataset dtype kinds accepted for a variable: floats take floats, integer variables integers."""
    return "f" if str(dtype).startswith(("float", "bfloat")) else "biu"


def read_layer(layer, reader, group, where, out):
    """Appends (variable, value) for `layer` and its children to `out`, checking everything first."""
    for path, variables in _saving_groups(layer).items():
        location = f"{where}/{path}".lstrip("/")
        stored = reader.group(path, group)
        if stored is None:
            if variables:
                raise ValueError(f"The weights file has no group '{location}' for layer '{layer.name}'")
            continue
        if len(stored) != len(variables):
            raise ValueError(f"Layer '{layer.name}' expects {len(variables)} variables, but the file's group "
                             f"'{location}' holds {len(stored)}")
        for i, var in enumerate(variables):
            try:
                value = reader.read(str(i), tuple(var.shape), _kinds(var.dtype), base=stored)
            except ValueError as e:
                raise ValueError(f"Layer '{layer.name}' weight '{var.name}': {e}") from e
            out.append((var, value))
    for key, child in _child_layers(layer):
        sub = reader.group(key, group)
        if sub is None:
            if child.weights:
                raise ValueError(f"The weights file has no group '{where}/{key}' for layer '{child.name}'")
            continue
        read_layer(child, reader, sub, f"{where}/{key}", out)


def write_optimizer(optimizer, group):
    vg = group.require_group("optimizer/vars")
    vg.attrs["name"] = optimizer.name
    for i, value in enumerate(optimizer.variables):
        write_dataset(vg, str(i), value)


def read_optimizer(optimizer, reader, variables):
    """A function applying the file's optimizer state (checked and read now), or None."""
    stored = reader.group("optimizer/vars")
    if stored is None:
        return None
    count, header = len(stored), optimizer.state_header_size()
    shapes = optimizer.state_shapes(variables)
    other = optimizer.state_shapes(variables, 3 - header)
    if count != len(shapes) and count == len(other):
        # the file was written with (or without) the learning-rate entry: a callable rate, saved as a number in
        # the config, comes back as a plain rate
        header, shapes = 3 - header, other
    if count != len(shapes) and count <= 2:  # saved before the optimizer was built: its step count at most
        values = [reader.read(str(i), (), base=stored) for i in range(count)]

        def apply_iterations():
            optimizer._iterations = int(values[0]) if values else 0
        return apply_iterations
    if count != len(shapes):
        raise ValueError(f"The file's optimizer state has {count} variables; this optimizer "
                         f"({type(optimizer).__name__}) with {len(variables)} trainable weights needs {len(shapes)}")
    values = [reader.read(str(i), shape, base=stored) for i, shape in enumerate(shapes)]
    return lambda: optimizer.set_state(values, variables, header)


def write_weights(model, h5file, include_optimizer=True):
    """Writes the model's (and its optimizer's) variables with a checksum per dataset."""
    mark_checksummed(h5file)
    write_layer(model, h5file)
    optimizer = getattr(model, "optimizer", None)
    if include_optimizer and optimizer is not None:
        write_optimizer(optimizer, h5file)


def read_weights(model, h5file, label, include_optimizer=True):
    """Loads every variable from `h5file` (named `label` in errors); nothing is assigned unless all of the
    file's datasets pass their checks."""
    reader = SafeH5Reader(h5file, label)
    pairs = []
    read_layer(model, reader, h5file, "", pairs)
    optimizer = getattr(model, "optimizer", None)
    apply_optimizer = None
    if include_optimizer and optimizer is not None:
        apply_optimizer = read_optimizer(optimizer, reader, model.trainable_weights)
    for var, value in pairs:
        var.assign(value)
    if apply_optimizer is not None:
        apply_optimizer()
