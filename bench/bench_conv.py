"""Convolution forward + backward (input and kernel gradients): kcore vs NumPy im2col vs PyTorch.

    python bench/bench_conv.py [--threads N] [--repeats 9] [--json out.json] [--cases a,b] [--no-torch]

Every contender gets the same thread count and is timed alternately in this one process
(median of --repeats). kcore runs through its public op and GradientTape; NumPy is an im2col
reference (sliding_window_view + matmul, col2im by tap slices); PyTorch (CPU, NCHW) is used when
importable. Peak memory: kcore reports its im2col workspace; the NumPy reference materialises the
full im2col matrix (its size is shown); ru_maxrss is the process's high-water mark.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import _harness as H  # noqa: E402  (sets BLAS thread variables before NumPy loads)

ARGS = H.parse_args("conv forward+backward benchmark")

import numpy as np  # noqa: E402
from numpy.lib.stride_tricks import sliding_window_view  # noqa: E402

from kcore import ops  # noqa: E402
from kcore.backend.autodiff import GradientTape  # noqa: E402
from kcore.backend.native import _C  # noqa: E402
from kcore.backend.tensor import Tensor, Variable  # noqa: E402
from kcore.ops.conv import padding_amounts  # noqa: E402

# name: (description, input shape (channels_last), kernel shape (Keras layout), padding, PyTorch ms quoted)
CASES = {
    "a": ("Conv2D b32 28x28x32->64 3x3 same", (32, 28, 28, 32), (3, 3, 32, 64), "same", 18.2),
    "b": ("Conv2D b8 56x56x64->64 3x3 same", (8, 56, 56, 64), (3, 3, 64, 64), "same", 31.3),
    "c": ("Conv1D b32 L128 64->64 k5 same", (32, 128, 64), (5, 64, 64), "same", 6.1),
}


class NumpyConv:
    """im2col reference for stride-1 channels_last conv with explicit padding."""

    def __init__(self, x, w, padding):
        self.rank = w.ndim - 2
        self.x, self.w = x, w
        before, after = padding_amounts(padding, x.shape[1:-1], w.shape[:self.rank], (1,) * self.rank,
                                        (1,) * self.rank)
        self.pads = [(0, 0)] + list(zip(before, after)) + [(0, 0)]
        self.K, self.F = int(np.prod(w.shape[:-1])), w.shape[-1]

    def im2col(self):
        r = self.rank
        xp = np.pad(self.x, self.pads)
        win = sliding_window_view(xp, self.w.shape[:r], axis=tuple(range(1, r + 1)))  # (N, *out, C, *k)
        perm = [0] + list(range(1, r + 1)) + list(range(r + 2, 2 * r + 2)) + [r + 1]
        out_shape = win.shape[:r + 1]
        return np.ascontiguousarray(win.transpose(perm)).reshape(-1, self.K), out_shape, xp.shape

    def forward_backward(self, dy):
        col, out_shape, padded = self.im2col()
        y = (col @ self.w.reshape(self.K, self.F)).reshape(*out_shape, self.F)
        dy2 = dy.reshape(-1, self.F)
        dw = (col.T @ dy2).reshape(self.w.shape)
        dcol = (dy2 @ self.w.reshape(self.K, self.F).T).reshape(*out_shape, *self.w.shape[:-1])
        dxp = np.zeros(padded, dtype=self.x.dtype)
        for tap in np.ndindex(*self.w.shape[:self.rank]):
            region = (slice(None),) + tuple(slice(t, t + n) for t, n in zip(tap, out_shape[1:]))
            dxp[region] += dcol[(Ellipsis,) + tap + (slice(None),)]
        crop = tuple(slice(b, b + n) for (b, _), n in zip(self.pads, self.x.shape))
        return y, dxp[crop], dw

    def workspace_bytes(self):
        out_pixels = int(np.prod(self.x.shape[:-1]))  # stride 1 'same': as many rows as input pixels
        return out_pixels * self.K * self.x.itemsize


def kcore_runner(x, w, padding, dy):
    xv, wv = Variable(x, dtype="float32", name="x"), Variable(w, dtype="float32", name="kernel")
    g = Tensor(_C.from_numpy(dy))

    def run():
        with GradientTape() as tape:
            y = ops.conv(xv, wv, 1, padding)
        return tape.gradient(y, [xv, wv], output_gradients=g)

    return run


def torch_runner(torch, x, w):
    rank = w.ndim - 2
    xt = torch.from_numpy(np.ascontiguousarray(np.moveaxis(x, -1, 1))).requires_grad_(True)
    w_torch = np.ascontiguousarray(np.transpose(w, [rank + 1, rank] + list(range(rank))))  # (F, C, *k)
    wt = torch.from_numpy(w_torch).requires_grad_(True)
    fn = torch.nn.functional.conv1d if rank == 1 else torch.nn.functional.conv2d
    pad = w.shape[0] // 2
    with torch.no_grad():
        gt = torch.ones_like(fn(xt, wt, padding=pad))

    def run():
        y = fn(xt, wt, padding=pad)
        return torch.autograd.grad(y, [xt, wt], gt)

    return run


def check_parity(x, w, padding, dy, ref):
    y_ref, dx_ref, dw_ref = ref.forward_backward(dy)
    dx, dw = kcore_runner(x, w, padding, dy)()
    y = ops.conv(x, w, 1, padding).numpy()
    scale = lambda a: 1e-3 * max(1.0, float(np.abs(a).max()))  # noqa: E731  float32 sums of hundreds of terms
    for name, got, want in (("y", y, y_ref), ("dx", dx.numpy(), dx_ref), ("dw", dw.numpy(), dw_ref)):
        err = float(np.abs(got - want).max())
        if err > scale(want):
            raise AssertionError(f"kcore {name} differs from the NumPy reference by {err}")


def run_case(name, torch):
    desc, xs, ws, padding, quoted = CASES[name]
    rng = np.random.default_rng(0)
    x = rng.standard_normal(xs).astype(np.float32)
    w = (rng.standard_normal(ws) / np.sqrt(np.prod(ws[:-1]))).astype(np.float32)
    rank = len(ws) - 2
    out_shape = tuple(ops.conv(x[:1], w, 1, padding).shape[1:])
    dy = rng.standard_normal((xs[0],) + out_shape).astype(np.float32)
    ref = NumpyConv(x, w, padding)
    check_parity(x, w, padding, dy, ref)
    contenders = {"kcore": kcore_runner(x, w, padding, dy), "numpy": lambda: ref.forward_backward(dy)}
    if torch is not None:
        contenders["torch"] = torch_runner(torch, x, w)
    times = H.time_alternating(contenders, ARGS.repeats)
    ms = {k: H.median_ms(v) for k, v in times.items()}
    best = {k: min(v) * 1e3 for k, v in times.items()}
    before, after = padding_amounts(padding, xs[1:-1], ws[:rank], (1,) * rank, (1,) * rank)
    ws_bytes = _C.conv_workspace_bytes(list(xs), list(ws), [1] * rank, [1] * rank, before, after, 4)
    flops = 3 * 2 * xs[0] * int(np.prod(out_shape[:-1])) * int(np.prod(ws[:-1])) * ws[-1]
    return {
        "case": name, "description": desc, "kcore_ms": ms["kcore"], "numpy_ms": ms["numpy"],
        "torch_ms": ms.get("torch"), "torch_quoted_ms": quoted,
        "kcore_best_ms": best["kcore"], "torch_best_ms": best.get("torch"),
        "kcore_vs_torch": ms["kcore"] / ms["torch"] if "torch" in ms else None,
        "kcore_vs_torch_best": best["kcore"] / best["torch"] if "torch" in best else None,
        "numpy_vs_kcore": ms["numpy"] / ms["kcore"],
        "kcore_gflops": flops / ms["kcore"] / 1e6, "torch_gflops": flops / ms["torch"] / 1e6 if "torch" in ms else None,
        "kcore_workspace_mib": ws_bytes / 2**20, "numpy_im2col_mib": ref.workspace_bytes() / 2**20,
        "input_mib": x.nbytes / 2**20, "times_s": times,
    }


def main():
    torch = H.setup_threads(ARGS.threads, use_torch=not ARGS.no_torch)
    names = ARGS.cases.split(",") if ARGS.cases else list(CASES)
    rows = [run_case(n, torch) for n in names]
    print(f"conv forward+backward, {ARGS.threads} threads, median (and best) of {ARGS.repeats} (ms); "
          f"load average {H.environment(ARGS.threads).get('loadavg_1min', '?')}")
    H.print_table(rows, [
        ("case", "case", ""), ("description", "what", ""), ("kcore_ms", "kcore", ".2f"), ("numpy_ms", "numpy", ".2f"),
        ("torch_ms", "torch", ".2f"), ("kcore_vs_torch", "kcore/torch", ".2f"),
        ("numpy_vs_kcore", "numpy/kcore", ".1f"),
        ("kcore_best_ms", "kcore best", ".2f"), ("torch_best_ms", "torch best", ".2f"),
        ("kcore_vs_torch_best", "best ratio", ".2f"),
        ("kcore_gflops", "kcore GF/s", ".0f"), ("torch_gflops", "torch GF/s", ".0f"),
        ("kcore_workspace_mib", "kcore ws MiB", ".2f"), ("numpy_im2col_mib", "numpy im2col MiB", ".1f"),
        ("input_mib", "input MiB", ".1f"),
    ])
    print(f"process peak RSS {H.maxrss_mib():.0f} MiB")
    if ARGS.json:
        H.write_json(ARGS.json, {"benchmark": "conv", "env": H.environment(ARGS.threads), "results": rows})


if __name__ == "__main__":
    main()
