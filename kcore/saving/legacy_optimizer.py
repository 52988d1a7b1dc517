"""Optimizer state in Keras 2's legacy HDF5 layout (the `optimizer_weights` group of a full-model .h5 file).

tf.keras writes `iteration:0` and one dataset per slot and trainable variable, listed in the `weight_names`
attribute in the order of its optimizer's variables, and restores the state by that position. Its classic
optimizers (what a training_config without the `Custom>` marker builds) hold one slot after the other for
all variables; its new ones alternate some slots per variable (Adam's m and v) and put the others after
(Adam's vhat). kcore names each dataset `<Optimizer>/<slot>/<variable path>:0` (tf.keras 2.11+'s names) and
restores by those names (each slot's entries in the model's trainable-variable order)."""
import warnings

import numpy as np

from kcore.backend.device import to_device
from kcore.backend.native import _C
from kcore.saving.legacy_h5 import _member, _names_attr, _read_array, _set_names_attr, _ShapeMismatch

# kcore optimizer class -> (slots tf.keras alternates per variable, slots it writes one after the other),
# each as (kcore slot name, tf.keras slot name). Only slots the optimizer has are written.
_TF_KERAS_LAYOUT = {
    "SGD": ((), (("momentum", "m"),)),
    "Adam": ((("momentum", "m"), ("velocity", "v")), (("velocity_hat", "vhat"),)),
    "AdamW": ((("momentum", "m"), ("velocity", "v")), (("velocity_hat", "vhat"),)),
    "Adamax": ((("m", "m"), ("u", "u")), ()),
    "RMSprop": ((), (("velocity", "velocity"), ("momentum", "momentum"), ("average_gradient", "average_gradient"))),
    "Adagrad": ((), (("accumulator", "accumulator"),)),
    "Adadelta": ((("accumulated_grad", "accumulated_grad"), ("accumulated_delta_var", "accumulated_delta_var")), ()),
}
# tf.keras's short slot names of optimizers not in the table (Nadam's m and v)
_SHORT_NAMES = {"m": "momentum", "v": "velocity", "vhat": "velocity_hat"}


def _kcore_slot(optimizer, stored):
    """The kcore slot name of a tf.keras slot name for this optimizer."""
    for kcore_name, tf_name in sum(_TF_KERAS_LAYOUT.get(type(optimizer).__name__, ((), ())), ()):
        if tf_name == stored:
            return kcore_name
    return _SHORT_NAMES.get(stored, stored)


def write_optimizer_weights(model, f, new_style):
    """Writes model.optimizer's state as tf.keras's `optimizer_weights` group, in the order of tf.keras's new
    optimizer classes (`new_style`, the training_config's `Custom>` marker) or its classic ones. An optimizer
    whose state tf.keras lays out differently (Nadam's running product, EMA copies) is not written (loaders
    then start it afresh)."""
    optimizer = getattr(model, "optimizer", None)
    layout = _TF_KERAS_LAYOUT.get(type(optimizer).__name__)
    if layout is None or getattr(optimizer, "use_ema", False):
        return
    variables = list(model.trainable_weights)
    slots = getattr(optimizer, "_slots", {})
    if any(id(v) not in slots for v in variables):  # not (fully) trained yet: nothing but the step count
        if any(id(v) in slots for v in variables):
            return
        variables = []
    wanted = list(optimizer._slot_names)
    paired, single = ([p for p in group if p[0] in wanted] for group in layout)
    if not new_style:  # the classic optimizers: every slot for all variables, one slot after the other
        paired, single = [], paired + single
    if len(paired) + len(single) != len(wanted):  # a slot the table does not know: leave the state out
        return
    names, values = ["iteration:0"], [np.array(optimizer._iterations, dtype=np.int64)]
    prefix = type(optimizer).__name__
    state = {id(v): dict(zip(wanted, (np.array(to_device(s, "cpu")) for s in slots[id(v)]))) for v in variables}

    def add(var, kcore_name, tf_name):
        names.append(f"{prefix}/{tf_name}/{getattr(var, 'path', None) or var.name}:0")
        values.append(state[id(var)][kcore_name])

    for var in variables:
        for kcore_name, tf_name in paired:
            add(var, kcore_name, tf_name)
    for kcore_name, tf_name in single:
        for var in variables:
            add(var, kcore_name, tf_name)
    if len(set(names)) != len(names):  # two variables with one path: tf.keras could not tell them apart either
        return
    group = f.create_group("optimizer_weights")
    _set_names_attr(group, "weight_names", names)
    for name, value in zip(names, values):
        group.create_dataset(name, data=value)


def read_optimizer_weights(model, group, path):
    """Restores the optimizer state tf.keras (or kcore) saved (`iteration:0` and `<Optimizer>/<slot>/<variable>:0`,
    each slot's entries in the model's trainable-variable order); a state kcore cannot map (older Keras 2 files,
    other slot sets) is skipped with a warning, as Keras does, and training starts from a fresh state."""
    optimizer, variables = model.optimizer, model.trainable_weights
    by_slot, iteration = {}, None
    for name in _names_attr(group, "weight_names", path):
        parts = name.split("/")
        if len(parts) == 1 and parts[0].startswith("iteration"):
            iteration = name
        elif len(parts) >= 3:
            by_slot.setdefault(_kcore_slot(optimizer, parts[1]), []).append(name)
        else:
            by_slot = None
            break
    wanted = tuple(optimizer._slot_names)
    if iteration is not None and by_slot == {}:  # saved before any training step: nothing to restore
        return
    if iteration is None or by_slot is None or set(by_slot) != set(wanted) or \
            any(len(names) != len(variables) for names in by_slot.values()):
        warnings.warn(f"{path}: the saved optimizer state does not match {type(optimizer).__name__} with "
                      f"{len(variables)} trainable weights (slots {list(wanted)}); it starts afresh", stacklevel=3)
        return
    step = _read_array(_member(group, iteration, path), (), f"optimizer_weights/{iteration}", path)
    slot_values = []
    for i, var in enumerate(variables):
        for slot in wanted:
            name = by_slot[slot][i]
            try:
                slot_values.append(_read_array(_member(group, name, path), tuple(var.shape),
                                               f"optimizer_weights/{name}", path))
            except _ShapeMismatch as e:
                raise ValueError(f"{path}: optimizer slot for weight '{var.name}' {e}") from None
    optimizer.build(variables)  # the file has the slots only (no averages or accumulators): set them directly
    optimizer._iterations = int(step)
    slots = [s for v in variables for s in optimizer._slots[id(v)]]
    for tensor, value in zip(slots, slot_values):
        tensor.copy_from(_C.from_numpy(np.ascontiguousarray(value, dtype=tensor.dtype)))

