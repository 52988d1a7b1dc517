"""NCCL for models on NVIDIA GPUs (one GPU per MPI process).

libnccl is the nvidia-nccl wheel's (or the system's), dlopen()ed by the CUDA extension at run time; rank 0
creates the unique id and MPI broadcasts it. Gradients are summed in place on the GPU with one grouped
ncclAllReduce launch per step (on kcore's stream, so ordered with its kernels)."""
import os


def find_libnccl():
    """The nvidia-nccl wheel's libnccl.so.2 when installed, else "" (the dynamic loader's search path)."""
    import importlib.util

    spec = importlib.util.find_spec("nvidia")
    for root in (spec.submodule_search_locations or []) if spec else []:
        path = os.path.join(root, "nccl", "lib", "libnccl.so.2")
        if os.path.exists(path):
            return path
    return ""


class NcclComm:
    """An NCCL communicator over the MPI world `mpi` (its rank and size)."""

    def __init__(self, mpi):
        from kcore import cuda

        self.mod = cuda.require()
        self.mod.nccl_load(find_libnccl())
        uid = self.mod.nccl_unique_id() if mpi.rank == 0 else None
        uid = mpi.bcast_obj(uid)
        self.rank, self.size = mpi.rank, mpi.size
        self.handle = self.mod.nccl_comm_init(uid, mpi.size, mpi.rank)

    def _check(self, native, what):
        if native.device == "cpu" or not native.is_contiguous():
            raise TypeError(f"kcore.distribution NCCL {what}: needs a contiguous CUDA tensor, got one on "
                            f"{native.device} (contiguous={native.is_contiguous()})")

    def allreduce_natives_(self, natives, op="sum"):
        """Reduces each native CUDA tensor in place, all in one NCCL group (one launch)."""
        self._grouped(natives, "allreduce", lambda t: self.mod.nccl_allreduce(self.handle, t.data_ptr(), t.size,
                                                                               t.dtype, op))

    def bcast_natives_(self, natives, root=0):
        """Every rank's tensors take rank `root`'s values, in place (one NCCL group)."""
        self._grouped(natives, "broadcast", lambda t: self.mod.nccl_broadcast(self.handle, t.data_ptr(), t.size,
                                                                               t.dtype, root))

    def _grouped(self, natives, what, call):
        for t in natives:
            self._check(t, what)
        self.mod.nccl_group_start()
        try:
            for t in natives:
                call(t)
        finally:
            self.mod.nccl_group_end()

    def close(self):
        if self.handle:
            self.mod.nccl_comm_destroy(self.handle)
            self.handle = 0


def pin_gpu_per_rank(local_rank):
    """One GPU per process: CUDA_VISIBLE_DEVICES=<local rank> unless the user chose the devices or the CUDA
    extension is already loaded (kcore runs on the first visible GPU)."""
    from kcore import cuda

    if "CUDA_VISIBLE_DEVICES" not in os.environ and not cuda._state["tried"]:
        os.environ["CUDA_VISIBLE_DEVICES"] = str(local_rank)
