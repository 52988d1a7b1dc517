"""Shared benchmark plumbing: one thread count for every contender (kcore, NumPy's BLAS,
PyTorch), alternating timed runs, medians, ratio tables, JSON."""
import argparse
import ctypes
import json
import os
import platform
import statistics
import sys
import time


def add_common_args(parser):
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="threads for every contender")
    parser.add_argument("--repeats", type=int, default=7, help="timed runs per contender (median reported)")
    parser.add_argument("--json", metavar="PATH", help="write the results as JSON")
    parser.add_argument("--quick", action="store_true", help="fewer, smaller runs")
    return parser


def parse_args(description, extra=None, argv=None):
    parser = add_common_args(argparse.ArgumentParser(description=description))
    if extra:
        extra(parser)
    return parser.parse_args(argv)


def _numpy_blas_set_threads(n):
    """NumPy's bundled OpenBLAS, found among the loaded libraries, set to n threads."""
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "openblas" in line and line.split()[-1].startswith("/")
                     and "scipy_openblas32" not in line and "kcore" not in line}  # not kcore's own BLAS
    except OSError:
        return
    for path in paths:
        lib = ctypes.CDLL(path)
        for symbol in ("scipy_openblas_set_num_threads64_", "openblas_set_num_threads64_",
                       "scipy_openblas_set_num_threads", "openblas_set_num_threads"):
            fn = getattr(lib, symbol, None)
            if fn is not None:
                fn(int(n))
                break


def setup_threads(n):
    """Gives kcore, NumPy's BLAS and (when installed) PyTorch the same thread count; returns torch or None."""
    import numpy  # noqa: F401  (loads NumPy's BLAS so it can be configured)

    import kcore

    kcore.set_num_threads(n)
    _numpy_blas_set_threads(n)
    try:
        import torch

        torch.set_num_threads(n)
        torch.set_flush_denormal(True)
    except ImportError:
        torch = None
    return torch


def settle(fn, seconds=0.12):
    """Lets the previous contender's spinning worker threads (OpenMP; OpenBLAS spins ~0.1 s) go idle,
    so they do not steal the cores from the next one, then runs `fn` once untimed: the next timed run
    then finds its own threads awake and its data in cache (waking a sleeping core costs up to
    milliseconds on a virtual machine)."""
    time.sleep(seconds)
    fn()


def measure(contenders, repeats, warmup=1):
    """contenders: {name: fn}. Runs them alternately; returns {name: median seconds}."""
    for fn in contenders.values():
        for _ in range(warmup):
            fn()
    times = {name: [] for name in contenders}
    for _ in range(repeats):
        for name, fn in contenders.items():
            settle(fn)
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(ts) for name, ts in times.items()}


def print_table(title, rows, columns, baseline="kcore", extra=None):
    """rows: dicts with 'case', one time in seconds per contender column, and optional extra columns."""
    extra = extra or []
    print(f"\n{title}")
    head = f"{'case':<40}" + "".join(f"{c + ' ms':>12}" for c in columns)
    head += "".join(f"{c + '/' + baseline:>14}" for c in columns if c != baseline)
    head += "".join(f"{e:>14}" for e in extra)
    print(head)
    print("-" * len(head))
    for r in rows:
        line = f"{r['case']:<40}"
        line += "".join(f"{r[c] * 1e3:>12.2f}" if r.get(c) is not None else f"{'-':>12}" for c in columns)
        for c in columns:
            if c != baseline:
                line += f"{r[c] / r[baseline]:>13.2f}x" if r.get(c) is not None else f"{'-':>14}"
        line += "".join(f"{r[e]:>14.1f}" if isinstance(r.get(e), (int, float)) else f"{r.get(e, '-'):>14}"
                        for e in extra)
        print(line)


def run_main(description, extra, run, argv=None):
    """A benchmark module's command line: parse the arguments, run, write the result (with the machine) as JSON."""
    args = parse_args(description, extra, argv)
    write_json(args.json, {"machine": machine_info(args.threads), **run(args)})


def machine_info(threads):
    import kcore

    return {"python": sys.version.split()[0], "platform": platform.platform(), "threads": threads,
            "kcore_build": dict(kcore.backend.native._C.build_info())}


def write_json(path, payload):
    if path:
        with open(path, "w") as f:
            json.dump(payload, f, indent=2, default=float)
        print(f"\nwrote {path}")


def sgemm_gflops(n=1024, repeats=5):
    """The machine's float32 GEMM rate through kcore (the yardstick for GFLOP/s columns)."""
    import numpy as np

    from kcore.backend.native import _C

    a = _C.from_numpy(np.random.default_rng(0).standard_normal((n, n)).astype(np.float32))
    t = measure({"sgemm": lambda: _C.matmul(a, a)}, repeats)["sgemm"]
    return 2.0 * n**3 / t / 1e9


def clock_for(args):
    """(clock, its name) for a benchmark's --cpu-time flag: process CPU time (one thread only) or wall time."""
    if getattr(args, "cpu_time", False):
        if args.threads != 1:
            raise SystemExit("--cpu-time needs --threads 1 (CPU time of several threads is not a duration)")
        return time.process_time, "process CPU time"
    return time.perf_counter, "wall time"


def measure_runs(contenders, repeats, warmup=1, clock=time.perf_counter):
    """Like `measure`, but rotates the starting contender every round (so none always runs right
    after another) and returns every run's seconds: {name: [s, ...]} for medians and best-of.
    clock=time.process_time measures CPU time instead (robust on a busy machine, 1 thread only)."""
    names = list(contenders)
    for name in names:
        for _ in range(warmup):
            contenders[name]()
    times = {name: [] for name in names}
    for r in range(repeats):
        for name in names[r % len(names):] + names[:r % len(names)]:
            settle(contenders[name])
            start = clock()
            contenders[name]()
            times[name].append(clock() - start)
    return times


def load_average():
    """The 1-minute load average (other processes competing for the cores), or None."""
    try:
        return os.getloadavg()[0]
    except OSError:
        return None
