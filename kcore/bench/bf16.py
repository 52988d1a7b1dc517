"""mixed_bfloat16 benchmark: kcore's bfloat16 kernels against PyTorch autocast (CPU, bfloat16).

    python -m kcore.bench.bf16 [--threads 2] [--repeats 15] [--cases lstm,conv1d] [--json out.json]
    python -m kcore.bench.bf16 --threads 1 --cpu-time      (stable on a machine others keep busy)
    (also the "bf16" suite of python -m kcore.bench)

Layer forward + backward (input, weight and bias gradients) as mixed precision runs them: float32
weights cast to bfloat16 for the call, bfloat16 activations, float32 weight gradients. kcore calls
its native ops on bfloat16 tensors (the bfloat16 GEMM: vdpbf16ps where the CPU has AVX512-BF16);
PyTorch runs the same layer under torch.autocast("cpu", dtype=torch.bfloat16) (channels_last for
Conv2D). kcore float32 is shown for reference. Contenders alternate, >= 15 rounds, minimum and
median reported with the load average; the GEMM table gives GFLOP/s of the bfloat16 GEMM against
kcore's float32 packed GEMM and torch.matmul on bfloat16 tensors.
"""
import time

import numpy as np

from kcore.backend.native import _C
from kcore.bench import common

# name: (description, kind, input shape (channels_last), kernel shape or units)
CASES = {
    "lstm": ("LSTM b64 T100 128->256", "lstm", (64, 100, 128), 256),
    "gru": ("GRU b64 T100 128->256", "gru", (64, 100, 128), 256),
    "conv2d_b32": ("Conv2D b32 28x28 32->64 3x3 same", "conv", (32, 28, 28, 32), (3, 3, 32, 64)),
    "conv2d_b8": ("Conv2D b8 56x56 64->64 3x3 same", "conv", (8, 56, 56, 64), (3, 3, 64, 64)),
    "conv1d": ("Conv1D b32 L128 64->64 k5 same", "conv", (32, 128, 64), (5, 64, 64)),
}
GEMMS = [(64, 1024, 256), (128, 784, 32), (1024, 1024, 1024)]
GATES = {"lstm": 4, "gru": 3}


def _native(a, dtype):
    return _C.from_numpy(np.ascontiguousarray(a, np.float32)).astype(dtype)


