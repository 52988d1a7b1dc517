"""Checks on configs read from files, so a hostile or corrupted config fails with a ValueError naming
the layer instead of exhausting memory or reaching the engine with absurd shapes.

Bounds are far beyond any real model: one dimension, and the elements of one tensor (per sample
for activations), at most 2**40; integers in a layer's config (other than seeds) at most 2**40."""
import contextlib
import math

MAX_DIM = 1 << 40
MAX_ELEMENTS = 1 << 40
MAX_INT = 1 << 40
_SHAPE_KEYS = ("batch_shape", "batch_input_shape", "input_shape", "target_shape", "build_input_shape")


class LayerConfigError(ValueError):
    """A layer cannot be rebuilt from its config; the message names it."""


@contextlib.contextmanager
def rebuilding(layer_name, class_name):
    """Turns any failure while rebuilding a layer into a LayerConfigError naming it."""
    try:
        yield
    except LayerConfigError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError, MemoryError,
            NotImplementedError, RecursionError, ZeroDivisionError) as e:
        detail = _clip(str(e) if isinstance(e, ValueError) else f"{type(e).__name__}: {e}", 1000)
        raise LayerConfigError(f"Layer '{layer_name}' ({class_name}) cannot be rebuilt from its config: "
                               f"{detail}") from e


def check_layer_config(config):
    """Structure and value bounds of one layer entry; raises LayerConfigError."""
    if not isinstance(config, dict) or not isinstance(config.get("class_name"), str):
        raise LayerConfigError(f"A layer entry must be a dict with a string 'class_name', got {_short(config)}")
    inner = config.get("config")
    if inner is not None and not isinstance(inner, dict):
        raise LayerConfigError(f"Layer entry '{config['class_name']}' has a config that is not a dict: "
                               f"{_short(inner)}")
    inner = inner or {}
    with rebuilding(inner.get("name"), config["class_name"]):
        _check_values(inner, "config")
        for key in _SHAPE_KEYS:
            if isinstance(inner.get(key), list) and _is_shape(inner[key]):
                check_shape(inner[key], key)
        build = config.get("build_config")
        if build is not None and not isinstance(build, dict):
            raise ValueError(f"build_config must be a dict, got {_short(build)}")


def _check_values(value, where):
    """Every integer in a config stays within MAX_INT, except seeds and object ids."""
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, int):
        if abs(value) > MAX_INT:
            raise ValueError(f"'{where}' is {value}, beyond the {MAX_INT} any real model needs")
    elif isinstance(value, dict):
        if value.get("class_name") in ("__lambda__", "__numpy__"):
            return
        for k, v in value.items():
            if "seed" not in str(k) and k != "shared_object_id":
                _check_values(v, f"{where}.{k}" if where != "config" else str(k))
    elif isinstance(value, list):
        for v in value:
            _check_values(v, where)


def _is_shape(value):
    return all(d is None or (isinstance(d, int) and not isinstance(d, bool)) for d in value)


def check_shape(shape, what):
    """Returns `shape` after checking each known dimension and their product against the bounds; nested
    lists of shapes are checked one by one."""
    if isinstance(shape, (list, tuple)) and shape and all(isinstance(s, (list, tuple)) for s in shape):
        for s in shape:
            check_shape(s, what)
        return shape
    if not isinstance(shape, (list, tuple)) or not _is_shape(shape):
        raise ValueError(f"{what} must be a list of non-negative integers or None, got {_short(shape)}")
    known = [d for d in shape if d is not None]
    if what == "target_shape" and known.count(-1) == 1:  # Reshape infers one dimension
        known.remove(-1)
    if any(d < 0 or d > MAX_DIM for d in known):
        raise ValueError(f"{what} {tuple(shape)} has a dimension outside [0, {MAX_DIM}]")
    if math.prod(known) > MAX_ELEMENTS:
        raise ValueError(f"{what} {tuple(shape)} has {math.prod(known)} elements, beyond the {MAX_ELEMENTS} any "
                         "real model needs")
    return shape


def check_layer_output(layer, shapes=None):
    """Checks the output shape(s) a rebuilt layer computes (before the next layer sees them)."""
    shapes = layer._output_shape if shapes is None else shapes
    if shapes is None:
        return
    with rebuilding(layer.name, type(layer).__name__):
        check_shape(_as_lists(shapes), "its output shape")


def _as_lists(shapes):
    if isinstance(shapes, dict):
        return [_as_lists(s) for s in shapes.values()]
    if isinstance(shapes, (list, tuple)) and shapes and isinstance(shapes[0], (list, tuple, dict)):
        return [_as_lists(s) for s in shapes]
    return list(shapes)


def _short(value, limit=200):
    return _clip(repr(value), limit)


def _clip(text, limit):
    return text if len(text) <= limit else text[:limit] + " ..."
