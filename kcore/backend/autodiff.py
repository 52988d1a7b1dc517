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
    __slots__ = ("inputs", "backward")

    def __init__(self, inputs, backward):
        self.inputs = inputs
        self.backward = backward


def is_recording() -> bool:
    """Whether a GradientTape is recording (ops attach backward rules only then)."""
    return STATE.recording > 0


def attach(out, inputs, backward):
    """Records `out = op(*inputs)` when a tape is active and some input needs a gradient."""
    if STATE.recording:
        for t in inputs:
            if t.requires_grad:
                out.requires_grad = True
                out.node = Node(inputs, backward)
                break
    return out


class no_grad:
    """Context manager that pauses recording (inference inside a tape)."""

    def __enter__(self):
        self._saved = STATE.recording
        STATE.recording = 0
        return self

    def __exit__(self, *exc):
        STATE.recording = self._saved
        return False


def _topological_order(root):
    """Tensors reachable from root through recorded nodes, each listed after all of its inputs."""
    order, visited = [], {root}
    stack = [(root, iter(root.node.inputs) if root.node is not None else iter(()))]
    while stack:
        t, inputs = stack[-1]
        for inp in inputs:
            if inp.requires_grad and inp not in visited:
                visited.add(inp)
                stack.append((inp, iter(inp.node.inputs) if inp.node is not None else iter(())))
                break
        else:
            stack.pop()
            order.append(t)
    return order


def backpropagate(root, root_grad, release_graph):
    """Returns {leaf tensor: native gradient} for every leaf reached from `root`."""
    order = _topological_order(root)
    grads = {root: root_grad}
    leaves = {}
    add = BinaryOp.add
    for t in reversed(order):
        g = grads.pop(t, None)
        if g is None:
            continue
        node = t.node
        if node is None:
            leaves[t] = g
            continue
        for inp, gi in zip(node.inputs, node.backward(g)):
            if gi is not None and inp.requires_grad:
                prev = grads.get(inp)
                grads[inp] = gi if prev is None else _C.binary(add, prev, gi)
        if release_graph:
            t.node = None
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
        from kcore.backend.tensor import Tensor, convert_to_tensor

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
                seed = _C.full(list(t.value.shape), t.dtype, 1.0, t.value.device)
            if not t.requires_grad:
                continue
            for leaf, g in backpropagate(t, seed, release_graph=not self.persistent).items():
                prev = leaves.get(leaf)
                leaves[leaf] = g if prev is None else _C.binary(BinaryOp.add, prev, g)
        out = []
        for s in _flatten(sources):
            g = leaves.get(s)
            if g is None and unconnected_gradients == "zero":
                g = _C.zeros(list(s.value.shape), s.dtype, s.value.device)
            out.append(None if g is None else Tensor(g))
        return _unflatten_like(sources, out)


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
