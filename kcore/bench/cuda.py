"""kcore on the GPU against PyTorch on the GPU (cuBLAS / cuDNN) when installed, and against kcore
on the CPU for a training epoch: matmul, conv forward+backward, LSTM / GRU forward+backward, and
one epoch of the seed-004 CNN (3 x Conv2D + MaxPooling2D, Dense, Dropout).

    python -m kcore.bench --device cuda [--quick] [--only matmul conv rnn train] [--json out.json]
    python -m kcore.bench.cuda [--quick] [--tf32]

Full FP32 on both sides unless --tf32 (then both use TF32 tensor cores). Every timed run ends
with a device synchronisation; medians of --repeats runs, contenders alternating. Targets (issue
16, H100/H200): matmul >= 90% of cuBLAS through PyTorch, conv within 2x of cuDNN, LSTM within
1.5x of cuDNN's LSTM, the CNN epoch >= 10x faster than on the CPU.
"""
import numpy as np

import kcore
from kcore.backend.native import _C
from kcore.bench import common

SUITES = ["matmul", "conv", "rnn", "train"]


def _torch_cuda(tf32):
    try:
        import torch
    except ImportError:
        return None
    if not torch.cuda.is_available():
        return None
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    torch.backends.cudnn.benchmark = True
    return torch


def _synced(fn, sync, *fn_args):
    """fn(*fn_args) followed by a device synchronisation, as one callable."""
    def run():
        fn(*fn_args)
        sync()
    return run


def _gpu(a):
    return _C.to_device(_C.from_numpy(np.ascontiguousarray(a)), "cuda")


def _time(contenders, repeats):
    return common.measure(contenders, repeats, warmup=2)


def bench_matmul(args, torch):
    rows = []
    for n in ([2048] if args.quick else [1024, 4096, 8192]):
        a = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
        c = {"kcore": _synced(_C.matmul, kcore.cuda.synchronize, _gpu(a), _gpu(a))}
        if torch:
            c["torch"] = _synced(torch.matmul, torch.cuda.synchronize, torch.from_numpy(a).cuda(),
                                 torch.from_numpy(a).cuda())
        t = _time(c, args.repeats)
        rows.append({"case": f"matmul {n}x{n} fp32", **t, "kcore TFLOP/s": 2 * n**3 / t["kcore"] / 1e12})
    return rows


# name: (input (channels_last), kernel (Keras layout), strides, padding)
CONV_CASES = {
    "Conv2D b32 28x28x32->64 3x3 same": ((32, 28, 28, 32), (3, 3, 32, 64), 1, "same"),
    "Conv2D b64 56x56x64->64 3x3 same": ((64, 56, 56, 64), (3, 3, 64, 64), 1, "same"),
    "Conv2D b64 56x56x64->128 3x3 s2": ((64, 56, 56, 64), (3, 3, 64, 128), 2, "same"),
    "Conv2D b64 28x28x128->128 1x1": ((64, 28, 28, 128), (1, 1, 128, 128), 1, "valid"),
    "Conv1D b32 L128 64->64 k5 same": ((32, 128, 64), (5, 64, 64), 1, "same"),
}