def _conv_runner(xs, ws, dtype, rng):
    """kcore conv forward + backward on `dtype` tensors (weights cast from float32 each call, as autocast does)."""
    rank = len(ws) - 2
    x = _native(rng.standard_normal(xs), dtype)
    w32 = _native(rng.standard_normal(ws) / np.sqrt(np.prod(ws[:-1])), "float32")
    b32 = _native(np.zeros(ws[-1]), "float32")
    ones, before = [1] * rank, [k // 2 for k in ws[:rank]]
    after = [k - 1 - k // 2 for k in ws[:rank]]
    dy = _native(rng.standard_normal(xs[:-1] + (ws[-1],)), dtype)

    def run():
        w, b = w32.astype(dtype), b32.astype(dtype)
        _C.conv(x, w, b, ones, ones, before, after)
        gx, gw, gb = _C.conv_backward(x, w, dy, ones, ones, before, after, True, True, True)
        return gw.astype("float32"), gb.astype("float32")

    return run


def _rnn_runner(kind, xs, units, dtype, rng):
    b, t, d = xs
    g = GATES[kind]
    x = _native(rng.standard_normal(xs), dtype)
    w32 = _native(rng.standard_normal((d, g * units)) / np.sqrt(d), "float32")
    r32 = _native(rng.standard_normal((units, g * units)) / np.sqrt(units), "float32")
    b32 = _native(np.zeros((2, g * units) if kind == "gru" else g * units), "float32")
    dy = _native(rng.standard_normal((b, t, units)), dtype)
    cell, tanh, sig = getattr(_C.RnnCell, kind), _C.RnnActivation.tanh, _C.RnnActivation.sigmoid

    def run():
        w, r, bias = w32.astype(dtype), r32.astype(dtype), b32.astype(dtype)
        saved = _C.rnn_forward(cell, True, tanh, sig, False, x, w, r, bias, None, None, None)[3]
        grads = _C.rnn_backward(saved, w, r, dy, None, None, True)
        return [gr.astype("float32") for gr in grads[3:]]

    return run


def _torch_runner(torch, kind, xs, spec):
    if kind in GATES:
        layer = (torch.nn.LSTM if kind == "lstm" else torch.nn.GRU)(xs[2], spec, batch_first=True)
        x = torch.randn(*xs, requires_grad=True)
    else:
        rank = len(spec) - 2
        cls = torch.nn.Conv1d if rank == 1 else torch.nn.Conv2d
        layer = cls(spec[-2], spec[-1], spec[0], padding="same")
        x = torch.randn(xs[0], xs[-1], *xs[1:-1])
        if rank == 2:
            layer = layer.to(memory_format=torch.channels_last)
            x = x.contiguous(memory_format=torch.channels_last)
        x.requires_grad_(True)

    def run():
        with torch.autocast("cpu", dtype=torch.bfloat16):
            y = layer(x)
            y = y[0] if isinstance(y, tuple) else y
        y.backward(torch.ones_like(y))

    return run


def run_case(name, torch, repeats, clock=time.perf_counter):
    desc, kind, xs, spec = CASES[name]
    rng = np.random.default_rng(0)
    contenders = {}
    for dtype, label in (("bfloat16", "kcore bf16"), ("float32", "kcore f32")):
        contenders[label] = (_conv_runner(xs, spec, dtype, rng) if kind == "conv"
                             else _rnn_runner(kind, xs, spec, dtype, rng))
    if torch is not None:
        contenders["torch autocast"] = _torch_runner(torch, kind, xs, spec)
    runs = common.measure_runs(contenders, repeats, clock=clock)
    row = {"case": desc}
    for label, ts in runs.items():
        row[label] = min(ts)
        row[label + " median"] = float(np.median(ts))
    return row


def _repeated(fn, reps, *args):
    def run():
        for _ in range(reps):
            fn(*args)

    return run


def gemm_rows(torch, repeats):
    """GFLOP/s (best run) of the bfloat16 GEMM, kcore's float32 packed GEMM and torch.matmul in bfloat16."""
    rows = []
    rng = np.random.default_rng(0)
    for m, k, n in GEMMS:
        a32, b32 = rng.standard_normal((m, k)).astype(np.float32), rng.standard_normal((k, n)).astype(np.float32)
        abits = (a32.view(np.uint32) >> 16).astype(np.uint16)
        bbits = (b32.view(np.uint32) >> 16).astype(np.uint16)
        an, bn = _C.from_numpy(a32), _C.from_numpy(b32)
        reps = max(1, int(2e8 / (m * n * k)))
        contenders = {"kcore bf16": _repeated(_C._bf16_gemm, reps, abits, bbits),
                      "kcore f32": _repeated(_C.packed_matmul, reps, an, bn)}
        if torch is not None:
            contenders["torch bf16"] = _repeated(torch.matmul, reps, torch.from_numpy(a32).bfloat16(),
                                                 torch.from_numpy(b32).bfloat16())
        runs = common.measure_runs(contenders, repeats)
        flops = 2 * m * n * k * reps
        rows.append({"case": f"GEMM {m}x{k}x{n}", **{c: flops / min(ts) / 1e9 for c, ts in runs.items()},
                     **{c + " median": flops / float(np.median(ts)) / 1e9 for c, ts in runs.items()}})
    return rows


def run(args):
    torch = common.setup_threads(args.threads)
    repeats = 3 if getattr(args, "quick", False) else max(args.repeats, 15)
    clock, clock_name = common.clock_for(args)
    names = args.cases.split(",") if getattr(args, "cases", None) else list(CASES)
    print(f"\nbfloat16 path: {_C.bf16_path()}; threads {args.threads}; {repeats} interleaved rounds; "
          f"load {common.load_average()}; {clock_name}")
    rows = [run_case(n, torch, repeats, clock) for n in names]
    cols = ["kcore bf16", "kcore f32"] + (["torch autocast"] if torch is not None else [])
    _print(rows, cols, "layer forward + backward, ms (min / median)", 1e3)
    grows = gemm_rows(torch, repeats)
    gcols = [c for c in ("kcore bf16", "kcore f32", "torch bf16") if c in grows[0]]
    _print(grows, gcols, "GEMM GFLOP/s (best / median)", 1.0)
    return {"bf16": rows, "bf16_gemm": grows}


def _print(rows, cols, title, scale):
    print(f"\n{title}")
    head = f"{'case':<36}" + "".join(f"{c:>22}" for c in cols)
    if "torch autocast" in cols:
        head += f"{'bf16 / torch (min)':>20}"
    print(head)
    print("-" * len(head))
    for r in rows:
        line = f"{r['case']:<36}" + "".join(f"{r[c] * scale:>12.2f} /{r[c + ' median'] * scale:>8.2f}" for c in cols)
        if "torch autocast" in cols:
            line += f"{r['kcore bf16'] / r['torch autocast']:>19.2f}x"
        print(line)


def add_args(parser):
    parser.add_argument("--cases", default=None, help=f"comma-separated cases (default: all of {','.join(CASES)})")
    parser.add_argument("--cpu-time", action="store_true",
                        help="layer times as process CPU time (needs --threads 1): stable on a busy machine")


if __name__ == "__main__":
    common.run_main(__doc__, add_args, run)
