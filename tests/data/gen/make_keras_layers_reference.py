"""Writes tests/data/keras3_layers_reference.npz with real Keras 3: outputs (and gradients of
sum(output * R) with respect to the weights, then the inputs) of the issue-13 layers.

    KERAS_BACKEND=tensorflow /work/refenv/bin/python tests/data/gen/make_keras_layers_reference.py
Also writes keras3_layers.keras + keras3_layers_io.npz (a model over these layers).
Keys: '<case>|x<i>' inputs, '|m<i>' masks, '|w<i>' weights, '|o<i>' outputs, '|r' the R of the
gradient, '|g<i>' gradients; '<case>|loss' for ActivityRegularization's added loss.
"""
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

L = keras.layers
DATA = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

sys.path.insert(0, os.path.dirname(DATA))
from issue13_cases import layer_cases  # noqa: E402

CASES = layer_cases(L)


def main():
    rng = np.random.default_rng(7)
    out = {}
    for name, (make, shapes, kwargs, mask_shapes) in CASES.items():
        layer = make()
        xs = [rng.standard_normal(s).astype(np.float32) * 2 for s in shapes]
        masks = None
        if mask_shapes:
            masks = [rng.random(s) > 0.3 for s in mask_shapes]
            for m in masks:  # no fully masked row
                m.reshape(m.shape[0], -1)[:, 0] = True
        args = xs if len(xs) > 1 else xs[0]
        layer(args, **kwargs) if masks is None else layer(args, mask=masks if len(masks) > 1 else masks[0], **kwargs)
        weights = [rng.uniform(-1, 1, w.shape).astype(np.float32) for w in layer.get_weights()]
        layer.set_weights(weights)
        tx = [tf.constant(x) for x in xs]
        with tf.GradientTape() as tape:
            for t in tx:
                tape.watch(t)
            targs = tx if len(tx) > 1 else tx[0]
            if masks is None:
                res = layer(targs, **kwargs)
            else:
                res = layer(targs, mask=masks if len(masks) > 1 else masks[0], **kwargs)
            flat = list(res) if isinstance(res, (list, tuple)) else [res]
            r = rng.standard_normal(flat[0].shape).astype(np.float32)
            loss = tf.reduce_sum(flat[0] * r)
        grads = tape.gradient(loss, layer.trainable_weights + tx)
        out[f"{name}|r"] = r
        for kind, arrays in (("x", xs), ("m", masks or []), ("w", weights), ("o", flat), ("g", grads)):
            for i, a in enumerate(arrays):
                out[f"{name}|{kind}{i}"] = np.zeros(0, np.float32) if a is None else np.asarray(a)

    x = rng.standard_normal((4, 3)).astype(np.float32)
    layer = L.ActivityRegularization(l1=0.01, l2=0.02)
    layer(x)
    out["actreg|x0"], out["actreg|loss"] = x, np.float32(sum(float(v) for v in layer.losses))
    np.savez_compressed(os.path.join(DATA, "keras3_layers_reference.npz"), **out)
    save_model_fixture(rng)
    print("keras", keras.__version__, "wrote", len(out), "arrays")


def save_model_fixture(rng):
    """keras3_layers.keras (+ _io.npz): a two-input model over most of the new layers, for kcore to load."""
    frames, query = keras.Input((3, 6, 6, 2)), keras.Input((4, 5))
    seq = L.TimeDistributed(L.Conv2D(2, 3, padding="same"))(frames)
    seq = L.ConvLSTM2D(3, 3, strides=2, return_sequences=True)(seq)
    seq = L.TimeDistributed(L.Flatten())(seq)
    seq = L.PReLU()(L.TimeDistributed(L.Dense(5))(seq))
    seq = L.SpatialDropout1D(0.3)(L.GaussianNoise(0.2)(seq))
    att = L.Attention(use_scale=True)([query, seq])
    add = L.AdditiveAttention()([query, seq, seq])
    merged = L.Permute((2, 1))(L.Add()([att, add]))
    merged = L.ELU(0.7)(L.LeakyReLU(0.2)(merged))
    out = L.Softmax(axis=1)(L.ConvLSTM1D(2, 2)(L.Reshape((5, 4, 1))(merged)))
    vec = L.RepeatVector(2)(L.Flatten()(L.AlphaDropout(0.1)(L.GaussianDropout(0.1)(out))))
    model = keras.Model([frames, query], L.ActivityRegularization(l1=0.01)(vec))
    randomize(model, rng)
    model.save(os.path.join(DATA, "keras3_layers.keras"))
    xs = [rng.standard_normal((2, 3, 6, 6, 2)).astype(np.float32), rng.standard_normal((2, 4, 5)).astype(np.float32)]
    np.savez(os.path.join(DATA, "keras3_layers_io.npz"), x0=xs[0], x1=xs[1], y=model.predict(xs, verbose=0))


def randomize(model, rng):
    model.set_weights([rng.uniform(-0.5, 0.5, w.shape).astype(np.float32) for w in model.get_weights()])


if __name__ == "__main__":
    main()
