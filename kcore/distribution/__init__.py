"""Data-parallel training over MPI (Keras 3's `keras.distribution` names).

    import kcore
    kcore.distribution.initialize()                      # reads the MPI world under mpiexec; no-op alone
    kcore.distribution.set_distribution(kcore.distribution.DataParallel())
    model.fit(x, y, batch_size=64)                       # 64 = the global batch, split over the ranks

Every rank passes the same (full) data; each step, rank r trains on its slice of the global batch, the
gradients are SUM-reduced in one fused in-place MPI Allreduce and every rank applies the same update.
Each rank's loss is its local sum divided by the *global* batch size, so the result equals one process
training on the global batch (also for a partial last batch). mpi4py is imported only when the
process was launched by mpiexec with more than one rank (`pip install "kcore[mpi]"`).

Models on a GPU (one per process: CUDA_VISIBLE_DEVICES is set to the local rank unless already set) sum
their gradients with NCCL (`pip install nvidia-nccl-cu12`, loaded at run time by the CUDA extension).
"""
from kcore.distribution import _context
from kcore.distribution.comm import LocalComm, launched_by_mpiexec
from kcore.distribution.data_parallel import DataParallel


def initialize(job_addresses=None, num_processes=None, process_id=None):
    """Joins the MPI world when launched by mpiexec (idempotent); with one process it does nothing.
    The arguments exist for Keras compatibility: MPI decides the addresses, the count and the ids."""
    comm = _context.state["comm"]
    if comm is None:
        comm = LocalComm()
        if launched_by_mpiexec():
            from kcore.distribution.comm import MPIComm

            comm = MPIComm()
            if comm.size > 1:
                from kcore.distribution.comm import share_cores
                from kcore.distribution.nccl import pin_gpu_per_rank

                pin_gpu_per_rank(comm.local_rank)
                share_cores(comm.local_size)
        _context.state["comm"] = comm
    if num_processes is not None and int(num_processes) != comm.size:
        raise ValueError(f"kcore.distribution.initialize: num_processes={num_processes} but the MPI world has "
                         f"{comm.size} processes")
    if process_id is not None and int(process_id) != comm.rank:
        raise ValueError(f"kcore.distribution.initialize: process_id={process_id} but this process is MPI rank "
                         f"{comm.rank}")


def _comm():
    if _context.state["comm"] is None:
        initialize()
    return _context.state["comm"]


def process_id():
    """This process's rank in the world (0 with one process)."""
    return _comm().rank


def num_processes():
    """How many processes train together (1 without mpiexec)."""
    return _comm().size


def local_rank():
    """This process's rank among the processes of its machine (picks its GPU)."""
    return _comm().local_rank


def list_devices(device_type=None):
    """One device per process, as Keras names them: ['cpu:0', 'cpu:1', ...] (or 'gpu:i')."""
    kind = (device_type or "cpu").lower()
    return [f"{kind}:{i}" for i in range(num_processes())]


def set_distribution(value):
    """Makes `value` (a DataParallel, or None to switch off) the distribution fit/evaluate/predict use."""
    if value is not None and not isinstance(value, DataParallel):
        raise TypeError(f"set_distribution: expected a kcore.distribution.DataParallel or None, got "
                        f"{type(value).__name__}")
    if value is not None:
        initialize()
    _context.state["distribution"] = value


def distribution():
    """The distribution set with set_distribution() (None when training runs in one process)."""
    return _context.state["distribution"]


__all__ = ["initialize", "DataParallel", "set_distribution", "distribution", "process_id", "num_processes",
           "local_rank", "list_devices"]
