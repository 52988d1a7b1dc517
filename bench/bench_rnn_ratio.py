"""Recurrent layers, forward + backward: kcore vs PyTorch, interleaved rounds, ratio of minima.

    python bench/bench_rnn_ratio.py [--rounds 15] [--threads 2] [--cells lstm,gru,simple_rnn] [--cpu-time]

--cpu-time times process CPU time instead of wall time: on a machine other processes keep busy it
measures the work alone. Run it with OMP_WAIT_POLICY=passive, so threads waiting at a barrier sleep
instead of spinning (spinning would count as CPU time).

Batch 64, 100 steps, 128 -> 256 units, float32 (the issue-15 shapes). Every round runs each
contender once per cell, alternating, so machine load hits both alike; the minimum over rounds
is the least-disturbed time. PyTorch flushes denormals (as kcore does).
"""
import argparse
import time

import numpy as np

import kcore
from kcore.bench import rnn as rb


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rounds", type=int, default=15)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--cells", default="lstm,gru,simple_rnn")
    p.add_argument("--no-torch", action="store_true")
    p.add_argument("--cpu-time", action="store_true", help="process CPU time instead of wall time")
    a = p.parse_args()
    clock = time.process_time if a.cpu_time else time.perf_counter
    kcore.set_num_threads(a.threads)
    torch = None
    if not a.no_torch:
        import torch

        torch.set_num_threads(a.threads)
        torch.set_flush_denormal(True)
        rb.torch = torch
    rng = np.random.default_rng(0)
    b, t, d, u = 64, 100, 128, 256
    x = rng.standard_normal((b, t, d)).astype(np.float32)
    runners = {}
    for kind in a.cells.split(","):
        w, r, bias = rb._weights(kind, d, u, rng)
        runners[(kind, "kcore")] = rb.kcore_runner(kind, x, w, r, bias)[1]
        if torch is not None:
            runners[(kind, "torch")] = rb.torch_runner(kind, x, w, r, bias)[1]
    for fn in runners.values():
        fn()
    times = {k: [] for k in runners}
    for _ in range(a.rounds):
        for k, fn in runners.items():
            start = clock()
            fn()
            times[k].append(clock() - start)
    for kind in a.cells.split(","):
        kc = times[(kind, "kcore")]
        line = f"{kind:10s} kcore min {min(kc) * 1e3:7.1f} ms  median {np.median(kc) * 1e3:7.1f} ms"
        if torch is not None:
            tt = times[(kind, "torch")]
            line += (f" | torch min {min(tt) * 1e3:7.1f} ms  median {np.median(tt) * 1e3:7.1f} ms"
                     f" | ratio of minima {min(kc) / min(tt):.2f}")
        print(line, flush=True)


if __name__ == "__main__":
    main()
