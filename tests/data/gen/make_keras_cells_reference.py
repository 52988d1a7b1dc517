"""Writes tests/data/keras3_cells_reference.npz and keras3_cells.keras (+ _io.npz) with real Keras 3.

Not part of the test run (tests only read the files). Run with the reference environment:
    KERAS_BACKEND=tensorflow /work/refenv/bin/python tests/data/gen/make_keras_cells_reference.py
Keys are '<case>|<kind><i>': kind w = weights (get_weights order), o = outputs (flattened like
Keras's tree.flatten), g = gradients of sum(output * R) (weights in order, then the input).
"""
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

L = keras.layers
HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.dirname(HERE)

sys.path.insert(0, os.path.dirname(DATA))
from issue13_cases import cell_cases, make_tanh_cell, sequence_cases  # noqa: E402

CELLS = cell_cases(L)
SEQUENCES = sequence_cases(L)
TanhCell = make_tanh_cell(L, keras.ops)


def randomize(layer, rng):
    layer.set_weights([rng.uniform(-0.6, 0.6, w.shape).astype(np.float32) for w in layer.get_weights()])


def main():
    rng = np.random.default_rng(13)
    out = {}
    xs = rng.standard_normal((3, 5)).astype(np.float32)
    out["step_x"] = xs
    for name, make in CELLS.items():
        cell = make()
        sizes = cell.state_size if isinstance(cell.state_size, list) else [cell.state_size]
        states = [rng.standard_normal((3, s)).astype(np.float32) for s in sizes]
        cell(xs, states)
        randomize(cell, rng)
        y, new = cell(xs, states)
        for i, w in enumerate(cell.get_weights()):
            out[f"cell_{name}|w{i}"] = w
        for i, s in enumerate(states):
            out[f"cell_{name}|s{i}"] = s
        for i, o in enumerate([y] + list(new)):
            out[f"cell_{name}|o{i}"] = np.asarray(o)

    x = rng.standard_normal((3, 6, 5)).astype(np.float32)
    mask = np.array([[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1], [0, 1, 1, 0, 1, 1]], bool)
    out["seq_x"], out["seq_mask"] = x, mask
    for name, make in SEQUENCES.items():
        for masked in (0, 1):
            layer = make()
            layer(x)
            randomize(layer, rng)
            key = f"{name}_m{masked}"
            xt = tf.constant(x)
            with tf.GradientTape() as tape:
                tape.watch(xt)
                res = layer(xt, mask=mask if masked else None)
                flat = keras.tree.flatten(res)
                r = rng.standard_normal(flat[0].shape).astype(np.float32)
                loss = tf.reduce_sum(flat[0] * r)
            grads = tape.gradient(loss, layer.trainable_weights + [xt])
            out[f"{key}|r"] = r
            for i, w in enumerate(layer.get_weights()):
                out[f"{key}|w{i}"] = w
            for i, o in enumerate(flat):
                out[f"{key}|o{i}"] = np.asarray(o)
            for i, g in enumerate(grads):
                out[f"{key}|g{i}"] = np.asarray(g)

    # a user's cell trained inside RNN: SGD, fixed weights, one full batch per epoch
    xt = rng.standard_normal((16, 7, 3)).astype(np.float32)
    yt = np.sin(xt.sum(axis=(1, 2)))[:, None].astype(np.float32)
    model = keras.Sequential([keras.Input((7, 3)), L.RNN(TanhCell(5)), L.Dense(1)])
    randomize(model, rng)
    for i, w in enumerate(model.get_weights()):
        out[f"train|w{i}"] = w
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="mse")
    history = model.fit(xt, yt, batch_size=16, epochs=6, shuffle=False, verbose=0)
    out["train|x"], out["train|y"] = xt, yt
    out["train|loss"] = np.array(history.history["loss"], np.float32)
    np.savez_compressed(os.path.join(DATA, "keras3_cells_reference.npz"), **out)

    # a .keras file with RNN over StackedRNNCells and over a single cell, for kcore to load
    inp = keras.Input((6, 5))
    seq = L.RNN(L.StackedRNNCells([L.LSTMCell(4), L.GRUCell(3)]), return_sequences=True)(inp)
    last = L.RNN(L.SimpleRNNCell(2), go_backwards=True)(seq)
    model = keras.Model(inp, L.Dense(1)(last))
    randomize(model, rng)
    model.save(os.path.join(DATA, "keras3_cells.keras"))
    np.savez(os.path.join(DATA, "keras3_cells_io.npz"), x=x, y=model.predict(x, verbose=0))
    save_encoder_decoder(rng)
    print("keras", keras.__version__, "wrote", len(out), "arrays")


def save_encoder_decoder(rng):
    """keras3_s2s.keras (+ _io.npz, keys x0, x1, y): a decoder RNN started from the encoder's states
    (initial_state given as Keras tensors, stored in the node's kwargs)."""
    enc_in, dec_in = keras.Input((5, 3)), keras.Input((4, 3))
    _, h, c = L.LSTM(6, return_state=True)(enc_in)
    seq = L.RNN(L.LSTMCell(6), return_sequences=True)(dec_in, initial_state=[h, c])
    _, g = L.GRU(3, return_state=True)(enc_in)
    last = L.GRU(3, go_backwards=True)(seq, initial_state=g)
    model = keras.Model([enc_in, dec_in], L.Dense(2)(last))
    randomize(model, rng)
    model.save(os.path.join(DATA, "keras3_s2s.keras"))
    xs = [rng.standard_normal((2, 5, 3)).astype(np.float32), rng.standard_normal((2, 4, 3)).astype(np.float32)]
    np.savez(os.path.join(DATA, "keras3_s2s_io.npz"), x0=xs[0], x1=xs[1], y=model.predict(xs, verbose=0))


if __name__ == "__main__":
    main()
