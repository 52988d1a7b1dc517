"""Recurrent-layer benchmark: kcore vs NumPy references vs PyTorch (when importable).

    python -m kcore.bench.rnn --threads 2 [--json results.json] [--repeats 7] [--skip-train]
    (same as: python bench/bench_rnn.py ...; also the "rnn" suite of python -m kcore.bench)

Kernels: batch 64, 100 steps, input 128, units 256, float32, forward and forward+backward
for SimpleRNN, LSTM and GRU. Training: one epoch of Embedding(10000, 128) -> LSTM(128) ->
Dense(1, sigmoid) on 2,048 sequences of length 200, batch 64 (Adam, binary crossentropy).
Contenders alternate inside one process with the same thread count; medians are reported,
with GFLOP/s beside a measured sgemm GFLOP/s.
"""
import time

import numpy as np

import kcore
from kcore import layers, ops
from kcore.backend.autodiff import GradientTape
from kcore.backend.native import _C
from kcore.backend.tensor import Variable
from kcore.bench import common

torch = None  # set by run(): PyTorch is an optional peer

GATES = {"simple_rnn": 1, "lstm": 4, "gru": 3}


# ---- NumPy reference: Python loop over time, NumPy matmuls, hand-written backward ----------------


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


class NumpyRNN:
    """SimpleRNN / LSTM / GRU forward and backward through time in NumPy.

    hoisted=False is the textbook step-by-step formulation (each step multiplies x_t by W and
    h_{t-1} by U; backward accumulates dW, dU, db step by step). hoisted=True uses the native
    kernels' algorithm (one input GEMM for all steps, weight gradients as single GEMMs), so the
    two NumPy columns separate what the algorithm buys from what the native code buys.
    """

    def __init__(self, kind, w, u, b, hoisted):
        self.kind, self.w, self.u, self.b, self.hoisted = kind, w, u, b, hoisted

    def forward(self, x):
        bsz, steps, _ = x.shape
        units = self.u.shape[0]
        xs = np.ascontiguousarray(x.transpose(1, 0, 2))
        bias = self.b[0] if self.kind == "gru" else self.b
        if self.hoisted:
            proj = (xs.reshape(steps * bsz, -1) @ self.w + bias).reshape(steps, bsz, -1)
        h = np.zeros((bsz, units), np.float32)
        c = np.zeros_like(h)
        self.cache = []
        for t in range(steps):
            p = proj[t] if self.hoisted else xs[t] @ self.w + bias
            h, c, saved = getattr(self, "_" + self.kind)(p, h, c)
            self.cache.append(saved)
        self.xs = xs
        return h

    def _simple_rnn(self, p, h, c):
        h_new = np.tanh(p + h @ self.u)
        return h_new, c, (h, h_new)

    def _lstm(self, p, h, c):
        z = p + h @ self.u
        n = self.u.shape[0]
        i, f, o = _sigmoid(z[:, :n]), _sigmoid(z[:, n:2 * n]), _sigmoid(z[:, 3 * n:])
        g = np.tanh(z[:, 2 * n:3 * n])
        c_new = f * c + i * g
        tc = np.tanh(c_new)
        return o * tc, c_new, (h, c, i, f, g, o, tc)

    def _gru(self, p, h, c):
        n = self.u.shape[0]
        rec = h @ self.u + self.b[1]
        z = _sigmoid(p[:, :n] + rec[:, :n])
        r = _sigmoid(p[:, n:2 * n] + rec[:, n:2 * n])
        hh = rec[:, 2 * n:]
        cand = np.tanh(p[:, 2 * n:] + r * hh)
        return z * h + (1 - z) * cand, c, (h, z, r, cand, hh)

    def backward(self, dh):
        if not self.hoisted:
            return self._backward_stepwise(dh)
        steps = len(self.cache)
        dgates = [None] * steps
        dc = np.zeros_like(dh)
        h_prev = []
        for t in range(steps - 1, -1, -1):
            dg, dgh, dh, dc = getattr(self, "_back_" + self.kind)(self.cache[t], dh, dc)
            dgates[t] = (dg, dgh)
            h_prev.append(self.cache[t][0])
        h_prev = np.stack(h_prev[::-1]).reshape(-1, dh.shape[1])
        dgx = np.stack([d[0] for d in dgates]).reshape(h_prev.shape[0], -1)
        dgh = np.stack([d[1] for d in dgates]).reshape(h_prev.shape[0], -1)
        xs2 = self.xs.reshape(h_prev.shape[0], -1)
        dw, du = xs2.T @ dgx, h_prev.T @ dgh
        dx = (dgx @ self.w.T).reshape(self.xs.shape).transpose(1, 0, 2)
        db = np.stack([dgx.sum(0), dgh.sum(0)]) if self.kind == "gru" else dgx.sum(0)
        return dx, dw, du, db

    def _backward_stepwise(self, dh):
        dc = np.zeros_like(dh)
        dw, du = np.zeros_like(self.w), np.zeros_like(self.u)
        db = np.zeros(self.b.shape, self.w.dtype)
        dx = np.empty_like(self.xs)
        for t in range(len(self.cache) - 1, -1, -1):
            h_prev = self.cache[t][0]
            dgx, dgh, dh, dc = getattr(self, "_back_" + self.kind)(self.cache[t], dh, dc)
            dw += self.xs[t].T @ dgx
            du += h_prev.T @ dgh
            if self.kind == "gru":
                db[0] += dgx.sum(0)
                db[1] += dgh.sum(0)
            else:
                db += dgx.sum(0)
            dx[t] = dgx @ self.w.T
        return dx.transpose(1, 0, 2), dw, du, db

    def _back_simple_rnn(self, saved, dh, dc):
        h, h_new = saved
        dz = dh * (1 - h_new * h_new)
        return dz, dz, dz @ self.u.T, dc

    def _back_lstm(self, saved, dh, dc):
        h, c, i, f, g, o, tc = saved
        do = dh * tc
        dct = dc + dh * o * (1 - tc * tc)
        dz = np.concatenate([dct * g * i * (1 - i), dct * c * f * (1 - f), dct * i * (1 - g * g), do * o * (1 - o)],
                            axis=1)
        return dz, dz, dz @ self.u.T, dct * f

    def _back_gru(self, saved, dh, dc):
        h, z, r, cand, hh = saved
        dz = dh * (h - cand) * z * (1 - z)
        dn = dh * (1 - z) * (1 - cand * cand)
        dr = dn * hh * r * (1 - r)
        dgx = np.concatenate([dz, dr, dn], axis=1)
        dgh = np.concatenate([dz, dr, dn * r], axis=1)
        return dgx, dgh, dh * z + dgh @ self.u.T, dc


