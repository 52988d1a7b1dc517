"""Saves small kcore models using the cells / layers of issue 13 as .keras files, with inputs and kcore's predictions.

    PYTHONPATH=. /work/dev/bin/python tools/ref/make_kcore_keras_files.py OUT_DIR
then check that real Keras 3 loads them and predicts the same:
    KERAS_BACKEND=tensorflow /work/refenv/bin/python tools/ref/check_keras_loads.py OUT_DIR
"""
import os
import sys

import numpy as np

import kcore
from kcore import layers as L


def _models():
    """name -> (model, input shape without batch)."""
    out = {}
    inp = L.Input((6, 5))
    seq = L.RNN(L.StackedRNNCells([L.LSTMCell(4), L.GRUCell(3)]), return_sequences=True)(inp)
    seq = L.RNN(L.GRUCell(3, reset_after=False), return_sequences=True, go_backwards=True)(seq)
    last = L.RNN(L.SimpleRNNCell(2))(seq)
    out["cells"] = (kcore.Model(inp, L.Dense(1)(last)), (6, 5))
    out["lstm_gru"] = (kcore.Sequential([L.Input((6, 5)), L.LSTM(4, return_sequences=True), L.GRU(3),
                                         L.Dense(2)]), (6, 5))
    for extra in EXTRA_MODELS:
        out.update(extra())
    return out


EXTRA_MODELS = []  # later layers add builders here (name -> (model, input shape))


def main(folder):
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(0)
    for name, (model, shape) in _models().items():
        for w in model.weights:  # non-trivial weights everywhere (biases included)
            w.assign(rng.uniform(-0.5, 0.5, w.shape).astype(w.dtype))
        x = rng.standard_normal((3,) + shape).astype(np.float32)
        model.save(os.path.join(folder, f"{name}.keras"))
        np.savez(os.path.join(folder, f"{name}_io.npz"), x=x, y=model.predict(x, verbose=0))
        print("saved", name)


if __name__ == "__main__":
    main(sys.argv[1])
