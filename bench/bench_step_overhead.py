"""Per-step Python overhead of training a small MLP (784-32-10, batch 128, Adam, accuracy), piece by piece.

Run it for two checkouts back to back to compare them (kernels barely matter at this size):
    PYTHONPATH=<checkout> python bench/bench_step_overhead.py [--tiny]
--tiny uses a 16-8-4 model at batch 8, where the native kernels take almost no time and what is
measured is kcore's Python overhead per call.
Prints the best of 5 repeats of N calls for each piece, in microseconds per call, and one epoch of fit."""
import sys
import time

import numpy as np

import kcore
from kcore import layers
from kcore.backend import GradientTape


def best_us(fn, calls=2000, repeats=5):
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        best = min(best, (time.perf_counter() - start) / calls)
    return best * 1e6


def main():
    tiny = "--tiny" in sys.argv[1:]
    features, hidden, classes, batch = (16, 8, 4, 8) if tiny else (784, 32, 10, 128)
    rng = np.random.default_rng(0)
    x = rng.random((12000, features), dtype=np.float32)
    y = kcore.utils.to_categorical(rng.integers(0, classes, 12000), classes)
    model = kcore.Sequential([layers.Dense(hidden, input_shape=(features,)), layers.Activation("relu"),
                              layers.Dense(classes), layers.Activation("softmax")])
    model.compile("adam", "categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, batch_size=batch, epochs=1, verbose=0)
    xb, yb = x[:batch], y[:batch]
    xt = kcore.convert_to_tensor(xb)
    model._begin_training()
    variables = model.trainable_weights

    def forward_loss_gradient():
        with GradientTape() as tape:
            pred = model(xb, training=True)
            loss, _ = model.compute_loss(xb, yb, pred, None)
        return tape.gradient(loss, variables)

    pred = model(xt)
    loss, per_output = model.compute_loss(xb, yb, pred, None)
    grads = forward_loss_gradient()
    rows = [("forward (inference)", lambda: model(xt), 2000),
            ("compute_loss", lambda: model.compute_loss(xb, yb, pred, None), 2000),
            ("forward + loss + gradient", forward_loss_gradient, 500),
            ("metric updates", lambda: model._update_metrics(yb, pred, loss, per_output, None), 2000),
            ("optimizer apply", lambda: model.optimizer.apply(grads, variables), 500),
            ("train_step", lambda: model.train_step(xb, yb, None), 500)]
    for name, fn, calls in rows:
        print(f"{name:28s} {best_us(fn, calls):8.1f} us")
    model._end_training()
    epoch = min(_timed(lambda: model.fit(x, y, batch_size=batch, epochs=1, verbose=0)) for _ in range(7))
    print(f"{f'fit, one epoch ({-(-len(x) // batch)} steps)':28s} {epoch * 1e3:8.2f} ms")


def _timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
