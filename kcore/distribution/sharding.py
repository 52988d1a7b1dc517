"""Splitting each global batch over the ranks.

Every rank holds the same data; rank 0 draws the epoch's order and broadcasts it, so all ranks see the
same global batches. Global batch b (size B) is cut into `size` contiguous parts of sizes differing by at
most one (the first ranks get the extra rows); rank r trains on part r. A rank whose part is empty (a last
batch smaller than the world) borrows the batch's first row and runs the step with its loss scaled by 0,
so every rank runs the same steps and collectives (no hangs)."""
import numpy as np

from kcore.distribution._context import LocalBatch, state


def shard_bounds(n, size, rank):
    """[lo, hi) of rank `rank`'s part when n rows are split over `size` ranks."""
    base, extra = divmod(n, size)
    lo = rank * base + min(rank, extra)
    return lo, lo + base + (1 if rank < extra else 0)


def check_same_everywhere(comm, what, **values):
    """Raises the same ValueError on every rank when `values` differ between ranks."""
    seen = comm.allgather_obj(values)
    if any(v != seen[0] for v in seen):
        table = "; ".join(f"rank {r}: {v}" for r, v in enumerate(seen))
        raise ValueError(f"kcore.distribution: {what} must be the same on every process, got {table}. Pass the "
                         "same (full) dataset and batch size to every rank; DataParallel splits each global batch")


class ShardedArrayBatches:
    """Local parts of an ArrayBatches' global batches; `steps` and `n` stay global."""

    def __init__(self, data, comm):
        check_same_everywhere(comm, "the dataset size and batch size", samples=int(data.n),
                              batch_size=int(data.batch_size), steps=int(data.steps))
        self.data, self.comm = data, comm
        self.steps, self.n, self.xs = data.steps, data.n, data.xs

    def __iter__(self):
        data, comm = self.data, self.comm
        self.dummies = []  # per step: did this rank only borrow a row (predict drops those outputs)
        order = data.epoch_order() if comm.rank == 0 else None
        if data.shuffle:
            order = np.ascontiguousarray(order if order is not None else np.empty(data.n, dtype=np.int64),
                                         dtype=np.int64)
            comm.bcast_(order)
        for start in range(0, data.n, data.batch_size):
            stop = min(start + data.batch_size, data.n)
            rows = np.arange(start, stop) if order is None else order[start:stop]
            part = _local_part(data.take, rows, comm)
            self.dummies.append(state["batch_next"].dummy)
            yield part


class ShardedGeneratorBatches:
    """Local parts of the global batches a generator yields on every rank. Each step the ranks agree (one
    tiny allreduce) on whether all of them still have a batch, so a shorter generator ends the epoch on
    every rank instead of hanging the others."""

    def __init__(self, data, comm):
        self.data, self.comm, self.steps = data, comm, data.steps

    def __iter__(self):
        it = iter(self.data)
        self.dummies = []
        flag = np.zeros(1, dtype=np.int64)
        while True:
            item = next(it, None)
            flag[0] = 0 if item is None else 1
            self.comm.allreduce_(flag, op="min")
            if not flag[0]:
                return
            xb, yb, swb = item
            n = len(_first_array(xb))
            check_same_everywhere(self.comm, "the generator's batch size", batch=n)

            def take(rows, xb=xb, yb=yb, swb=swb):
                return tuple(None if v is None else _take_nested(v, rows) for v in (xb, yb, swb))

            part = _local_part(take, np.arange(n), self.comm)
            self.dummies.append(state["batch_next"].dummy)
            yield part


def _local_part(take, rows, comm):
    lo, hi = shard_bounds(len(rows), comm.size, comm.rank)
    dummy = hi == lo
    state["batch_next"] = LocalBatch(hi - lo, len(rows), dummy, comm)
    return take(rows[:1] if dummy else rows[lo:hi])


def _first_array(x):
    if isinstance(x, dict):
        return _first_array(next(iter(x.values())))
    if isinstance(x, (list, tuple)):
        return _first_array(x[0])
    return x


def _take_nested(x, rows):
    if isinstance(x, dict):
        return {k: _take_nested(v, rows) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(_take_nested(v, rows) for v in x)
    arr = x.numpy() if hasattr(x, "numpy") and not isinstance(x, np.ndarray) else np.asarray(x)
    return np.take(arr, rows, axis=0)
