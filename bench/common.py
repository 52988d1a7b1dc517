"""Shared benchmark plumbing: one thread count for every contender, alternating timed runs,
medians, a ratio table and JSON output. Import this module before NumPy or PyTorch."""
import argparse
import json
import os
import platform
import statistics
import sys
import time


def parse_args(description, extra=None):
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="threads for every contender")
    parser.add_argument("--repeats", type=int, default=7, help="timed runs per contender (median reported)")
    parser.add_argument("--json", metavar="PATH", help="write the results as JSON")
    parser.add_argument("--quick", action="store_true", help="fewer, smaller runs")
    if extra:
        extra(parser)
    args = parser.parse_args()
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    return args


def setup_threads(n):
    """Applies the thread count to kcore and, when installed, PyTorch; returns the torch module or None."""
    import kcore

    kcore.set_num_threads(n)
    try:
        import torch

        torch.set_num_threads(n)
        torch.set_flush_denormal(True)
    except ImportError:
        torch = None
    return torch


def measure(contenders, repeats, warmup=1):
    """contenders: {name: fn}. Runs them alternately; returns {name: median seconds}."""
    for fn in contenders.values():
        for _ in range(warmup):
            fn()
    times = {name: [] for name in contenders}
    for _ in range(repeats):
        for name, fn in contenders.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(ts) for name, ts in times.items()}


def print_table(title, rows, columns, baseline="kcore"):
    """rows: list of dicts with 'case' and one time (seconds) per contender column."""
    print(f"\n{title}")
    head = f"{'case':<34}" + "".join(f"{c + ' ms':>13}" for c in columns)
    head += "".join(f"{c + '/' + baseline:>16}" for c in columns if c != baseline)
    print(head)
    print("-" * len(head))
    for r in rows:
        line = f"{r['case']:<34}"
        line += "".join(f"{r[c] * 1e3:>13.2f}" if r.get(c) is not None else f"{'-':>13}" for c in columns)
        for c in columns:
            if c != baseline:
                line += f"{r[c] / r[baseline]:>15.2f}x" if r.get(c) is not None else f"{'-':>16}"
        print(line)


def machine_info(threads):
    import kcore

    return {"python": sys.version.split()[0], "platform": platform.platform(), "threads": threads,
            "kcore_build": dict(kcore.backend.native._C.build_info())}


def write_json(path, payload):
    if path:
        with open(path, "w") as f:
            json.dump(payload, f, indent=2)
        print(f"\nwrote {path}")
