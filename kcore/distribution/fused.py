"""The fused gradient buffer (one in-place Allreduce per step) and metric-state reduction."""
import numpy as np

from kcore.backend.native import _C
from kcore.backend.tensor import Tensor


class FusedBuffer:
    """One flat contiguous buffer per step: every variable's gradient in the model's variable order (a fixed
    layout, so the reduction order is the same every step), then one flag per variable (1 when the rank has
    a gradient for it), then the step's scalar losses. After the in-place SUM Allreduce the gradients are
    handed to the optimizer as engine tensors that share the buffer's memory (no copy back)."""

    def __init__(self, variables, n_extra):
        dtypes = {str(v.dtype) for v in variables}
        self.dtype = np.float64 if "float64" in dtypes else np.float32
        sizes = [int(np.prod(v.shape, dtype=np.int64)) for v in variables]
        n_grad = int(sum(sizes))
        self.buffer = np.zeros(n_grad + len(variables) + n_extra, dtype=self.dtype)
        self.views, offset = [], 0
        for v, size in zip(variables, sizes):
            self.views.append(self.buffer[offset:offset + size].reshape(tuple(v.shape)))
            offset += size
        self.flags = self.buffer[n_grad:n_grad + len(variables)]
        self.extras = self.buffer[n_grad + len(variables):]
        self.var_dtypes = [str(v.dtype) for v in variables]

    def allreduce(self, grads, extras, comm):
        """Sums `grads` (engine tensors or None) and `extras` (scalar tensors or None) over the ranks.
        Returns (gradients, None where no rank had one; the summed extras as a float64 array)."""
        for view, g, i in zip(self.views, grads, range(len(self.views))):
            if g is None:
                view.fill(0)
                self.flags[i] = 0
            else:
                np.copyto(view, g.numpy(), casting="same_kind")
                self.flags[i] = 1
        for i, e in enumerate(extras):
            self.extras[i] = 0 if e is None else float(e.numpy())
        comm.allreduce_(self.buffer)
        out = []
        for view, flag, dtype in zip(self.views, self.flags, self.var_dtypes):
            if flag <= 0:
                out.append(None)
            elif np.dtype(dtype) == self.dtype:
                out.append(Tensor(_C.from_numpy(view)))  # shares the buffer's memory
            else:
                out.append(Tensor(_C.from_numpy(np.ascontiguousarray(view, dtype=dtype))))
        return out, self.extras.astype(np.float64)


def metric_state_names(metric):
    """The attributes `reset_state` assigns (the metric's accumulators), found by running it on a copy."""
    names = []
    spy_cls = type("_StateSpy", (type(metric),),
                   {"__setattr__": lambda self, k, v: (names.append(k), object.__setattr__(self, k, v))})
    spy = object.__new__(spy_cls)
    spy.__dict__.update(metric.__dict__)
    try:
        spy.reset_state()
    except Exception:  # a metric whose reset needs more than its own state: not reducible this way
        return []
    return [n for n in dict.fromkeys(names) if _numeric(getattr(metric, n, None))]


def _numeric(value):
    return isinstance(value, (int, float, np.ndarray, np.number)) and not isinstance(value, bool) and \
        np.asarray(value).dtype.kind in "fiu"


def allreduce_metric_state(metric, comm):
    """Replaces the metric's accumulators (totals, counts, confusion counts...) by their sums over the
    ranks, in place."""
    names = metric_state_names(metric)
    if not names or comm.size == 1:
        return
    values = [np.asarray(getattr(metric, n)) for n in names]
    flat = np.concatenate([v.astype(np.float64).ravel() for v in values]) if values else np.zeros(0)
    comm.allreduce_(flat)
    offset = 0
    for name, v in zip(names, values):
        part = flat[offset:offset + v.size].reshape(v.shape).astype(v.dtype)
        offset += v.size
        original = getattr(metric, name)
        setattr(metric, name, part if isinstance(original, np.ndarray) else type(original)(part.item())
                if isinstance(original, (int, float)) else part)
