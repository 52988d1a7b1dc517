"""Shared benchmark plumbing: thread setup before NumPy loads, alternating timing, tables, JSON.

Import this module FIRST in a bench script: it reads --threads from the command line and sets the
BLAS thread variables before NumPy (and its OpenBLAS) is imported.
"""
import argparse
import json
import os
import resource
import statistics
import sys
import time


def parse_args(description, default_repeats=9):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--threads", type=int, default=2, help="threads for every contender (default 2)")
    p.add_argument("--repeats", type=int, default=default_repeats, help="timed runs per contender (median)")
    p.add_argument("--json", metavar="PATH", help="write the measured numbers to PATH")
    p.add_argument("--cases", default=None, help="comma-separated case names to run (default: all)")
    p.add_argument("--no-torch", action="store_true", help="skip the PyTorch peer even if importable")
    args = p.parse_args()
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    return args


def setup_threads(n):
    """Pins kcore, NumPy's BLAS (threadpoolctl when present) and torch to n threads."""
    import kcore.backend.config as config

    config.set_num_threads(n)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(n)
    except ImportError:
        pass  # OPENBLAS_NUM_THREADS was set before NumPy loaded
    torch = load_torch()
    if torch is not None:
        torch.set_num_threads(n)
    return torch


_TORCH = False


def load_torch():
    global _TORCH
    if _TORCH is False:
        if "--no-torch" in sys.argv:
            _TORCH = None
        else:
            try:
                import torch

                _TORCH = torch
            except Exception:  # optional peer: absent or broken
                _TORCH = None
    return _TORCH


def time_alternating(contenders, repeats, warmup=2):
    """contenders: {name: fn}. Runs them in rotating order, returns {name: [seconds, ...]}."""
    names = list(contenders)
    for _ in range(warmup):
        for n in names:
            contenders[n]()
    times = {n: [] for n in names}
    for r in range(repeats):
        order = names[r % len(names):] + names[:r % len(names)]
        for n in order:
            t0 = time.perf_counter()
            contenders[n]()
            times[n].append(time.perf_counter() - t0)
    return times


def median_ms(ts):
    return statistics.median(ts) * 1e3


def maxrss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def print_table(rows, columns):
    """rows: list of dicts; columns: [(key, header, format)]."""
    widths = []
    for key, header, fmt in columns:
        cells = [header] + [_fmt(r.get(key), fmt) for r in rows]
        widths.append(max(len(c) for c in cells))
    line = "  ".join(h.rjust(w) if i else h.ljust(w) for i, ((_, h, _), w) in enumerate(zip(columns, widths)))
    print(line)
    print("-" * len(line))
    for r in rows:
        cells = [_fmt(r.get(k), f) for k, _, f in columns]
        print("  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))))


def _fmt(v, fmt):
    if v is None:
        return "-"
    return format(v, fmt) if fmt else str(v)


def write_json(path, payload):
    with open(path, "w") as f:
        json.dump(payload, f, indent=2)
    print(f"wrote {path}")


def environment(threads):
    from kcore.backend.native import _C

    info = {"threads": threads, "kcore_build": dict(_C.build_info()), "python": sys.version.split()[0]}
    torch = load_torch()
    if torch is not None:
        info["torch"] = torch.__version__
    import numpy

    info["numpy"] = numpy.__version__
    try:
        info["loadavg_1min"] = os.getloadavg()[0]
    except OSError:
        pass
    return info
