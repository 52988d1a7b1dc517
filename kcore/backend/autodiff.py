"""Define-by-run reverse-mode autodiff.

An op whose inputs need gradients (while a GradientTape records) attaches a `Node` to its
output: the input tensors and a function mapping the output's gradient to one gradient per
input (native tensors, or None). `gradient` walks the nodes in reverse topological order.
Outside a tape nothing is recorded, so inference builds no graph.

Recording state is per thread: a tape (or `no_grad`) in one thread never changes what
another thread records, so one thread can train while others predict.
"""
import threading

from kcore.backend.native import _C, BinaryOp


class _State(threading.local):
    recording = 0  # number of active, non-paused tapes in this thread


STATE = _State()


class Node:
    """One recorded op: its input tensors and its backward function.

    A node has `n_outputs` output tensors (each knows its `output_index`). Its backward takes
    the gradient of its single output, or, when n_outputs > 1, a list with one gradient per
    output (None for an output that received none), and returns one gradient per input.
    """

    __slots__ = ("backward", "inputs", "n_outputs")

    def __init__(self, inputs, backward, n_outputs=1):
        self.inputs = inputs
        self.backward = backward
        self.n_outputs = n_outputs


class RowGradient:
    """The gradient of a table read by row (an embedding): `dense`, the summed gradient, and `reads`, the gradient
    of each read as (values, indices, rows) (what `take` received), as TensorFlow keeps them in IndexedSlices.

    Optimizers that square (or take the absolute value of) the gradient do it per read on Keras's TensorFlow
    backend, and `sum_over_reads` gives them the same sums (kcore.optimizers.base). Only a leaf table gets one;
    adding any other gradient to it gives a plain one, as TensorFlow densifies.
    """

    __slots__ = ("dense", "reads")

    def __init__(self, dense, reads):
        self.dense, self.reads = dense, reads

    def sum_over_reads(self, fn):
        """sum over the reads of fn(each read's gradient), per row of the table (a native tensor)."""
        total = None
        for values, indices, rows in self.reads:
            part = _C.take_rows_backward(fn(values), indices, rows)
            total = part if total is None else _C.binary(BinaryOp.add, total, part)
        return total


def add_gradients(a, b):
    """a + b for native gradients, where either may be a RowGradient."""
    if type(a) is RowGradient or type(b) is RowGradient:
        if type(a) is RowGradient and type(b) is RowGradient:
            return RowGradient(_C.binary(BinaryOp.add, a.dense, b.dense), a.reads + b.reads)
        a, b = getattr(a, "dense", a), getattr(b, "dense", b)
    return _C.binary(BinaryOp.add, a, b)


def is_recording() -> bool:
    """Whether a GradientTape is recording (ops attach backward rules only then)."""
    return STATE.recording > 0


def _needs_record(inputs):
    if STATE.recording:
        for t in inputs:
            if t.requires_grad:
                return True
    return False


def attach(out, inputs, backward):
    """Records `out = op(*inputs)` when a tape is active and some input needs a gradient."""
    if STATE.recording:  # _needs_record, inlined: every op of every step comes through here
        for t in inputs:
            if t.requires_grad:
                out.requires_grad = True
                out.node = Node(inputs, backward)
                break
    return out


def attach_outputs(outs, inputs, backward):
    """Records `outs = op(*inputs)` for an op with several outputs; one node serves them all.

    `backward(grads)` receives a list with one gradient per output (None where an output got no
    gradient) and runs once, after every output's gradient has been summed.
    """
    if _needs_record(inputs):
        node = Node(inputs, backward, len(outs))
        for i, out in enumerate(outs):
            out.requires_grad = True
            out.node = node
            out.output_index = i
    return outs


class no_grad:
    """Context manager that pauses recording (inference inside a tape)."""

    def __enter__(self):
        self._saved = STATE.recording
        STATE.recording = 0
        return self

    def __exit__(self, *exc):
        STATE.recording = self._saved
        return False


def _vertex(t):
    """The graph vertex of a tensor: the node that produced it, or the tensor itself for a leaf."""
    node = t.node
    return t if node is None or node.backward is None else node  # a released node made t a leaf


def _topological_order(root):
    """Vertices (nodes and leaf tensors) reachable from root, each listed after all of its inputs.

    (Hot path of every training step: `_vertex` is inlined.)"""
    start = _vertex(root)
    order, visited = [], {start}
    stack = [(start, iter(start.inputs) if type(start) is Node else iter(()))]
    while stack:
        v, inputs = stack[-1]
        for inp in inputs:
            if not inp.requires_grad:
                continue
            node = inp.node
            w = inp if node is None or node.backward is None else node
            if w not in visited:
                visited.add(w)
                stack.append((w, iter(w.inputs) if w is node else iter(())))
                break
        else:
            stack.pop()
            order.append(v)
    return order


def _accumulate(pending, t, g):
    """Adds g to the gradient of tensor t (a slot of its node's output list, or its leaf entry)."""
    node = t.node
    v = t if node is None or node.backward is None else node
    if v is t or v.n_outputs == 1:
        prev = pending.get(v)
        pending[v] = g if prev is None else add_gradients(prev, g)
    else:
        _accumulate_output(pending, v, t.output_index, g)


