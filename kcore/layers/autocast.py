"""Keras's autocast of layer weights: inside `call`, a layer whose compute dtype differs from its variable dtype
(mixed_bfloat16: bfloat16 compute, float32 weights) reads its float weights as compute-dtype tensors.

Keras reads variables through an AutocastScope; kcore's layers use their weights as attributes (`self.kernel`,
or items of a list attribute), so for the duration of a call those places in the layer and in its sub-layers
(an RNN's cell, a wrapper's layer) hold `ops.cast(weight, compute_dtype)`, and are put back afterwards. The
cast is the engine's differentiable cast, so gradients reach the float32 variables in float32. A sub-layer
called inside with its own policy (e.g. `Activation("softmax", dtype="float32")`, a float32 BatchNormalization)
sees its weights in its own compute dtype, as in Keras's nested scopes. Weights made with
`add_weight(..., autocast=False)` and layers that compute in float32 (`_float32_compute`, the normalization
layers) keep their variables.

The attributes belong to the layer, not to a thread: one mixed-precision layer (or model) must not be called
from two threads at once (float32 layers never swap anything and have no such limit).
"""
import weakref

from kcore.backend.tensor import FLOAT_DTYPES, Variable
from kcore.ops.elementwise import cast

# The substitutes in place now: id(substitute tensor) -> its variable. Empty whenever no mixed-precision call
# runs, which is all a float32 layer call checks (one dict truth test).
SUBSTITUTES = {}
# Per layer, the places its call casts (found once; kept outside the layer, whose attributes it scans).
_SLOTS = weakref.WeakKeyDictionary()


def is_float(dtype):
    """Whether `dtype` (a name) is a floating dtype kcore computes in."""
    return dtype in FLOAT_DTYPES


def _castable(owner, var):
    """The variable's dtype when autocast may read it in another one (None: never: `autocast=False` weights, the
    weights of layers computing in float32, non-float weights)."""
    if not var.autocast or getattr(owner, "_float32_compute", False) or not is_float(var.dtype):
        return None
    return var.dtype


def _layer_slots(layer):
    """[(holder, key, Variable, its castable dtype or None)] for every weight of `layer` and its sub-layers held
    in an attribute (holder: the owner's __dict__, key: the name) or in a public list attribute (holder: the
    list, key: the index). A place where an enclosing layer's call holds a substitute counts as its variable's."""
    subs = SUBSTITUTES
    slots, seen, stack = [], set(), [layer]
    while stack:
        owner = stack.pop()
        if id(owner) in seen:
            continue
        seen.add(id(owner))
        attributes = vars(owner)
        for attr, value in attributes.items():
            # public lists only: the layer's own bookkeeping (`_weights`, a model's `_train_variables`) stays
            places = enumerate(value) if type(value) is list and not attr.startswith("_") else ()
            for holder, key, item in [(attributes, attr, value)] + [(value, i, v) for i, v in places]:
                var = item if isinstance(item, Variable) else subs.get(id(item))
                if var is not None:
                    slots.append((holder, key, var, _castable(owner, var)))
        stack.extend(getattr(owner, "_layers", ()))
    return slots


def _slots(layer):
    """The cached slots of `layer`, rebuilt when a place no longer holds its variable (or a substitute)."""
    slots = _SLOTS.get(layer)
    if slots is not None:
        subs = SUBSTITUTES
        for holder, key, var, _ in slots:
            current = (holder[key] if key < len(holder) else None) if type(holder) is list else holder.get(key)
            if current is not var and subs.get(id(current)) is not var:
                slots = None
                break
    if slots is None:
        slots = _SLOTS[layer] = _layer_slots(layer)
    return slots


def forget(layer):
    """Drops the places cached for `layer` (its policy changed)."""
    _SLOTS.pop(layer, None)


def enter(layer):
    """Puts `layer`'s weights (and its sub-layers') in its compute dtype; returns what `exit` restores."""
    subs = SUBSTITUTES
    restore, casts = [], {}
    target = layer._compute_dtype if layer._autocast and is_float(layer._compute_dtype) else None
    for holder, key, var, castable in _slots(layer):
        current = holder[key]
        dtype = None if target is None or castable is None or castable == target else target
        if dtype is None:
            want = var
        elif current is not var and current.dtype == dtype:
            want = current  # an enclosing layer already cast it to this dtype
        else:
            want = casts.get(id(var))
            if want is None:
                want = casts[id(var)] = cast(var, dtype)
        if want is not current:
            restore.append((holder, key, current))
            if want is not var:
                subs[id(want)] = var
            holder[key] = want
    return restore


def exit(restore):
    """Undoes `enter` (in reverse order, so nested layers give back what enclosing ones had put in place)."""
    subs = SUBSTITUTES
    for holder, key, previous in reversed(restore):
        replaced = holder[key]
        holder[key] = previous
        if replaced is not previous:
            subs.pop(id(replaced), None)
