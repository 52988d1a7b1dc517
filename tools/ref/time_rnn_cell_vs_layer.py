"""RNN(LSTMCell(n)) against LSTM(n): interleaved forward+backward timings, medians (a brief check, not a benchmark).

    PYTHONPATH=. /work/dev/bin/python tools/ref/time_rnn_cell_vs_layer.py [repeats]
"""
import statistics
import sys
import time

import numpy as np

import kcore
from kcore import layers as L
from kcore import ops
from kcore.backend.autodiff import GradientTape


def _step(layer, x):
    with GradientTape() as tape:
        loss = ops.sum(layer(x))
    tape.gradient(loss, layer.trainable_weights)


def main(repeats=30):
    kcore.set_num_threads(1)
    x = np.random.default_rng(0).standard_normal((32, 50, 32)).astype(np.float32)
    contenders = {"LSTM(64)": L.LSTM(64, return_sequences=True),
                  "RNN(LSTMCell(64))": L.RNN(L.LSTMCell(64), return_sequences=True),
                  "RNN([LSTMCell(64)])": L.RNN(L.StackedRNNCells([L.LSTMCell(64)]), return_sequences=True)}
    for layer in contenders.values():
        _step(layer, x)  # build + warm up
    times = {name: [] for name in contenders}
    for _ in range(repeats):
        for name, layer in contenders.items():
            start = time.perf_counter()
            _step(layer, x)
            times[name].append(time.perf_counter() - start)
    base = statistics.median(times["LSTM(64)"])
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"{name:22s} median {med * 1e3:7.2f} ms  ratio to LSTM {med / base:5.3f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
