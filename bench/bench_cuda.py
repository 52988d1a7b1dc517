"""kcore on the GPU against kcore on the CPU (and PyTorch on the GPU when installed), side by side.

    python bench/bench_cuda.py [--quick] [--tf32] [--repeats N]

Times (medians) for matmul, the fused softmax cross-entropy forward+backward, and one
training epoch of a small MLP; prints CPU/GPU ratios. Exits with the reason when CUDA is
not available."""
import argparse
import statistics
import sys
import time

import numpy as np

import kcore
from kcore.backend.native import _C


def timed(fn, repeats, sync):
    fn()
    sync()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def torch_cuda():
    try:
        import torch
    except ImportError:
        return None
    return torch if torch.cuda.is_available() else None


def bench_matmul(n, repeats, torch):
    a = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
    ca, ga = _C.from_numpy(a), _C.to_device(_C.from_numpy(a), "cuda")
    row = {"cpu": timed(lambda: _C.matmul(ca, ca), repeats, lambda: None),
           "cuda": timed(lambda: _C.matmul(ga, ga), repeats, kcore.cuda.synchronize)}
    if torch:
        ta = torch.from_numpy(a).cuda()
        row["torch"] = timed(lambda: ta @ ta, repeats, torch.cuda.synchronize)
    return f"matmul {n}x{n}", row


def bench_softmax_ce(rows, classes, repeats, torch):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((rows, classes)).astype(np.float32)
    labels = rng.integers(0, classes, rows)
    g = np.ones(rows, np.float32)
    cpu = [_C.from_numpy(v) for v in (x, labels, g)]
    gpu = [_C.to_device(t, "cuda") for t in cpu]

    def step(t):
        _C.sparse_softmax_cross_entropy(t[0], t[1])
        _C.sparse_softmax_cross_entropy_backward(t[0], t[1], t[2])

    row = {"cpu": timed(lambda: step(cpu), repeats, lambda: None),
           "cuda": timed(lambda: step(gpu), repeats, kcore.cuda.synchronize)}
    return f"sparse softmax CE fwd+bwd {rows}x{classes}", row


def bench_fit(samples, repeats):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((samples, 256)).astype(np.float32)
    y = rng.integers(0, 10, samples)
    row = {}
    for device in ("cpu", "cuda"):
        kcore.set_device(device)
        model = kcore.Sequential([kcore.layers.Dense(512, activation="relu", input_shape=(256,)),
                                  kcore.layers.Dense(512, activation="relu"), kcore.layers.Dense(10)])
        model.compile(optimizer="adam", loss=kcore.losses.SparseCategoricalCrossentropy(from_logits=True))
        sync = kcore.cuda.synchronize if device == "cuda" else (lambda: None)
        row[device] = timed(lambda: model.fit(x, y, batch_size=128, epochs=1, verbose=0), repeats, sync)  # noqa: B023 (run in this iteration)
    kcore.set_device("cpu")
    return f"MLP fit, 1 epoch of {samples} samples", row


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--tf32", action="store_true", help="allow TF32 tensor-core matmuls on the GPU")
    args = parser.parse_args(argv)
    if not kcore.cuda.is_available():
        print(f"CUDA is not available: {kcore.cuda.unavailable_reason()}")
        return 0
    kcore.cuda.set_allow_tf32(args.tf32)
    print(kcore.cuda.get_device_properties(), "TF32" if args.tf32 else "FP32")
    torch = torch_cuda()
    sizes = (512, 1024) if args.quick else (512, 1024, 2048, 4096)
    rows = [bench_matmul(n, args.repeats, torch) for n in sizes]
    rows.append(bench_softmax_ce(4096, 1000, args.repeats, torch))
    rows.append(bench_fit(4096 if args.quick else 32768, max(1, args.repeats // 2)))
    print(f"{'case':45s} {'cpu ms':>9s} {'cuda ms':>9s} {'cpu/cuda':>9s} {'torch ms':>9s}")
    for name, r in rows:
        torch_ms = f"{r['torch'] * 1e3:9.3f}" if "torch" in r else f"{'-':>9s}"
        print(f"{name:45s} {r['cpu'] * 1e3:9.3f} {r['cuda'] * 1e3:9.3f} {r['cpu'] / r['cuda']:9.1f} {torch_ms}")
    print("memory:", kcore.cuda.memory_stats())
    return 0


if __name__ == "__main__":
    sys.exit(main())
