"""Seconds per training epoch of an MLP Dense(32, relu, input 784) -> Dense(10, softmax), Adam,
categorical crossentropy, 60,000 random samples, batch 128: kcore vs PyTorch (and Keras 3 on
TensorFlow with --keras), same threads, alternating epochs.

    python -m kcore.bench.train [--threads N] [--epochs 3] [--keras] [--json out.json]
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
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs per contender")
    parser.add_argument("--keras", action="store_true", help="also time Keras 3 (TensorFlow backend) if installed")


def run(args):
    torch = common.setup_threads(args.threads)
    n = 12_000 if args.quick else 60_000
    x, y = data(n)
    contenders = {"kcore": kcore_epoch_fn(x, y)}
    if torch is not None:
        contenders["torch"] = torch_epoch_fn(torch, x, y)
    if getattr(args, "keras", False):
        try:
            contenders["keras"] = keras_epoch_fn(x, y)
        except ImportError:
            print("keras not installed: skipped")
    t = common.measure(contenders, getattr(args, "epochs", 3), warmup=1)
    steps = -(-n // BATCH)
    row = {"case": f"MLP epoch, {n} samples, batch {BATCH}", **t, "kcore us/step": t["kcore"] / steps * 1e6}
    common.print_table(f"training epoch (ms), {args.threads} threads", [row], list(contenders),
                       extra=["kcore us/step"])
    return {"train_epoch": [row]}


def main(argv=None):
    """Runs this benchmark from the command line (see the module docstring)."""
    common.run_main(__doc__, _add_args, run, argv)


if __name__ == "__main__":
    main()
