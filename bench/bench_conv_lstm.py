"""ConvLSTM2D forward + backward: the fused native kernel against the step-by-step autodiff path.

    python bench/bench_conv_lstm.py [--rounds 15] [--threads N]
Shape: batch 8, 10 steps, 16x16x8 frames -> 16 filters 3x3 'same', return_sequences. Each round
times one forward+backward (a GradientTape over sum(outputs**2), gradients of the inputs and the
three weights) of each path, interleaved; prints min and median milliseconds over the rounds."""
import argparse
import statistics
import time

import numpy as np

from kcore import layers, ops
from kcore.backend.autodiff import GradientTape
from kcore.backend.native import _C
from kcore.backend.tensor import Variable
from kcore.layers.rnn.conv_lstm import ConvLSTM


def step(layer, x, fused):
    layer._fused = (lambda inputs: ConvLSTM._fused(layer, inputs)) if fused else (lambda inputs: False)
    start = time.perf_counter()
    with GradientTape() as tape:
        out = layer(x, training=True)
        loss = ops.sum(ops.multiply(out, out))
    grads = tape.gradient(loss, [x] + list(layer.trainable_weights))
    assert all(g is not None for g in grads)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--threads", type=int, default=0, help="kcore threads (0: the default)")
    args = parser.parse_args()
    if args.threads:
        _C.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    x = Variable(rng.standard_normal((args.batch, args.steps, 16, 16, 8)).astype(np.float32), name="x")
    layer = layers.ConvLSTM2D(16, 3, padding="same", return_sequences=True)
    layer(x)
    times = {"fused": [], "step-by-step": []}
    for name in times:  # warm up both
        step(layer, x, name == "fused")
    for _ in range(args.rounds):
        for name, ts in times.items():
            ts.append(step(layer, x, name == "fused"))
    for name, ts in times.items():
        print(f"{name:>13}: min {min(ts) * 1e3:8.2f} ms   median {statistics.median(ts) * 1e3:8.2f} ms "
              f"({len(ts)} rounds)")
    print(f"speedup (median): {statistics.median(times['step-by-step']) / statistics.median(times['fused']):.2f}x")


if __name__ == "__main__":
    main()