def _accumulate_output(pending, node, i, g):
    """Adds g to output i's slot of a node with several outputs."""
    slots = pending.get(node)
    if slots is None:
        slots = pending[node] = [None] * node.n_outputs
    slots[i] = g if slots[i] is None else _C.binary(BinaryOp.add, slots[i], g)


def backpropagate(root, root_grad, release_graph):
    """Returns {leaf tensor: native gradient} for every leaf reached from `root`."""
    order = _topological_order(root)
    pending = {}
    _accumulate(pending, root, root_grad)
    leaves = {}
    pop, add, add_op = pending.pop, _C.binary, BinaryOp.add
    for v in reversed(order):
        g = pop(v, None)
        if g is None:
            continue
        if type(v) is not Node:
            leaves[v] = g
            continue
        for inp, gi in zip(v.inputs, v.backward(g)):
            if gi is not None and inp.requires_grad:  # _accumulate, inlined for the one-output case
                node = inp.node
                w = inp if node is None or node.backward is None else node
                if w is inp or w.n_outputs == 1:
                    prev = pending.get(w)
                    if prev is None:
                        pending[w] = gi
                    elif type(prev) is not RowGradient and type(gi) is not RowGradient:  # add_gradients, inlined
                        pending[w] = add(add_op, prev, gi)
                    else:
                        pending[w] = add_gradients(prev, gi)
                else:
                    _accumulate_output(pending, w, inp.output_index, gi)
        if release_graph:  # frees what the backward kept; the outputs become leaves
            v.inputs, v.backward = (), None
    return leaves


class GradientTape:
    """Records ops on trainable variables (and watched tensors) for `gradient`.

        with kcore.GradientTape() as tape:
            loss = ...
        grads = tape.gradient(loss, model.trainable_variables)
    """

    def __init__(self, persistent=False, watch_accessed_variables=True):
        self.persistent = persistent
        self._watched = []
        self._active = False
        self._used = False

    def __enter__(self):
        if self._active:
            raise RuntimeError("GradientTape: this tape is already recording (a tape cannot be entered twice)")
        STATE.recording += 1
        self._active = True
        self._thread = threading.get_ident()
        return self

    def __exit__(self, *exc):
        if self._active:
            if threading.get_ident() != self._thread:
                raise RuntimeError("GradientTape: a tape must be exited in the thread that entered it")
            STATE.recording -= 1
            self._active = False
        return False

    def watch(self, tensor):
        for t in _flatten(tensor):
            if not hasattr(t, "requires_grad"):
                raise TypeError(f"GradientTape.watch expects kcore tensors, got {type(t).__name__}")
            t.requires_grad = True
            self._watched.append(t)

    def stop_recording(self):
        return no_grad()

    def gradient(self, target, sources, output_gradients=None, unconnected_gradients="none"):
        from kcore.backend.tensor import RowGradientTensor, Tensor, convert_to_tensor

        if self._used and not self.persistent:
            raise RuntimeError("A non-persistent GradientTape can only be used to compute one set of gradients; "
                               "use GradientTape(persistent=True) for more")
        self._used = True
        targets = _flatten(target)
        leaves = {}
        for i, t in enumerate(targets):
            if not isinstance(t, Tensor):
                raise TypeError(f"gradient: target must be a kcore tensor, got {type(t).__name__}")
            if output_gradients is not None:
                seed = convert_to_tensor(_flatten(output_gradients)[i], dtype=t.dtype).to(t.value.device).value
            else:
                seed = _ones_like(t.value)
            if not t.requires_grad:
                continue
            for leaf, g in backpropagate(t, seed, release_graph=not self.persistent).items():
                prev = leaves.get(leaf)
                leaves[leaf] = g if prev is None else add_gradients(prev, g)
        out = []
        for s in _flatten(sources):
            g = leaves.get(s)
            if g is None and unconnected_gradients == "zero":
                g = _C.zeros(list(s.value.shape), s.dtype, s.value.device)
            if g is not None and type(g) is not RowGradient and not g.ndim and _is_shared_one(g):
                g = _C.full([], g.dtype, 1.0, g.device)  # never hand the shared seed to the caller (it could write)
            out.append(None if g is None else RowGradientTensor(g) if type(g) is RowGradient else Tensor(g))
        return _unflatten_like(sources, out)


_SCALAR_ONES = {}  # (dtype, device) -> the native scalar 1.0 seeding the gradient of a scalar loss


def _ones_like(value):
    """Ones of value's shape, dtype and device; the scalar ones of a loss are made once per dtype and device (no
    op writes into a gradient, so sharing it is safe)."""
    if value.ndim:
        return _C.full(list(value.shape), value.dtype, 1.0, value.device)
    key = (value.dtype, value.device)
    one = _SCALAR_ONES.get(key)
    if one is None:
        one = _SCALAR_ONES[key] = _C.full([], value.dtype, 1.0, value.device)
    return one


def _is_shared_one(value):
    return any(value is one for one in _SCALAR_ONES.values())


def _flatten(x):
    if isinstance(x, (list, tuple)):
        out = []
        for v in x:
            out.extend(_flatten(v))
        return out
    if isinstance(x, dict):
        return _flatten(list(x.values()))
    return [x]


def _unflatten_like(structure, flat):
    if isinstance(structure, (list, tuple)):
        return list(flat)
    if isinstance(structure, dict):
        return dict(zip(structure.keys(), flat))
    return flat[0]
