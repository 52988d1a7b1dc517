"""GFLOP/s of kcore's matmul vs NumPy (and PyTorch when installed), measured alternately.

    python -m kcore.bench.matmul [--threads N] [--json out.json]
"""
import numpy as np

from kcore.bench import common


def run(args):
    torch = common.setup_threads(args.threads)
    from kcore.backend.native import _C

    sizes = [256, 1024] if args.quick else [256, 1024, 2048]
    rows = []
    for n in sizes:
        rng = np.random.default_rng(n)
        a = rng.standard_normal((n, n)).astype(np.float32)
        b = rng.standard_normal((n, n)).astype(np.float32)
        ka, kb = _C.from_numpy(a), _C.from_numpy(b)
        contenders = {"kcore": lambda: _C.matmul(ka, kb), "numpy": lambda: a @ b}  # noqa: B023 (run in this iteration)
        if torch is not None:
            ta, tb = torch.from_numpy(a), torch.from_numpy(b)
            contenders["torch"] = lambda: ta @ tb  # noqa: B023 (run in this iteration)
        reps = max(3, args.repeats if n < 2048 else args.repeats // 2)
        t = common.measure(contenders, reps)
        np.testing.assert_allclose(np.asarray(_C.matmul(ka, kb)), a @ b, rtol=2e-3, atol=2e-2)
        row = {"case": f"matmul {n}x{n} float32", **t}
        row["kcore GFLOP/s"] = 2.0 * n**3 / t["kcore"] / 1e9
        rows.append(row)
    columns = ["kcore", "numpy"] + (["torch"] if torch is not None else [])
    common.print_table(f"matmul, {args.threads} threads (median of alternating runs)", rows, columns,
                       extra=["kcore GFLOP/s"])
    return {"matmul": rows}


def main(argv=None):
    """Runs this benchmark from the command line (see the module docstring)."""
    common.run_main(__doc__, None, run, argv)


if __name__ == "__main__":
    main()
