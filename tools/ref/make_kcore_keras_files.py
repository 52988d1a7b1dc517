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
    out["layers_seq"] = (kcore.Sequential([
        L.Input((6, 5)), L.TimeDistributed(L.Dense(4)), L.PReLU(shared_axes=[1]), L.LeakyReLU(0.1),
        L.Permute((2, 1)), L.ELU(0.5), L.SpatialDropout1D(0.2), L.GaussianNoise(0.1), L.GaussianDropout(0.1),
        L.AlphaDropout(0.1), L.ActivityRegularization(l1=0.01), L.ReLU(max_value=6.0), L.Softmax(axis=1),
        L.Flatten(), L.RepeatVector(2), L.GRU(3)]), (6, 5))
    inp = L.Input((4, 3))
    val = L.Input((5, 3))
    a = L.Attention(use_scale=True, score_mode="concat")([inp, val])
    b = L.AdditiveAttention()([inp, val, val])
    c = L.Attention()([a, b])
    out["attention"] = (kcore.Model([inp, val], L.Add()([a, c])), None)
    img = L.Input((3, 6, 6, 2))
    y = L.TimeDistributed(L.Conv2D(2, 3, padding="same"))(img)
    y = L.TimeDistributed(L.SpatialDropout2D(0.2))(y)
    out["td_conv"] = (kcore.Model(img, y), (3, 6, 6, 2))
    enc_in, dec_in = L.Input((4, 3)), L.Input((5, 3))  # an encoder-decoder: initial_state from Keras tensors
    _, h, c = L.LSTM(6, return_state=True)(enc_in)
    seq = L.RNN(L.LSTMCell(6), return_sequences=True)(dec_in, initial_state=[h, c])
    _, g = L.GRU(3, return_state=True)(enc_in)
    out["s2s"] = (kcore.Model([enc_in, dec_in], L.Dense(2)(L.GRU(3)(seq, initial_state=g))), None)
    out["conv_lstm"] = (kcore.Sequential([
        L.Input((3, 6, 6, 2)), L.ConvLSTM2D(3, 3, padding="same", return_sequences=True, unit_forget_bias=False),
        L.TimeDistributed(L.Flatten()), L.LSTM(2)]), (3, 6, 6, 2))
    out["conv_lstm1d_3d"] = (kcore.Sequential([
        L.Input((2, 4, 4, 4, 1)), L.ConvLSTM3D(2, 2, strides=2, return_sequences=True),
        L.TimeDistributed(L.Reshape((4, 4))), L.ConvLSTM1D(2, 2, go_backwards=True)]), (2, 4, 4, 4, 1))
    return out


def main(folder):
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(0)
    for name, (model, shape) in _models().items():
        for w in model.weights:  # non-trivial weights everywhere (biases included)
            w.assign(rng.uniform(-0.5, 0.5, w.shape).astype(w.dtype))
        if shape is None:  # the two-input models: (batch, 4, 3) and (batch, 5, 3)
            x = [rng.standard_normal((3, 4, 3)).astype(np.float32), rng.standard_normal((3, 5, 3)).astype(np.float32)]
        else:
            x = rng.standard_normal((3,) + shape).astype(np.float32)
        model.save(os.path.join(folder, f"{name}.keras"))
        xs = {f"x{i}": v for i, v in enumerate(x)} if isinstance(x, list) else {"x": x}
        np.savez(os.path.join(folder, f"{name}_io.npz"), y=model.predict(x, verbose=0), **xs)
        print("saved", name)


if __name__ == "__main__":
    main(sys.argv[1])
