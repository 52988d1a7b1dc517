"""Symbolic tensors for the functional API, and the call records (nodes) that link them."""


class KerasTensor:
    """A placeholder with a shape (batch axis None) and the layer call that produced it."""

    def __init__(self, shape, dtype="float32", name=None, history=None, sparse=False):
        self.shape = tuple(shape)
        self.dtype = dtype
        self.name = name
        self._keras_history = history  # (layer, node_index, tensor_index)

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        layer = self._keras_history[0].name if self._keras_history else None
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name or layer}>"

    def __hash__(self):
        return id(self)

    def __len__(self):
        raise TypeError("a symbolic KerasTensor has no len(); use `.shape`")

    def __array__(self, *args, **kwargs):
        raise TypeError("a symbolic KerasTensor (from kcore.Input) has no value: build a Model from it, then call "
                        "the model on data")


class Node:
    """One call of a layer on symbolic inputs."""

    def __init__(self, layer, inputs, outputs, args=(), kwargs=None):
        self.layer = layer
        self.inputs = inputs
        self.outputs = outputs
        self.args = args
        self.kwargs = dict(kwargs or {})

    @property
    def input_tensors(self):
        return flatten(self.inputs)


def flatten(x):
    """The leaves of a nest of lists, tuples and dicts (dict values in key order), depth first."""
    if isinstance(x, dict):
        x = [x[k] for k in sorted(x)]
    if not isinstance(x, (list, tuple)):
        return [x]
    return [leaf for item in x for leaf in flatten(item)]


def map_structure(fn, x, is_leaf=None):
    if is_leaf is not None and is_leaf(x):
        return fn(x)
    if isinstance(x, list):
        return [map_structure(fn, v, is_leaf) for v in x]
    if isinstance(x, tuple) and is_leaf is not None:
        return tuple(map_structure(fn, v, is_leaf) for v in x)
    if isinstance(x, dict):
        return {k: map_structure(fn, v, is_leaf) for k, v in x.items()}
    return fn(x)


def any_symbolic(x):
    if isinstance(x, KerasTensor):
        return True
    if isinstance(x, (list, tuple)):
        return any(any_symbolic(v) for v in x)
    if isinstance(x, dict):
        return any(any_symbolic(v) for v in x.values())
    return False
