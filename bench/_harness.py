"""What the conv/pool benchmarks need beyond common.py: raw per-run times measured in rotating
order (for medians and best-of), a generic column table, peak RSS and the load average.

Import this module FIRST in a bench script: through common.parse_args it sets the BLAS/OpenMP
thread variables before NumPy (and its OpenBLAS) is imported.
"""
import os
import resource
import statistics
import sys
import time

import common


def parse_args(description, default_repeats=9):
    def extra(p):
        p.add_argument("--cases", default=None, help="comma-separated case names to run (default: all)")
        p.add_argument("--no-torch", action="store_true", help="skip the PyTorch peer even if importable")

    args = common.parse_args(description, extra)
    if "--repeats" not in sys.argv:
        args.repeats = 3 if args.quick else default_repeats
    return args


def setup_threads(n, use_torch=True):
    """common.setup_threads, plus NumPy's BLAS through threadpoolctl when present; returns torch or None."""
    torch = common.setup_threads(n)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(n)
    except ImportError:
        pass  # OPENBLAS_NUM_THREADS was set before NumPy loaded
    return torch if use_torch else None


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


def environment(threads):
    info = common.machine_info(threads)
    try:
        info["loadavg_1min"] = os.getloadavg()[0]
    except OSError:
        pass
    return info


write_json = common.write_json
