"""Keras's autocast of layer weights: inside `call`, a layer whose compute dtype differs from its variable dtype
(mixed_bfloat16: bfloat16 compute, float32 weights) reads its float weights as compute-dtype tensors.

Keras reads variables through an AutocastScope; kcore's layers use their weights as attributes (`self.kernel`),
so for the duration of a call the attributes of the layer and of its sub-layers (an RNN's cell, a wrapper's
layer) hold `ops.cast(weight, compute_dtype)`, and are put back afterwards. The cast is the engine's
differentiable cast, so gradients reach the float32 variables in float32. A sub-layer called inside with its
own policy (e.g. `Activation("softmax", dtype="float32")`, a float32 BatchNormalization) sees its weights in
its own compute dtype, as in Keras's nested scopes. Weights made with `add_weight(..., autocast=False)` and
layers that compute in float32 (`_float32_compute`, the normalization layers) keep their variables.

The attributes belong to the layer, not to a thread: one mixed-precision layer (or model) must not be called
from two threads at once (float32 layers never swap anything and have no such limit).
"""
from kcore.backend.tensor import FLOAT_DTYPES, Variable

# The substitutes in place now: id(substitute tensor) -> its variable. Empty whenever no mixed-precision call
# runs, which is all a float32 layer call checks (one dict truth test).
SUBSTITUTES = {}


def is_float(dtype):
    """Whether `dtype` (a name) is a floating dtype kcore computes in."""
    return dtype in FLOAT_DTYPES


def _layer_slots(layer):
    """[(owner layer, attribute name, Variable)] for every weight attribute of `layer` and its sub-layers (an
    attribute an enclosing layer's call holds a substitute in counts as its variable's)."""
    subs = SUBSTITUTES
    slots, seen, stack = [], set(), [layer]
    while stack:
        owner = stack.pop()
        if id(owner) in seen:
            continue
        seen.add(id(owner))
        for attr, value in vars(owner).items():
            var = value if isinstance(value, Variable) else subs.get(id(value))
            if var is not None:
                slots.append((owner, attr, var))
        stack.extend(getattr(owner, "_layers", ()))
    return slots


def _slots(layer):
    """The cached slots of `layer`, rebuilt when an attribute no longer holds its variable (or a substitute)."""
    slots = layer.__dict__.get("_autocast_slots")
    if slots is not None:
        subs = SUBSTITUTES
        for owner, attr, var in slots:
            current = owner.__dict__.get(attr)
            if current is not var and subs.get(id(current)) is not var:
                slots = None
                break
    if slots is None:
        slots = _layer_slots(layer)
        object.__setattr__(layer, "_autocast_slots", slots)
    return slots


def _target(layer, owner, var):
    """The dtype `var` is read in while `layer` calls (None: the variable itself)."""
    dtype = layer._compute_dtype
    if not layer.autocast or not is_float(dtype) or not getattr(var, "autocast", True):
        return None
    if getattr(owner, "_float32_compute", False) or var.dtype == dtype or not is_float(var.dtype):
        return None
    return dtype


def enter(layer):
    """Puts `layer`'s weights (and its sub-layers') in its compute dtype; returns what `exit` restores."""
    from kcore import ops

    subs = SUBSTITUTES
    restore, casts = [], {}
    for owner, attr, var in _slots(layer):
        current = owner.__dict__[attr]
        dtype = _target(layer, owner, var)
        if dtype is None:
            want = var
        elif current is not var and current.dtype == dtype:
            want = current  # an enclosing layer already cast it to this dtype
        else:
            want = casts.get(id(var))
            if want is None:
                want = casts[id(var)] = ops.cast(var, dtype)
        if want is not current:
            restore.append((owner, attr, current))
            if want is not var:
                subs[id(want)] = var
            object.__setattr__(owner, attr, want)
    return restore


def exit(restore):
    """Undoes `enter` (in reverse order, so nested layers give back what enclosing ones had put in place)."""
    subs = SUBSTITUTES
    for owner, attr, previous in reversed(restore):
        replaced = owner.__dict__.get(attr)
        object.__setattr__(owner, attr, previous)
        if replaced is not previous:
            subs.pop(id(replaced), None)