def _pads(size, k, s, padding):
    if padding == "valid":
        return 0, 0
    out = -(-size // s)
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


def bench_conv(args, torch):
    rows, rng = [], np.random.default_rng(1)
    cases = list(CONV_CASES.items())[:2] if args.quick else CONV_CASES.items()
    for name, (xs, ks, s, padding) in cases:
        rank = len(ks) - 2
        x = rng.standard_normal(xs).astype(np.float32)
        w = (rng.standard_normal(ks) * 0.1).astype(np.float32)
        pads = [_pads(xs[1 + i], ks[i], s, padding) for i in range(rank)]
        before, after = [p[0] for p in pads], [p[1] for p in pads]
        strides, dil = [s] * rank, [1] * rank
        gx, gw = _gpu(x), _gpu(w)
        geometry = (strides, dil, before, after)
        y = _C.conv(gx, gw, None, *geometry)
        gy = _gpu(rng.standard_normal(tuple(y.shape)).astype(np.float32))
        c = {"kcore": _synced(_kcore_conv_step, kcore.cuda.synchronize, gx, gw, gy, geometry)}
        if torch:
            c["torch"] = _torch_conv(torch, x, w, s, before, after)
        t = _time(c, args.repeats)
        rows.append({"case": name + " fwd+bwd", **t})
    return rows


def _kcore_conv_step(x, w, dy, geometry):
    _C.conv(x, w, None, *geometry)
    _C.conv_backward(x, w, dy, *geometry, True, True, False)


def _torch_conv(torch, x, w, s, before, after):
    rank = w.ndim - 2
    fn = torch.nn.functional.conv2d if rank == 2 else torch.nn.functional.conv1d
    perm_x = (0, rank + 1) + tuple(range(1, rank + 1))  # NHWC -> NCHW
    perm_w = (rank + 1, rank) + tuple(range(rank))      # (*k, C, F) -> (F, C, *k)
    tx = torch.from_numpy(x).cuda().permute(*perm_x).contiguous().requires_grad_(True)
    tw = torch.from_numpy(np.ascontiguousarray(w.transpose(perm_w))).cuda().requires_grad_(True)
    if rank == 2:
        tx = tx.detach().to(memory_format=torch.channels_last).requires_grad_(True)
    pad = []
    for b, a in zip(reversed(before), reversed(after)):
        pad += [b, a]
    out = fn(torch.nn.functional.pad(tx, pad), tw, stride=s)
    gy = torch.randn_like(out)

    def step():
        y = fn(torch.nn.functional.pad(tx, pad), tw, stride=s)
        torch.autograd.grad(y, (tx, tw), gy)

    return _synced(step, torch.cuda.synchronize)


def bench_rnn(args, torch):
    rows, rng = [], np.random.default_rng(2)
    shapes = [(64, 100, 128, 256)] if args.quick else [(64, 100, 128, 256), (128, 200, 512, 512)]
    for cell, gates, torch_cls in (("lstm", 4, "LSTM"), ("gru", 3, "GRU")):
        for b, t, d, u in shapes:
            x = rng.standard_normal((b, t, d)).astype(np.float32)
            k = (rng.standard_normal((d, gates * u)) * 0.05).astype(np.float32)
            rk = (rng.standard_normal((u, gates * u)) * 0.05).astype(np.float32)
            bias = np.zeros((2, gates * u) if cell == "gru" else (gates * u,), np.float32)
            weights = [_gpu(k), _gpu(rk), _gpu(bias)]
            gy = _gpu(rng.standard_normal((b, t, u)).astype(np.float32))
            c = {"kcore": _synced(_kcore_rnn_step, kcore.cuda.synchronize, getattr(_C.RnnCell, cell), _gpu(x),
                                  weights, gy)}
            if torch:
                net = getattr(torch.nn, torch_cls)(d, u, batch_first=True).cuda()
                c["torch"] = _synced(_torch_rnn_step, torch.cuda.synchronize, torch, net,
                                     torch.from_numpy(x).cuda().requires_grad_(True),
                                     torch.randn(b, t, u, device="cuda"))
            tm = _time(c, args.repeats)
            rows.append({"case": f"{torch_cls} b{b} T{t} {d}->{u} fwd+bwd", **tm})
    return rows


def _kcore_rnn_step(cell, x, weights, dy):
    k, rk, bias = weights
    _, _, _, saved = _C.rnn_forward(cell, True, _C.RnnActivation.tanh, _C.RnnActivation.sigmoid, False, x, k, rk,
                                    bias, None, None, None, None)
    _C.rnn_backward(saved, k, rk, dy, None, None, True)


def _torch_rnn_step(torch, net, x, dy):
    out, _ = net(x)
    torch.autograd.grad(out, [x, *net.parameters()], dy)


def seed004_cnn():
    """The CNN of seed 004: three Conv2D(3x3, same, relu) + MaxPooling2D, Dense(128), Dropout, Dense(10)."""
    from kcore import layers

    model = kcore.Sequential([
        layers.Conv2D(32, (3, 3), padding="same", activation="relu", input_shape=(28, 28, 1)),
        layers.MaxPooling2D((2, 2)),
        layers.Conv2D(64, (3, 3), padding="same", activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Conv2D(128, (3, 3), padding="same", activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Flatten(),
        layers.Dense(128, activation="relu"),
        layers.Dropout(0.5),
        layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def bench_train(args, torch):
    import time

    n = 1024 if args.quick else 4096
    rng = np.random.default_rng(3)
    x = rng.random((n, 28, 28, 1), dtype=np.float32)
    y = rng.integers(0, 10, n)
    times = {}
    for device in ("cuda", "cpu"):
        kcore.set_device(device)
        try:
            model = seed004_cnn()
            model.fit(x[:256], y[:256], batch_size=128, epochs=1, verbose=0)  # warm-up: kernels, allocator
            kcore.cuda.synchronize()
            best = None
            for _ in range(1 if args.quick else 2):
                start = time.perf_counter()
                model.fit(x, y, batch_size=128, epochs=1, verbose=0)
                kcore.cuda.synchronize()
                best = min(best or 1e30, time.perf_counter() - start)
            times["kcore" if device == "cuda" else "kcore_cpu"] = best
        finally:
            kcore.set_device("cpu")
    return [{"case": f"seed-004 CNN epoch, {n} samples, batch 128", **times,
             "cpu/cuda": times["kcore_cpu"] / times["kcore"]}]


def run(args, only=None):
    """Runs the GPU suites; returns {"cuda_<suite>": rows}. Says why and returns {} without CUDA."""
    if not kcore.cuda.is_available():
        print(f"CUDA not available: {kcore.cuda.unavailable_reason()}")
        return {}
    tf32 = getattr(args, "tf32", False)
    kcore.cuda.set_allow_tf32(tf32)
    torch = _torch_cuda(tf32)
    if torch is None:
        print("PyTorch with CUDA not installed: kcore's GPU times only")
    props = kcore.cuda.get_device_properties()
    results = {}
    for suite in only or SUITES:
        if suite not in SUITES:
            continue
        rows = globals()[f"bench_{suite}"](args, torch)
        columns = ["kcore", "torch"] if torch else ["kcore"]
        if suite == "train":
            columns = ["kcore", "kcore_cpu"]
        extra = [k for k in rows[0] if k not in ("case", "kcore", "torch", "kcore_cpu")] if rows else []
        common.print_table(f"cuda {suite} (ms), {props.get('name', 'GPU')}, {'TF32' if tf32 else 'FP32'}", rows,
                           columns, extra=extra)
        results[f"cuda_{suite}"] = rows
    return results


def main(argv=None):
    def extra(parser):
        parser.add_argument("--tf32", action="store_true", help="TF32 tensor-core math on both sides")
        parser.add_argument("--only", nargs="*", choices=SUITES, help="run only these suites")

    args = common.parse_args(__doc__, extra, argv)
    if args.quick:
        args.repeats = min(args.repeats, 3)
    results = run(args, args.only)
    common.write_json(args.json, {"machine": common.machine_info(args.threads), **results})


if __name__ == "__main__":
    main()
