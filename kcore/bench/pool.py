"""Pooling forward + backward: kcore vs a NumPy reference vs PyTorch (CPU, when installed), one
thread count for all, alternating runs.

    python -m kcore.bench.pool [--threads N] [--repeats 15] [--cases d,e] [--no-torch] [--cpu-time]
                               [--json out.json]

The NumPy reference handles non-overlapping windows (stride == pool) by reshaping into
(..., window) blocks; max routes the gradient to the first maximum via argmax.
"""
import numpy as np

from kcore import ops
from kcore.backend.autodiff import GradientTape
from kcore.backend.native import _C
from kcore.backend.tensor import Tensor, Variable
from kcore.bench import common
from kcore.bench.conv import add_args, run_suite

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

    def forward_backward(self, dy):
        n, oh, ow, c = self.out
        p = self.p
        blocks = self.x.reshape(n, oh, p, ow, p, c).transpose(0, 1, 3, 5, 2, 4).reshape(n, oh, ow, c, p * p)
        if self.mode == "max":
            idx = blocks.argmax(axis=-1)[..., None]
            y = np.take_along_axis(blocks, idx, axis=-1)[..., 0]
            grad_blocks = np.zeros_like(blocks)
            np.put_along_axis(grad_blocks, idx, dy[..., None], axis=-1)
        else:
            y = blocks.mean(axis=-1)
            grad_blocks = np.broadcast_to(dy[..., None] / (p * p), blocks.shape)
        dx = grad_blocks.reshape(n, oh, ow, c, p, p).transpose(0, 1, 4, 2, 5, 3).reshape(self.x.shape)
        return y, dx


def _op(mode):
    return ops.max_pool if mode == "max" else ops.average_pool


def kcore_runner(x, pool, mode, dy):
    xv = Variable(x, dtype="float32", name="x")
    g = Tensor(_C.from_numpy(dy))
    fn = _op(mode)

    def run():
        with GradientTape() as tape:
            y = fn(xv, pool)
        return tape.gradient(y, xv, output_gradients=g)

    return run


def torch_runner(torch, x, pool, mode, dy):
    xt = torch.from_numpy(np.ascontiguousarray(np.moveaxis(x, -1, 1))).requires_grad_(True)
    gt = torch.from_numpy(np.ascontiguousarray(np.moveaxis(dy, -1, 1)))
    fn = torch.nn.functional.max_pool2d if mode == "max" else torch.nn.functional.avg_pool2d
    return lambda: torch.autograd.grad(fn(xt, pool), [xt], gt)


def run_case(name, torch, repeats, clock):
    desc, mode, xs, pool, torch_quoted, numpy_quoted = CASES[name]
    rng = np.random.default_rng(0)
    x = rng.standard_normal(xs).astype(np.float32)
    ref = NumpyPool(x, pool, mode)
    dy = rng.standard_normal(ref.out).astype(np.float32)
    y_ref, dx_ref = ref.forward_backward(dy)
    np.testing.assert_allclose(_op(mode)(x, pool).numpy(), y_ref, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(kcore_runner(x, pool, mode, dy)().numpy(), dx_ref, rtol=1e-6, atol=1e-6)
    contenders = {"kcore": kcore_runner(x, pool, mode, dy), "numpy": lambda: ref.forward_backward(dy)}
    if torch is not None:
        contenders["torch"] = torch_runner(torch, x, pool, mode, dy)
    runs = common.measure_runs(contenders, repeats, clock=clock)
    traffic = (x.nbytes * 2 + dy.nbytes * 3) / 1e9  # read x, write y (+argmax), read dy, write dx
    row = {"case": f"({name}) {desc}", **{k: float(np.median(v)) for k, v in runs.items()}}
    for k in ("kcore", "torch"):
        if k in runs:
            row[f"{k} best"] = min(runs[k]) * 1e3  # ms
    row["kcore GB/s"] = traffic / row["kcore"]
    if torch_quoted is not None:
        row.update({"torch quoted": torch_quoted, "numpy quoted": numpy_quoted})
    return row


def run(args):
    # pooling runs are short: more of them
    return run_suite(args, "pool", "pooling forward + backward", CASES, run_case, max(5, 2 * args.repeats))


def main(argv=None):
    """Runs this benchmark from the command line (see the module docstring)."""
    common.run_main(__doc__, add_args, run, argv)


if __name__ == "__main__":
    main()
