"""Per-step cost of data-parallel training (run it both ways and compare):

    python tools/bench_distribution.py                 # one process
    mpiexec -n 2 python tools/bench_distribution.py    # DataParallel over 2 ranks (they split the cores)

A 1.05M-parameter MLP (512 -> 1024 -> 512 -> 10). Prints the lower-quartile time of the fused in-place
Allreduce of its gradient buffer, and the lower-quartile train-step time for global batches of 64 (and, in one
process: 32 on half the threads = one rank's work when 2 ranks share the machine, and 64 through a
one-process DataParallel = the cost of the fused buffer alone)."""
import time

import numpy as np

import kcore
from kcore import distribution as dist
from kcore import layers
from kcore.distribution.fused import FusedBuffer

STEPS = 30


def build():
    kcore.utils.set_random_seed(0)
    model = kcore.Sequential([layers.Input((512,)), layers.Dense(1024, activation="relu"),
                              layers.Dense(512, activation="relu"), layers.Dense(10)])
    model.compile(optimizer="sgd", loss="mse")
    return model


def step_time(model, batch, distributed):
    """The best of 3 runs' fastest-quartile step time (robust on a shared machine)."""
    return min(_median_step(build(), batch, distributed) for _ in range(3))  # a fresh model each time


def _median_step(model, batch, distributed):
    x = np.random.default_rng(0).normal(size=(batch * STEPS, 512)).astype("float32")
    y = np.random.default_rng(1).normal(size=(batch * STEPS, 10)).astype("float32")
    dist.set_distribution(dist.DataParallel() if distributed else None)
    times = []

    class Timer(kcore.callbacks.Callback):
        def on_train_batch_begin(self, step, logs=None):
            self.t = time.perf_counter()

        def on_train_batch_end(self, step, logs=None):
            times.append(time.perf_counter() - self.t)

    model.fit(x, y, batch_size=batch, epochs=1, shuffle=False, verbose=0, callbacks=[Timer()])
    dist.set_distribution(None)
    return 1e3 * float(np.percentile(times[3:], 25))


def main():
    dist.initialize()
    n, rank = dist.num_processes(), dist.process_id()
    model = build()
    params = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    buf = FusedBuffer(model.trainable_weights, 1)
    comm = dist._comm()
    t = []
    for _ in range(STEPS):
        comm.barrier()
        t0 = time.perf_counter()
        comm.allreduce_(buf.buffer)
        t.append(time.perf_counter() - t0)
    out = {"processes": n, "parameters": params, "allreduce_ms": 1e3 * float(np.percentile(t[3:], 25)),
           "step_ms_global_batch_64": step_time(model, 64, n > 1)}
    if n == 1:
        out["step_ms_batch_32"] = step_time(model, 32, False)
        out["step_ms_batch_64_one_process_DataParallel"] = step_time(model, 64, True)
        threads = kcore.get_num_threads()
        kcore.set_num_threads(max(1, threads // 2))  # = one rank's work when 2 ranks share this machine
        out["step_ms_batch_32_half_the_threads"] = step_time(model, 32, False)
        kcore.set_num_threads(threads)
    if rank == 0:
        print(out)


if __name__ == "__main__":
    main()