# ---- contenders ------------------------------------------------------------------------------------


def _weights(kind, d, u, rng):
    g = GATES[kind]
    w = (rng.standard_normal((d, g * u)) / np.sqrt(d)).astype(np.float32)
    r = (rng.standard_normal((u, g * u)) / np.sqrt(u)).astype(np.float32)
    b = np.zeros((2, g * u) if kind == "gru" else (g * u,), np.float32)
    return w, r, b


def kcore_runner(kind, x, w, r, b):
    xv = Variable(x, dtype="float32", name="x")
    wv, rv, bv = (Variable(a, dtype="float32") for a in (w, r, b))
    fn = {"simple_rnn": ops.simple_rnn, "lstm": ops.lstm, "gru": ops.gru}[kind]

    def forward():
        return fn(xv, wv, rv, bv)[1]

    def train_step():
        with GradientTape() as tape:
            loss = ops.sum(fn(xv, wv, rv, bv)[1])
        return tape.gradient(loss, [xv, wv, rv, bv])

    return forward, train_step


def numpy_runner(kind, x, w, r, b, hoisted):
    model = NumpyRNN(kind, w, r, b, hoisted)

    def train_step():
        h = model.forward(x)
        return model.backward(np.ones_like(h))

    return (lambda: model.forward(x)), train_step


