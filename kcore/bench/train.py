"""Seconds per training epoch, kcore vs PyTorch (and Keras 3 on TensorFlow with --keras), same threads,
alternating epochs, minimum and median over rounds. Cases:

- mlp: Dense(32, relu, input 784) -> Dense(10, softmax), Adam, categorical crossentropy, 60,000 random
  samples, batch 128;
- cnn: the seed-004 CNN of kcore/examples/digits_cnn.py on the digits (kcore/bench/train_models.py);
- lstm: the text classifier of kcore/examples/text_classification.py (Bidirectional LSTM over masked
  ids; kcore/bench/train_models.py).

    python -m kcore.bench.train [--threads N] [--rounds 15] [--cases mlp,cnn,lstm] [--keras] [--cpu-time]
                                [--json out.json]
"""
import os

import numpy as np

import kcore
from kcore.bench import common

BATCH = 128


def data(n):
    rng = np.random.default_rng(0)
    x = rng.random((n, 784), dtype=np.float32)
    y = kcore.utils.to_categorical(rng.integers(0, 10, n), 10)
    return x, y


def kcore_epoch_fn(x, y):
    from kcore import layers

    model = kcore.Sequential([layers.Dense(32, activation="relu", input_shape=(784,)),
                              layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return lambda: model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)


def torch_epoch_fn(torch, x, y):
    nn = torch.nn
    model = nn.Sequential(nn.Linear(784, 32), nn.ReLU(), nn.Linear(32, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()
    tx, ty = torch.from_numpy(x), torch.from_numpy(y.argmax(1))
    n = len(x)

    def epoch():
        perm = torch.randperm(n)
        correct = 0
        for i in range(0, n, BATCH):
            idx = perm[i:i + BATCH]
            xb, yb = tx[idx], ty[idx]
            opt.zero_grad()
            out = model(xb)
            loss = loss_fn(out, yb)
            loss.backward()
            opt.step()
            correct += (out.argmax(1) == yb).sum().item()
        return correct

    return epoch


def keras_epoch_fn(x, y):
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import keras

    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(32, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return lambda: model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)


def _add_args(parser):
    parser.add_argument("--rounds", type=int, default=15, help="timed epochs per contender (minimum and median)")
    parser.add_argument("--cases", default="mlp,cnn,lstm", help="comma-separated: mlp, cnn, lstm")
    parser.add_argument("--keras", action="store_true", help="also time Keras 3 (TensorFlow backend) on mlp")
    parser.add_argument("--cpu-time", action="store_true",
                        help="time with process CPU time (only with --threads 1): stable on a busy machine")


def _contenders(case, torch, quick, keras):
    """({name: one-epoch function}, steps per epoch, description) of one case."""
    from kcore.bench import train_models as tm

    if case == "mlp":
        n = 12_000 if quick else 60_000
        x, y = data(n)
        fns = {"kcore": kcore_epoch_fn(x, y)}
        if torch is not None:
            fns["torch"] = torch_epoch_fn(torch, x, y)
        if keras:
            try:
                fns["keras"] = keras_epoch_fn(x, y)
            except ImportError:
                print("keras not installed: skipped")
        return fns, -(-n // BATCH), f"MLP epoch, {n} samples, batch {BATCH}"
    x, y = tm.cnn_data() if case == "cnn" else tm.text_data()
    build = {"cnn": (tm.kcore_cnn_epoch, tm.torch_cnn_epoch), "lstm": (tm.kcore_text_epoch, tm.torch_text_epoch)}
    if case not in build:
        raise SystemExit(f"unknown training case {case!r} (mlp, cnn, lstm)")
    fns = {"kcore": build[case][0](x, y)}
    if torch is not None:
        fns["torch"] = build[case][1](torch, x, y)
    desc = {"cnn": "seed-004 CNN epoch, digits 28x28", "lstm": "text BiLSTM epoch, 4000 reviews"}[case]
    return fns, -(-len(x) // tm.BATCH), f"{desc}, {len(x)} samples, batch {tm.BATCH}"


def run(args):
    torch = common.setup_threads(args.threads)
    rounds = 3 if args.quick else max(1, getattr(args, "rounds", 15))
    clock, clock_name = common.clock_for(args)
    rows = []
    for case in getattr(args, "cases", "mlp,cnn,lstm").split(","):
        fns, steps, desc = _contenders(case, torch, args.quick, getattr(args, "keras", False))
        runs = common.measure_runs(fns, rounds, clock=clock)
        row = {"case": desc, **{k: float(np.median(v)) for k, v in runs.items()}}
        for k, v in runs.items():
            row[f"{k} min ms"] = min(v) * 1e3
        if "torch" in runs:
            row["kcore/torch min %"] = 100 * min(runs["kcore"]) / min(runs["torch"])
        row["kcore us/step"] = row["kcore"] / steps * 1e6
        rows.append(row)
    columns = list(dict.fromkeys(k for r in rows for k in ("kcore", "torch", "keras") if k in r))
    extra = list(dict.fromkeys(k for r in rows for k in r if k not in columns and k != "case"))
    load = common.load_average()
    common.print_table(f"training epoch (median ms of {rounds} alternating rounds, {clock_name}), {args.threads} "
                       f"threads; load average {load}", rows, columns, extra=extra)
    return {"train_epoch": rows, "train_load_average": load, "train_clock": clock_name}


def main(argv=None):
    """Runs this benchmark from the command line (see the module docstring)."""
    common.run_main(__doc__, _add_args, run, argv)


if __name__ == "__main__":
    main()
