"""Process-wide distribution state that the engine-facing code (losses, dropout, trainer) consults.

Importing this module is free: it never imports mpi4py. `state["distribution"]` is the active
DataParallel (or None); `state["batch"]` describes the local part of the current global batch while a
distributed step runs (None otherwise)."""

state = {"distribution": None, "batch": None, "comm": None}


class LocalBatch:
    """The local part of one global batch: `n_local` of `n_global` rows. `dummy` marks a rank whose shard
    is empty: it runs the step on one borrowed row with every loss term scaled by 0, so that it takes part
    in exactly the same collectives as the other ranks."""

    __slots__ = ("n_local", "n_global", "dummy", "comm")

    def __init__(self, n_local, n_global, dummy, comm):
        self.n_local, self.n_global, self.dummy, self.comm = n_local, n_global, dummy, comm

    @property
    def fraction(self):
        """What this rank's mean-reduced loss is multiplied by: local rows / global rows (0 on a dummy)."""
        return 0.0 if self.dummy else self.n_local / self.n_global

    def global_counts(self, total, valid):
        """(total, valid) summed over the ranks (a masked loss divides by the global number of kept values)."""
        import numpy as np

        buf = np.array([0.0, 0.0] if self.dummy else [total, valid], dtype=np.float64)
        self.comm.allreduce_(buf)
        return float(buf[0]), float(buf[1])


def active_distribution():
    """The DataParallel set with set_distribution(), or None."""
    return state["distribution"]


def current_batch():
    """The LocalBatch of the running distributed step, or None (single-process semantics)."""
    return state["batch"]


def rank_salt():
    """Mixed into random seeds (dropout) so that each rank of a multi-process world draws its own masks
    (DataParallel or Horovod style); 0 in a single process."""
    comm = state["comm"]
    if comm is None or comm.size == 1:
        return 0
    return (comm.rank * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