def torch_runner(kind, x, w, r, b):
    d, units = w.shape[0], r.shape[0]
    cls = {"simple_rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind]
    net = cls(d, units, batch_first=True)
    xt = torch.from_numpy(x).requires_grad_(True)

    def forward():
        with torch.no_grad():
            return net(xt)[0]

    def train_step():
        out = net(xt)[0][:, -1]
        out.sum().backward()

    return forward, train_step


def _settle():
    """Lets the previous contender's BLAS / OpenMP workers stop spinning before the next one runs.

    OpenBLAS and GNU OpenMP keep idle workers busy-waiting for a while after each call; on a
    2-core machine a spinning pool of one library would otherwise slow down the next contender.
    """
    time.sleep(0.2)


def _median_time(fn, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def rnn_flops(kind, b, t, d, u, backward):
    per_pass = 2.0 * t * b * GATES[kind] * u * (d + u)
    return per_pass * (3 if backward else 1)  # backward: dx + dW and dh + dU


def bench_kernels(args, rows):
    b, t, d, u = 64, 100, 128, 256
    rng = np.random.default_rng(0)
    x = rng.standard_normal((b, t, d)).astype(np.float32)
    for kind in ("simple_rnn", "lstm", "gru"):
        w, r, bias = _weights(kind, d, u, rng)
        runners = {"kcore": kcore_runner(kind, x, w, r, bias), "numpy": numpy_runner(kind, x, w, r, bias, False),
                   "numpy_hoisted": numpy_runner(kind, x, w, r, bias, True)}
        if torch is not None:
            runners["torch"] = torch_runner(kind, x, w, r, bias)
        for phase, index in (("forward", 0), ("fwd+bwd", 1)):
            for fns in runners.values():
                fns[index]()  # warm up
            times = {name: [] for name in runners}
            for _ in range(args.repeats):  # alternate contenders
                for name, fns in runners.items():
                    _settle()
                    times[name].append(_median_time(fns[index], 1))
            flops = rnn_flops(kind, b, t, d, u, phase == "fwd+bwd")
            row = {"bench": f"{kind} {phase}", "shape": f"B{b} T{t} D{d} U{u}"}
            for name, ts in times.items():
                row[f"{name}_ms"] = 1e3 * float(np.median(ts))
            row["kcore_gflops"] = flops / (row["kcore_ms"] / 1e3) / 1e9
            rows.append(row)
            print(_format_row(row), flush=True)


# ---- one training epoch ----------------------------------------------------------------------------


def _text_data(n=2048, steps=200, vocab=10000, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.integers(1, vocab, (n, steps))
    y = (x[:, :20].mean(axis=1) > vocab / 2).astype(np.float32)[:, None]
    return x, y


def kcore_epoch(x, y):
    model = kcore.models.Sequential([layers.Input((x.shape[1],), dtype="int64"), layers.Embedding(10000, 128),
                                     layers.LSTM(128), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    return lambda: model.fit(x, y, batch_size=64, epochs=1, shuffle=False, verbose=0)


def torch_epoch(x, y):
    torch.set_flush_denormal(True)

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = torch.nn.Embedding(10000, 128)
            self.lstm = torch.nn.LSTM(128, 128, batch_first=True)
            self.out = torch.nn.Linear(128, 1)

        def forward(self, ids):
            return torch.sigmoid(self.out(self.lstm(self.emb(ids))[0][:, -1]))

    net = Net()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)

    def epoch():
        for i in range(0, len(xt), 64):
            opt.zero_grad()
            loss = torch.nn.functional.binary_cross_entropy(net(xt[i:i + 64]), yt[i:i + 64])
            loss.backward()
            opt.step()

    return epoch


def bench_training(args, rows):
    x, y = _text_data()
    runners = {"kcore": kcore_epoch(x, y)}
    if torch is not None:
        runners["torch"] = torch_epoch(x, y)
    times = {name: [] for name in runners}
    for _ in range(max(1, getattr(args, "train_repeat", 1 if args.quick else 3))):
        for name, fn in runners.items():
            _settle()
            times[name].append(_median_time(fn, 1))
    row = {"bench": "train epoch Emb->LSTM(128)->Dense", "shape": "2048 x 200, batch 64"}
    for name, ts in times.items():
        row[f"{name}_ms"] = 1e3 * float(np.median(ts))
    rows.append(row)
    print(_format_row(row), flush=True)


# ---- report ----------------------------------------------------------------------------------------


def _format_row(row):
    cells = [f"{row['bench']:<36}", f"{row['kcore_ms']:9.1f}"]
    for peer in ("numpy", "numpy_hoisted", "torch"):
        ms = row.get(f"{peer}_ms")
        cells.append(f"{ms:9.1f} {row['kcore_ms'] / ms:6.2f}x" if ms else f"{'-':>9} {'':>7}")
    cells.append(f"{row['kcore_gflops']:7.1f}" if "kcore_gflops" in row else f"{'':>7}")
    return " | ".join(cells)


def run(args):
    global torch
    torch = common.setup_threads(args.threads)
    if torch is not None:
        torch.manual_seed(0)
    sgemm = common.sgemm_gflops()
    print(f"\nrecurrent layers: threads={args.threads} blas={_C.build_info()['blas']} "
          f"torch={torch.__version__ if torch else 'absent'} sgemm(1024^3)={sgemm:.1f} GFLOP/s")
    print(f"{'benchmark':<36} | {'kcore ms':>9} | {'numpy ms':>9} {'ratio':>7} | {'np-hoist':>9} {'ratio':>7} | "
          f"{'torch ms':>9} {'ratio':>7} | GFLOP/s")
    rows = []
    bench_kernels(args, rows)
    if not getattr(args, "skip_train", False) and not args.quick:
        bench_training(args, rows)
    print("ratio = kcore time / peer time (below 1: kcore is faster); numpy = textbook step-by-step NumPy, "
          "np-hoist = NumPy with the native kernels' algorithm")
    return {"rnn": [{"case": r["bench"], "shape": r["shape"], "sgemm GFLOP/s": sgemm,
                     **{k[:-3]: v / 1e3 for k, v in r.items() if k.endswith("_ms")},
                     **({"kcore GFLOP/s": r["kcore_gflops"]} if "kcore_gflops" in r else {})} for r in rows]}


def main(argv=None):
    def extra(parser):
        parser.add_argument("--train-repeat", type=int, default=3, help="timed training epochs per contender")
        parser.add_argument("--skip-train", action="store_true", help="only the kernel benchmarks")

    common.run_main(__doc__.split("\n")[0], extra, run, argv)


if __name__ == "__main__":
    main()
