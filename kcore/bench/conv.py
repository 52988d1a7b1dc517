"""Convolution forward + backward (input and kernel gradients): kcore vs a NumPy im2col reference
vs PyTorch (CPU, when installed), one thread count for all, alternating runs.

    python -m kcore.bench.conv [--threads N] [--repeats 9] [--cases a,b] [--no-torch] [--cpu-time]
                               [--json out.json]

kcore runs through its public op under a GradientTape; NumPy is an im2col reference
(sliding_window_view + matmul, col2im by tap slices); PyTorch uses NCHW conv1d/conv2d.
Memory: kcore reports its bounded workspace (per-worker im2col buffers, or Winograd transform
buffers for float32 3x3 stride-1 convs); the NumPy reference materialises the full im2col matrix.
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from kcore import ops
from kcore.backend.autodiff import GradientTape
from kcore.backend.native import _C
from kcore.backend.tensor import Tensor, Variable
from kcore.bench import common
from kcore.ops.conv import padding_amounts

# name: (description, input shape (channels_last), kernel shape (Keras layout), padding, PyTorch ms quoted)
CASES = {
    "a": ("Conv2D b32 28x28x32->64 3x3 same", (32, 28, 28, 32), (3, 3, 32, 64), "same", 18.2),
    "b": ("Conv2D b8 56x56x64->64 3x3 same", (8, 56, 56, 64), (3, 3, 64, 64), "same", 31.3),
    "c": ("Conv1D b32 L128 64->64 k5 same", (32, 128, 64), (5, 64, 64), "same", 6.1),
}


class NumpyConv:
    """im2col reference for stride-1 channels_last conv with Keras's padding."""

    def __init__(self, x, w, padding):
        self.rank = w.ndim - 2
        self.x, self.w = x, w
        ones = (1,) * self.rank
        before, after = padding_amounts(padding, x.shape[1:-1], w.shape[:self.rank], ones, ones)
        self.pads = [(0, 0)] + list(zip(before, after)) + [(0, 0)]
        self.K, self.F = int(np.prod(w.shape[:-1])), w.shape[-1]

    def im2col(self):
        r = self.rank
        xp = np.pad(self.x, self.pads)
        win = sliding_window_view(xp, self.w.shape[:r], axis=tuple(range(1, r + 1)))  # (N, *out, C, *k)
        perm = [0] + list(range(1, r + 1)) + list(range(r + 2, 2 * r + 2)) + [r + 1]
        return np.ascontiguousarray(win.transpose(perm)).reshape(-1, self.K), win.shape[:r + 1], xp.shape

    def forward_backward(self, dy):
        col, out_shape, padded = self.im2col()
        w2 = self.w.reshape(self.K, self.F)
        y = (col @ w2).reshape(*out_shape, self.F)
        dy2 = dy.reshape(-1, self.F)
        dw = (col.T @ dy2).reshape(self.w.shape)
        dcol = (dy2 @ w2.T).reshape(*out_shape, *self.w.shape[:-1])
        dxp = np.zeros(padded, dtype=self.x.dtype)
        for tap in np.ndindex(*self.w.shape[:self.rank]):
            region = (slice(None),) + tuple(slice(t, t + n) for t, n in zip(tap, out_shape[1:]))
            dxp[region] += dcol[(Ellipsis,) + tap + (slice(None),)]
        crop = tuple(slice(b, b + n) for (b, _), n in zip(self.pads, self.x.shape))
        return y, dxp[crop], dw

    def im2col_bytes(self):
        return int(np.prod(self.x.shape[:-1])) * self.K * self.x.itemsize  # stride 1 'same': a row per pixel


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
        return torch.autograd.grad(fn(xt, wt, padding=pad), [xt, wt], gt)

    return run


def check_parity(x, w, padding, dy, ref):
    y_ref, dx_ref, dw_ref = ref.forward_backward(dy)
    dx, dw = kcore_runner(x, w, padding, dy)()
    y = ops.conv(x, w, 1, padding).numpy()
    for name, got, want in (("y", y, y_ref), ("dx", dx.numpy(), dx_ref), ("dw", dw.numpy(), dw_ref)):
        err = float(np.abs(got - want).max())
        if err > 1e-3 * max(1.0, float(np.abs(want).max())):  # float32 sums of hundreds of terms
            raise AssertionError(f"kcore {name} differs from the NumPy reference by {err}")


def run_case(name, torch, repeats, clock):
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
    runs = common.measure_runs(contenders, repeats, clock=clock)
    ones = [1] * rank
    before, after = padding_amounts(padding, xs[1:-1], ws[:rank], ones, ones)
    workspace = _C.conv_workspace_bytes(list(xs), list(ws), ones, ones, before, after, 4)
    flops = 3 * 2 * xs[0] * int(np.prod(out_shape[:-1])) * int(np.prod(ws[:-1])) * ws[-1]  # fwd, dx, dw
    row = {"case": f"({name}) {desc}", **{k: float(np.median(v)) for k, v in runs.items()}}
    for k in ("kcore", "torch"):
        if k in runs:
            row[f"{k} best"] = min(runs[k]) * 1e3  # ms
            row[f"{k} GF/s"] = flops / row[k] / 1e9
    row.update({"kcore ws MiB": workspace / 2**20, "np im2col MiB": ref.im2col_bytes() / 2**20,
                "input MiB": x.nbytes / 2**20, "torch quoted": quoted})
    return row


def add_args(parser):
    parser.add_argument("--cases", default=None, help="comma-separated case names (default: all)")
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out even if installed")
    parser.add_argument("--cpu-time", action="store_true",
                        help="time with process CPU time instead of wall time (only with --threads 1): "
                             "stable on a machine other processes keep busy")


def run_suite(args, suite, title, cases, run_case, repeats):
    """Times every case of a suite (kcore vs NumPy vs torch) and prints its table: shared by conv and pool."""
    torch = common.setup_threads(args.threads)
    if getattr(args, "no_torch", False):
        torch = None
    names = args.cases.split(",") if getattr(args, "cases", None) else list(cases)
    clock, clock_name = common.clock_for(args)
    rows = [run_case(n, torch, repeats, clock) for n in names]
    columns = ["kcore", "numpy"] + (["torch"] if torch is not None else [])
    extra = list(dict.fromkeys(k for r in rows for k in r if k not in columns and k != "case"))
    load = common.load_average()
    common.print_table(f"{title}, {args.threads} threads, median of {repeats} alternating runs ({clock_name}); "
                       f"load average {load}", rows, columns, extra=extra)
    return {suite: rows, f"{suite}_load_average": load, f"{suite}_clock": clock_name}


def run(args):
    return run_suite(args, "conv", "conv forward + backward (dx, dkernel)", CASES, run_case, max(3, args.repeats))


def main(argv=None):
    """Runs this benchmark from the command line (see the module docstring)."""
    common.run_main(__doc__, add_args, run, argv)


if __name__ == "__main__":
    main()
