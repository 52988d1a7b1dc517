"""Runs every benchmark (matmul, conv, pooling, recurrent, training epochs) against NumPy and,
when installed, PyTorch, with one thread count for all; prints the ratio tables, writes JSON and,
when matplotlib is installed, a PNG chart.

    python -m kcore.bench [--quick] [--threads N] [--json results.json] [--png results.png]
    python -m kcore.bench --device cuda [--quick] [--tf32]   (GPU against PyTorch CUDA: kcore/bench/cuda.py)
"""
import argparse
import importlib
import time

from kcore.bench import common

SUITES = ["matmul", "conv", "pool", "rnn", "train", "bf16"]


def main(argv=None):
    parser = common.add_common_args(argparse.ArgumentParser(description=__doc__))
    parser.add_argument("--only", nargs="*", choices=SUITES, help="run only these suites")
    parser.add_argument("--png", metavar="PATH", default=None, help="draw a chart of kcore's speed-ups")
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu",
                        help="cuda: kcore on the GPU against PyTorch CUDA (suites matmul, conv, rnn, train)")
    parser.add_argument("--tf32", action="store_true", help="with --device cuda: TF32 math on both sides")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats = min(args.repeats, 3)
    if args.device == "cuda":
        from kcore.bench import cuda

        results = cuda.run(args, args.only)
        common.write_json(args.json or "kcore_bench_cuda.json", {"machine": common.machine_info(args.threads),
                                                                 **results})
        return
    results, start = {}, time.time()
    for name in args.only or SUITES:
        try:
            module = importlib.import_module(f"kcore.bench.{name}")
        except ImportError:
            continue
        results.update(module.run(args))
    print(f"\nall benchmarks: {time.time() - start:.0f}s")
    common.write_json(args.json or "kcore_bench.json", {"machine": common.machine_info(args.threads), **results})
    draw_chart(results, args.png)


def draw_chart(results, path):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib not installed: no chart (pip install matplotlib)")
        return
    labels, speedups = [], {}
    for rows in results.values():
        for row in rows if isinstance(rows, list) else []:
            case, times = _times(row)
            for peer in ("numpy", "torch"):
                if times.get(peer) and times.get("kcore"):
                    speedups.setdefault(peer, {})[case] = times[peer] / times["kcore"]
            labels.append(case)
    fig, ax = plt.subplots(figsize=(10, 0.35 * len(labels) + 1.5))
    height = 0.4
    for i, (peer, values) in enumerate(sorted(speedups.items())):
        ys = [j + i * height for j, case in enumerate(labels) if case in values]
        ax.barh(ys, [values[c] for c in labels if c in values], height, label=f"{peer} time / kcore time")
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.set_xlabel("speed-up of kcore (>1: kcore faster)")
    ax.legend()
    fig.tight_layout()
    path = path or "kcore_bench.png"
    fig.savefig(path, dpi=120)
    print(f"wrote {path}")


def _times(row):
    """(case label, {contender: time}) from either row layout the suites write."""
    if "case" in row:
        return row["case"], {k: row.get(k) for k in ("kcore", "numpy", "torch")}
    label = f"{row.get('bench', '')} {row.get('shape', '')}".strip()
    return label, {k: row.get(f"{k}_ms") for k in ("kcore", "numpy", "torch")}


if __name__ == "__main__":
    main()
