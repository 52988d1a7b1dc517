"""Communicators: MPI through mpi4py (imported only when several processes run) or a one-process stand-in.

Collectives work in place on NumPy views of the engine's buffers (no copies): `allreduce_` sums,
`bcast_` overwrites with rank 0's values."""
import os

import numpy as np

_MPI_ENV = ("PMI_SIZE", "PMI_RANK", "OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS", "HYDI_CONTROL_FD")


def launched_by_mpiexec():
    """True when this process was started by mpiexec / mpirun (an MPI world may have several processes)."""
    return any(k in os.environ for k in _MPI_ENV)


class LocalComm:
    """The world of a single process: every collective is the identity."""

    rank, size, local_rank, local_size = 0, 1, 0, 1

    def allreduce_(self, buf, op="sum"):
        return buf

    def bcast_(self, buf, root=0):
        return buf

    def bcast_obj(self, obj, root=0):
        return obj

    def allgather_obj(self, obj):
        return [obj]

    def barrier(self):
        pass


class MPIComm:
    """MPI_COMM_WORLD through mpi4py."""

    def __init__(self):
        try:
            from mpi4py import MPI
        except ImportError as err:  # pragma: no cover - depends on the environment
            raise ImportError("kcore.distribution: this process was launched by mpiexec but mpi4py is not "
                              "installed; install it with `pip install \"kcore[mpi]\"`") from err
        self._MPI = MPI
        self.comm = MPI.COMM_WORLD
        self.rank, self.size = self.comm.Get_rank(), self.comm.Get_size()
        node = self.comm.Split_type(MPI.COMM_TYPE_SHARED, key=self.rank)
        self.local_rank, self.local_size = node.Get_rank(), node.Get_size()
        node.Free()
        self._ops = {"sum": MPI.SUM, "max": MPI.MAX, "min": MPI.MIN}
        if self.size > 1:
            _abort_world_on_uncaught_exception(self.comm)

    def allreduce_(self, buf, op="sum"):
        """Reduces the contiguous NumPy array `buf` over all ranks, in place."""
        _check_contiguous(buf, "allreduce_")
        self.comm.Allreduce(self._MPI.IN_PLACE, buf, op=self._ops[op])
        return buf

    def bcast_(self, buf, root=0):
        """Overwrites the contiguous NumPy array `buf` with rank `root`'s values, in place."""
        _check_contiguous(buf, "bcast_")
        self.comm.Bcast(buf, root=root)
        return buf

    def bcast_obj(self, obj, root=0):
        return self.comm.bcast(obj, root=root)

    def allgather_obj(self, obj):
        return self.comm.allgather(obj)

    def barrier(self):
        self.comm.Barrier()


def _abort_world_on_uncaught_exception(comm):
    """A rank that dies of an exception takes the others down (they would wait in a collective forever)."""
    import sys

    previous = sys.excepthook

    def hook(kind, value, tb):
        previous(kind, value, tb)
        sys.stderr.flush()
        comm.Abort(1)

    sys.excepthook = hook


def _check_contiguous(buf, what):
    if not isinstance(buf, np.ndarray) or not buf.flags.c_contiguous:
        raise TypeError(f"kcore.distribution.{what}: needs a C-contiguous NumPy array (a view of an engine buffer), "
                        f"got {type(buf).__name__}")


def share_cores(local_size):
    """The ranks of one machine split its cores: each runs the engine's kernels on cores / local_size threads
    (OMP_NUM_THREADS, when set, decides instead). Oversubscribed OpenMP threads would spin against each
    other and slow every step many times over."""
    from kcore.backend.config import set_num_threads

    env = os.environ.get("OMP_NUM_THREADS", "").strip()
    if env.isdigit() and int(env) > 0:
        set_num_threads(int(env))
        return
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    set_num_threads(max(1, cores // max(1, local_size)))
