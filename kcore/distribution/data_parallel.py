"""DataParallel: the model replicated on every process, each global batch split over the processes."""
import numpy as np

from kcore.distribution import _context
from kcore.distribution.fused import FusedBuffer, allreduce_metric_state
from kcore.distribution.sharding import ShardedArrayBatches, ShardedGeneratorBatches

# callbacks that write files or print: only rank 0 runs them (one checkpoint, one progress bar)
_RANK0_ONLY = ("ModelCheckpoint", "CSVLogger", "ProgbarLogger", "TensorBoard", "BackupAndRestore")


class DataParallel:
    """Keras 3's DataParallel over MPI processes (one device per process).

    `devices` / `device_mesh` are accepted for Keras compatibility; with MPI each process owns one device
    and the world's size decides the data-parallel degree. With a distribution set, fit / evaluate /
    predict take the *global* batch size and every rank must pass the same data."""

    def __init__(self, device_mesh=None, devices=None, auto_shard_dataset=True, **kwargs):
        if kwargs:
            raise ValueError(f"DataParallel: unknown arguments {sorted(kwargs)}")
        self.device_mesh, self.devices, self.auto_shard_dataset = device_mesh, devices, auto_shard_dataset
        self._buffers = {}
        self._nccl = None  # NcclComm, created on the first fit of a model on a GPU

    @property
    def comm(self):
        if _context.state["comm"] is None:
            from kcore.distribution import initialize

            initialize()
        return _context.state["comm"]

    def __enter__(self):  # `with DataParallel(): ...` scopes the distribution (Keras's distribution.scope())
        self._previous = _context.state["distribution"]
        _context.state["distribution"] = self
        _ = self.comm  # connects now (MPI/NCCL set-up), not at the first collective
        return self

    def __exit__(self, *exc):
        _context.state["distribution"] = self._previous

    scope = lambda self: self  # noqa: E731  (Keras spelling: `with distribution.scope():`)

    # -- data ------------------------------------------------------------------------------------------
    def shard(self, data):
        """The local view of a make_batches() result (same steps on every rank)."""
        if data is None:
            return None
        if hasattr(data, "epoch_order"):
            return ShardedArrayBatches(data, self.comm)
        return ShardedGeneratorBatches(data, self.comm)

    # -- training ----------------------------------------------------------------------------------------
    def begin_training(self, model):
        """Rank 0's weights and optimizer state go to every rank before the first step."""
        variables = model._train_variables
        opt = model.optimizer
        opt.build(variables)
        self._bcast(model, [w.value for w in model.weights] + list(_optimizer_buffers(opt)))
        opt._iterations = int(self.comm.bcast_obj(int(opt._iterations)))

    def broadcast_weights(self, model):
        """Every rank takes rank 0's weights (before evaluate / predict)."""
        self._bcast(model, [w.value for w in model.weights])

    def _bcast(self, model, natives):
        if self._on_gpu(model):
            self._nccl.bcast_natives_(natives)
        else:
            for native in natives:
                self.comm.bcast_(np.asarray(native))

    def _on_gpu(self, model):
        """True for a model on a CUDA device in a multi-process world (then NCCL carries the tensors)."""
        weights = model.weights
        if not weights or weights[0].value.device == "cpu" or self.comm.size == 1:
            return False
        if self._nccl is None:
            from kcore.distribution.nccl import NcclComm

            self._nccl = NcclComm(self.comm)
        return True

    def train_step(self, model, x, y, sample_weight=None):
        """One step on this rank's part of the global batch; gradients and losses are summed over the ranks
        in one fused Allreduce, then every rank applies the same update (clipping sees the global gradient)."""
        from kcore.backend.autodiff import GradientTape

        batch = _begin_step()
        variables = model._train_variables
        try:
            model._clear_layer_losses()
            with GradientTape() as tape:
                y_pred = model(x, training=True)
                loss, per_output = model.compute_loss(x, y, y_pred, sample_weight)
                scaled = model.optimizer.scale_loss(loss)
            grads = tape.gradient(scaled, variables) if variables else []
        finally:
            _context.state["batch"] = None
        if self._nccl is not None and variables and variables[0].value.device != "cpu":
            grads, sums = self._allreduce_on_gpu(grads, [loss] + list(per_output))
        else:
            buf = self._fused(variables, 1 + len(per_output))
            grads, sums = buf.allreduce(grads, [loss] + list(per_output), self.comm)
        if variables:
            model.optimizer.apply(grads, variables)
        self._log(model, batch, sums, per_output, y, y_pred, sample_weight)

    def test_step(self, model, x, y, sample_weight=None):
        """Evaluation of this rank's part; the loss is summed over the ranks (one small Allreduce)."""
        batch = _begin_step()
        try:
            model._clear_layer_losses()
            y_pred = model(x, training=False)
            loss, per_output = model.compute_loss(x, y, y_pred, sample_weight, training=False)
        finally:
            _context.state["batch"] = None
        sums = np.array([_scalar(v) for v in [loss] + list(per_output)], dtype=np.float64)
        self.comm.allreduce_(sums)
        self._log(model, batch, sums, per_output, y, y_pred, sample_weight)

    def _log(self, model, batch, sums, per_output, y, y_pred, sample_weight):
        model._update_loss_trackers(float(sums[0]), [None if v is None else float(s)
                                                     for v, s in zip(per_output, sums[1:])], batch.n_global)
        if not batch.dummy:
            model._update_compiled_metrics(y, y_pred, sample_weight)

    def _allreduce_on_gpu(self, grads, extras):
        """Gradients summed in place on the GPUs (one grouped NCCL launch); the scalar losses over MPI."""
        from kcore.backend.native import _C
        from kcore.backend.tensor import Tensor

        seen, natives, out = set(), [], []
        for g in grads:
            if g is None:
                out.append(None)
                continue
            native = g.value
            if native.data_ptr() in seen or not native.is_contiguous():  # never reduce one buffer twice
                native = _C.scale(native, 1.0)
            seen.add(native.data_ptr())
            natives.append(native)
            out.append(Tensor(native))
        self._nccl.allreduce_natives_(natives)
        sums = np.array([_scalar(e) for e in extras], dtype=np.float64)
        self.comm.allreduce_(sums)
        return out, sums

    def _fused(self, variables, n_extra):
        key = (tuple(id(v) for v in variables), n_extra)
        buf = self._buffers.get(key)
        if buf is None:
            self._buffers.clear()
            buf = self._buffers[key] = FusedBuffer(variables, n_extra)
        return buf

    def end_training(self):
        self._buffers.clear()

    # -- epoch ends, callbacks, outputs ----------------------------------------------------------------------
    def sync_metrics(self, model):
        """Compiled metrics' states are summed over the ranks (logs then describe the whole dataset)."""
        for target in model._targets or []:
            for m in target.metrics:
                allreduce_metric_state(m, self.comm)

    def agree(self, flag):
        """True on every rank when it is true on any (e.g. stop_training set by a rank's own callback)."""
        buf = np.array([1 if flag else 0], dtype=np.int64)
        self.comm.allreduce_(buf, op="max")
        return bool(buf[0])

    def callbacks_for_rank(self, callbacks):
        """Rank 0 keeps every callback; the others drop those that write files or print."""
        if self.comm.rank == 0:
            return callbacks
        return [cb for cb in callbacks if not any(c.__name__ in _RANK0_ONLY for c in type(cb).__mro__)]

    def gather_predictions(self, outputs, data):
        """Every rank gets the predictions of the whole dataset, in order (each rank predicted its parts)."""
        keep = [o for o, dummy in zip(outputs, data.dummies) if not dummy]
        everyone = self.comm.allgather_obj(keep)
        dummies = self.comm.allgather_obj(data.dummies)
        merged, cursors = [], [0] * len(everyone)
        for step in range(len(data.dummies)):
            for r in range(len(everyone)):
                if not dummies[r][step]:
                    merged.append(everyone[r][cursors[r]])
                    cursors[r] += 1
        return merged


def _begin_step():
    batch = _context.state.pop("batch_next", None)
    if batch is None:
        raise RuntimeError("DataParallel: a distributed step ran on data that was not sharded by "
                           "DataParallel.shard (train_on_batch / test_on_batch are not distributed)")
    _context.state["batch"] = batch
    return batch


def _scalar(value):
    return 0.0 if value is None else float(np.asarray(value.numpy() if hasattr(value, "numpy") else value))


def _optimizer_buffers(opt):
    for var in opt._tracked:
        yield from opt._slots[id(var)]
        if id(var) in opt._averages:
            yield opt._averages[id(var)]
