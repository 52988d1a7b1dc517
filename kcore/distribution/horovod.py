"""A thin Horovod-style layer over kcore.distribution (for code written against `horovod.keras`).

    import kcore.distribution.horovod as hvd
    hvd.init()
    opt = hvd.DistributedOptimizer(kcore.optimizers.Adam(0.001 * hvd.size()))
    model.compile(optimizer=opt, loss="mse")
    model.fit(x_shard, y_shard, batch_size=local_batch,
              callbacks=[hvd.BroadcastGlobalVariablesCallback(0), hvd.MetricAverageCallback()])

Unlike DataParallel, each rank feeds its *own* data shard and `batch_size` is per rank; gradients are
averaged over the ranks (Horovod's recipe) in one fused in-place Allreduce before the update."""
import numpy as np

from kcore import callbacks as _callbacks
from kcore import distribution as _dist
from kcore.distribution.fused import FusedBuffer


def init():
    """Joins the MPI world (a no-op with one process)."""
    _dist.initialize()


def rank():
    """This process's rank in the world."""
    return _dist.process_id()


def size():
    """How many processes train together."""
    return _dist.num_processes()


def local_rank():
    """This process's rank on its machine."""
    return _dist.local_rank()


def allreduce(value, average=True):
    """A NumPy array (or number) summed, or averaged, over the ranks."""
    buf = np.array(value, dtype=np.float64, copy=True).reshape(-1)
    _dist._comm().allreduce_(buf)
    out = (buf / size() if average else buf).reshape(np.shape(value))
    return out if out.ndim else float(out)


def broadcast_variables(variables, root_rank=0):
    """Every rank's variables take rank `root_rank`'s values, in place."""
    comm = _dist._comm()
    for v in variables:
        comm.bcast_(np.asarray(v.value), root=root_rank)


def DistributedOptimizer(optimizer, **kwargs):
    """`optimizer` whose apply() first averages the gradients over the ranks (clipping sees the average).
    Returns an instance of a subclass of the optimizer's class sharing its state."""
    if kwargs.pop("op", "average") not in ("average", "Average"):
        raise ValueError("DistributedOptimizer: only op='average' is supported")
    base = type(optimizer)
    cls = type(f"Distributed{base.__name__}", (base,), {"apply": _averaged_apply})
    wrapped = object.__new__(cls)
    wrapped.__dict__.update(optimizer.__dict__)
    return wrapped


def _averaged_apply(self, grads, variables):
    if _dist.distribution() is not None:
        raise ValueError("DistributedOptimizer: a kcore.distribution.DataParallel is set, which already sums the "
                         "gradients over the ranks; use one or the other (set_distribution(None) for Horovod style)")
    variables = list(variables)
    key = tuple(id(v) for v in variables)
    buf = self.__dict__.get("_hvd_buffer")
    if buf is None or buf[0] != key:
        buf = self._hvd_buffer = (key, FusedBuffer(variables, 0))
    reduced, _ = buf[1].allreduce([g if g is None or hasattr(g, "numpy") else _as_tensor(g, v)
                                   for g, v in zip(grads, variables)], [], _dist._comm())
    n = size()
    if n > 1:
        for g in reduced:
            if g is not None:
                np.asarray(g.value)[...] /= n
    type(self).__mro__[1].apply(self, reduced, variables)


def _as_tensor(g, v):
    from kcore.backend.tensor import convert_to_tensor

    return convert_to_tensor(np.asarray(g, dtype=str(v.dtype)))


class BroadcastGlobalVariablesCallback(_callbacks.Callback):
    """At the start of training, rank `root_rank`'s weights and optimizer state go to every rank."""

    def __init__(self, root_rank=0):
        super().__init__()
        self.root_rank = int(root_rank)

    def on_train_begin(self, logs=None):
        model = self.model
        broadcast_variables(model.weights, self.root_rank)
        opt = getattr(model, "optimizer", None)
        if opt is not None:
            opt.build(model.trainable_weights)
            comm = _dist._comm()
            for var in opt._tracked:
                for slot in opt._slots[id(var)]:
                    comm.bcast_(np.asarray(slot), root=self.root_rank)
            opt._iterations = int(comm.bcast_obj(int(opt._iterations), root=self.root_rank))


class MetricAverageCallback(_callbacks.Callback):
    """At each epoch end, the logged metrics are averaged over the ranks (put it before loggers)."""

    def on_epoch_end(self, epoch, logs=None):
        if not logs or size() == 1:
            return
        keys = sorted(k for k, v in logs.items() if np.ndim(v) == 0)
        averaged = allreduce([float(logs[k]) for k in keys], average=True)
        logs.update(dict(zip(keys, (float(v) for v in np.atleast_1d(averaged)))))
