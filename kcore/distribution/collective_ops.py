"""Differentiable collectives (for synchronized BatchNormalization): the gradient of a SUM Allreduce is the
SUM Allreduce of the incoming gradients (each rank's output feeds every rank's loss). The (small) tensors
go through the host and MPI, also for a model on a GPU."""
import numpy as np

from kcore.backend.autodiff import attach
from kcore.backend.device import to_device
from kcore.backend.native import _C
from kcore.backend.tensor import Tensor
from kcore.distribution._context import state


def all_sum(x):
    """x summed over the ranks (a new tensor; the graph records the op when a tape is active)."""
    comm = state["comm"]
    buf = np.array(x.numpy(), copy=True, order="C")
    comm.allreduce_(buf)

    def backward(grad):
        g = np.array(np.asarray(to_device(grad, "cpu")), copy=True, order="C")
        comm.allreduce_(g)
        return [to_device(_C.from_numpy(g), grad.device)]

    return attach(Tensor(to_device(_C.from_numpy(buf), x.value.device)), [x], backward)


def synchronized_moments(inputs, axes, batch):
    """Mean and (biased) variance over `axes` of the global batch, keepdims: two small Allreduces (the mean,
    then the squared deviations from it). A rank with an empty shard (`batch.dummy`) contributes nothing."""
    from kcore import ops

    keep = 0.0 if batch.dummy else 1.0
    count = float(np.prod([inputs.shape[a] for a in axes])) * keep
    total = state["comm"]
    counts = np.array([count], dtype=np.float64)
    total.allreduce_(counts)
    n = float(counts[0])
    mean = ops.divide(all_sum(ops.multiply(ops.sum(inputs, axis=axes, keepdims=True), keep)), n)
    centred = ops.subtract(inputs, mean)
    var = ops.divide(all_sum(ops.multiply(ops.sum(ops.square(centred), axis=axes, keepdims=True), keep)), n)
    return mean, var
