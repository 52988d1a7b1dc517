"""Per-pass timing of the float32 conv paths (im2col, sliding rows, Winograd F(2x2,3x3), F(4x4,3x3)) over shapes:
the measurement behind the automatic variant rule in csrc/cpu/conv_winograd_select.cpp.

    python tools/bench_winograd.py [--threads 2] [--rounds 15] [--shapes n,h,w,c,f;...] [--cpu-time]
Prints min / median ms of forward, input gradient and kernel gradient per variant (interleaved rounds).
"""
import argparse
import time

import numpy as np

import kcore
from kcore.backend.native import _C

DEFAULT = "32,28,28,32,64;8,56,56,64,64;32,14,14,64,64;32,7,7,128,128;8,5,5,64,64;64,4,4,32,32;16,3,3,64,64"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rounds", type=int, default=15)
    p.add_argument("--shapes", default=DEFAULT, help="n,h,w,c,f[,k] (k: square kernel size, default 3)")
    p.add_argument("--variants", default="im2col,f2,f4")
    p.add_argument("--cpu-time", action="store_true", help="process CPU time (steadier on a loaded machine)")
    a = p.parse_args()
    kcore.set_num_threads(a.threads)
    clock = time.process_time if a.cpu_time else time.perf_counter
    rng = np.random.default_rng(0)
    for spec in a.shapes.split(";"):
        n, h, w, c, f, k_size = (list(map(int, spec.split(","))) + [3])[:6]
        pad = [k_size // 2, k_size // 2]
        x = _C.from_numpy(rng.standard_normal((n, h, w, c)).astype(np.float32))
        k = _C.from_numpy((rng.standard_normal((k_size, k_size, c, f)) / np.sqrt(k_size**2 * c)).astype(np.float32))
        dy = _C.from_numpy(rng.standard_normal((n, h, w, f)).astype(np.float32))
        args = ([1, 1], [1, 1], pad, pad)
        passes = {
            "fwd": lambda x=x, k=k, args=args: _C.conv(x, k, None, *args),
            "dx": lambda x=x, k=k, dy=dy, args=args: _C.conv_backward(x, k, dy, *args, True, False, False),
            "dw": lambda x=x, k=k, dy=dy, args=args: _C.conv_backward(x, k, dy, *args, False, True, False),
        }
        variants = a.variants.split(",")
        times = {(v, q): [] for v in variants for q in passes}

        def select(v):  # "im2col", "rows" (sliding-window GEMMs), or a Winograd variant "f2" / "f4"
            _C.conv_set_winograd(v in ("f2", "f4"))
            _C.conv_set_sliding_rows(v == "rows")
            if v in ("f2", "f4"):
                _C.conv_set_winograd_variant(v)

        for _ in range(a.rounds):
            for v in variants:
                select(v)
                for q, fn in passes.items():
                    t0 = clock()
                    fn()
                    times[v, q].append(clock() - t0)
        _C.conv_set_winograd(True)
        _C.conv_set_sliding_rows(True)
        _C.conv_set_winograd_variant("auto")
        print(f"n={n} {h}x{w} {c}->{f} k{k_size}")
        for v in variants:
            cells = "  ".join(f"{q} {min(times[v, q]) * 1e3:7.3f}/{np.median(times[v, q]) * 1e3:7.3f}" for q in passes)
            total = sum(min(times[v, q]) for q in passes) * 1e3
            print(f"  {v:7s} {cells}   sum(min) {total:7.3f} ms")


if __name__ == "__main__":
    main()
