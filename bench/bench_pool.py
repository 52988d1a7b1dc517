"""Pooling forward + backward: kcore vs a NumPy reference vs PyTorch (CPU).

    python bench/bench_pool.py [--threads N] [--repeats 15] [--json out.json] [--cases d,e] [--no-torch]

Same protocol as bench_conv.py: one process, same thread count, contenders timed alternately,
median of --repeats. The NumPy reference handles non-overlapping windows (stride == pool) by
reshaping into (..., window) blocks; max routes the gradient to the first maximum via argmax.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import _harness as H  # noqa: E402  (sets BLAS thread variables before NumPy loads)

ARGS = H.parse_args("pooling forward+backward benchmark", default_repeats=15)

import numpy as np  # noqa: E402

from kcore import ops  # noqa: E402
from kcore.backend.autodiff import GradientTape  # noqa: E402
from kcore.backend.native import _C  # noqa: E402
from kcore.backend.tensor import Tensor, Variable  # noqa: E402

# name: (description, mode, input shape (NHWC), pool, PyTorch ms quoted, NumPy ms quoted)
CASES = {
    "d": ("MaxPooling2D 2x2 b32 28x28x64", "max", (32, 28, 28, 64), 2, 2.0, 16.0),
    "e": ("AveragePooling2D 2x2 b32 28x28x64", "average", (32, 28, 28, 64), 2, None, None),
}


class NumpyPool:
    """Non-overlapping 2-D pooling (stride == pool, sizes divisible) by block reshapes."""

    def __init__(self, x, pool, mode):
        n, h, w, c = x.shape
        self.x, self.p, self.mode = x, pool, mode
        self.out = (n, h // pool, w // pool, c)

    def blocks(self):
        n, oh, ow, c = self.out
        p = self.p
        return self.x.reshape(n, oh, p, ow, p, c).transpose(0, 1, 3, 5, 2, 4).reshape(n, oh, ow, c, p * p)

    def forward_backward(self, dy):
        n, oh, ow, c = self.out
        p = self.p
        b = self.blocks()
        if self.mode == "max":
            idx = b.argmax(axis=-1)[..., None]
            y = np.take_along_axis(b, idx, axis=-1)[..., 0]
            gb = np.zeros_like(b)
            np.put_along_axis(gb, idx, dy[..., None], axis=-1)
        else:
            y = b.mean(axis=-1)
            gb = np.broadcast_to(dy[..., None] / (p * p), b.shape)
        dx = gb.reshape(n, oh, ow, c, p, p).transpose(0, 1, 4, 2, 5, 3).reshape(self.x.shape)
        return y, dx


def kcore_runner(x, pool, mode, dy):
    xv = Variable(x, dtype="float32", name="x")
    g = Tensor(_C.from_numpy(dy))
    fn = ops.max_pool if mode == "max" else ops.average_pool

    def run():
        with GradientTape() as tape:
            y = fn(xv, pool)
        return tape.gradient(y, xv, output_gradients=g)

    return run


def torch_runner(torch, x, pool, mode, dy):
    xt = torch.from_numpy(np.ascontiguousarray(np.moveaxis(x, -1, 1))).requires_grad_(True)
    gt = torch.from_numpy(np.ascontiguousarray(np.moveaxis(dy, -1, 1)))
    fn = torch.nn.functional.max_pool2d if mode == "max" else torch.nn.functional.avg_pool2d

    def run():
        y = fn(xt, pool)
        return torch.autograd.grad(y, [xt], gt)

    return run


def run_case(name, torch):
    desc, mode, xs, pool, torch_quoted, numpy_quoted = CASES[name]
    rng = np.random.default_rng(0)
    x = rng.standard_normal(xs).astype(np.float32)
    ref = NumpyPool(x, pool, mode)
    dy = rng.standard_normal(ref.out).astype(np.float32)
    y_ref, dx_ref = ref.forward_backward(dy)
    fn = ops.max_pool if mode == "max" else ops.average_pool
    np.testing.assert_allclose(fn(x, pool).numpy(), y_ref, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(kcore_runner(x, pool, mode, dy)().numpy(), dx_ref, rtol=1e-6, atol=1e-6)
    contenders = {"kcore": kcore_runner(x, pool, mode, dy), "numpy": lambda: ref.forward_backward(dy)}
    if torch is not None:
        contenders["torch"] = torch_runner(torch, x, pool, mode, dy)
    times = H.time_alternating(contenders, ARGS.repeats)
    ms = {k: H.median_ms(v) for k, v in times.items()}
    best = {k: min(v) * 1e3 for k, v in times.items()}
    moved = (x.nbytes * 2 + dy.nbytes * 3) / 1e9  # read x, write y (+argmax), read dy, write dx
    return {
        "case": name, "description": desc, "kcore_ms": ms["kcore"], "numpy_ms": ms["numpy"],
        "torch_ms": ms.get("torch"), "torch_quoted_ms": torch_quoted, "numpy_quoted_ms": numpy_quoted,
        "kcore_best_ms": best["kcore"], "torch_best_ms": best.get("torch"),
        "kcore_vs_torch": ms["kcore"] / ms["torch"] if "torch" in ms else None,
        "kcore_vs_torch_best": best["kcore"] / best["torch"] if "torch" in best else None,
        "numpy_vs_kcore": ms["numpy"] / ms["kcore"], "kcore_gbps": moved / ms["kcore"] * 1e3, "times_s": times,
    }


def main():
    torch = H.setup_threads(ARGS.threads, use_torch=not ARGS.no_torch)
    names = ARGS.cases.split(",") if ARGS.cases else list(CASES)
    rows = [run_case(n, torch) for n in names]
    print(f"pooling forward+backward, {ARGS.threads} threads, median (and best) of {ARGS.repeats} (ms); "
          f"load average {H.environment(ARGS.threads).get('loadavg_1min', '?')}")
    H.print_table(rows, [
        ("case", "case", ""), ("description", "what", ""), ("kcore_ms", "kcore", ".2f"), ("numpy_ms", "numpy", ".2f"),
        ("torch_ms", "torch", ".2f"), ("kcore_vs_torch", "kcore/torch", ".2f"),
        ("numpy_vs_kcore", "numpy/kcore", ".1f"),
        ("kcore_best_ms", "kcore best", ".2f"), ("torch_best_ms", "torch best", ".2f"),
        ("kcore_vs_torch_best", "best ratio", ".2f"),
        ("kcore_gbps", "kcore GB/s (min traffic)", ".1f"), ("torch_quoted_ms", "torch quoted", ".1f"),
        ("numpy_quoted_ms", "numpy quoted", ".1f"),
    ])
    print(f"process peak RSS {H.maxrss_mib():.0f} MiB")
    if ARGS.json:
        H.write_json(ARGS.json, {"benchmark": "pool", "env": H.environment(ARGS.threads), "results": rows})


if __name__ == "__main__":
    main()
