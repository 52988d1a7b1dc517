"""GFLOP/s of kcore's matmul vs NumPy (and PyTorch when installed), measured alternately.

    python bench/bench_matmul.py [--threads N] [--json out.json]
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402  (sets thread variables before NumPy loads)

args = common.parse_args(__doc__)

import numpy as np  # noqa: E402

import kcore  # noqa: E402
from kcore.backend.native import _C  # noqa: E402

torch = common.setup_threads(args.threads)


def main():
    sizes = [256, 1024] if args.quick else [256, 1024, 2048]
    rows = []
    for n in sizes:
        rng = np.random.default_rng(n)
        a = rng.standard_normal((n, n)).astype(np.float32)
        b = rng.standard_normal((n, n)).astype(np.float32)
        ka, kb = _C.from_numpy(a), _C.from_numpy(b)
        contenders = {"kcore": lambda: _C.matmul(ka, kb), "numpy": lambda: a @ b}
        if torch is not None:
            ta, tb = torch.from_numpy(a), torch.from_numpy(b)
            contenders["torch"] = lambda: ta @ tb
        reps = max(3, args.repeats if n < 2048 else args.repeats // 2)
        t = common.measure(contenders, reps)
        flops = 2.0 * n**3
        row = {"case": f"matmul {n}x{n} float32", **t}
        row.update({f"{k}_gflops": flops / v / 1e9 for k, v in t.items()})
        rows.append(row)
        np.testing.assert_allclose(np.asarray(_C.matmul(ka, kb)), a @ b, rtol=2e-3, atol=2e-2)
    columns = ["kcore", "numpy"] + (["torch"] if torch is not None else [])
    common.print_table(f"matmul, {args.threads} threads (median of alternating runs)", rows, columns)
    print("\nGFLOP/s: " + "; ".join(
        f"n={r['case'].split()[1]}: " + ", ".join(f"{c} {r[c + '_gflops']:.0f}" for c in columns) for r in rows))
    common.write_json(args.json, {"machine": common.machine_info(args.threads), "matmul": rows})
    return rows


if __name__ == "__main__":
    main()
