"""Writes tests/data/keras3_bidir_conv_reference.npz with real Keras 3: outputs of
Bidirectional(ConvLSTM1D/2D/3D) layers with set weights, and gradients of sum_i(sum(output_i * R_i)) with
respect to the weights, then the input; plus one SGD training step of a small model (loss before, weights
after), and keras3_bidir_conv.keras (a Keras-written model file kcore must load).

    KERAS_BACKEND=tensorflow /work/refenv/bin/python tests/data/gen/make_keras_bidir_conv_reference.py
Keys: '<case>|x' input, '|m' mask, '|w<i>' weights, '|o<i>' outputs, '|r<i>' the R_i, '|g<i>' gradients;
'model|x', 'model|y', 'model|w<i>' (before), 'model|loss', 'model|after<i>', 'model|pred' (after).
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
from bidir_conv_cases import bidir_conv_cases, bidir_conv_model  # noqa: E402


def main():
    rng = np.random.default_rng(13)
    out = {}
    for name, (make, shape, mask_shape) in bidir_conv_cases(L).items():
        layer = make()
        x = rng.standard_normal(shape).astype(np.float32)
        mask = None
        if mask_shape:
            mask = rng.random(mask_shape) > 0.3
            mask[:, 0] = True  # no fully masked row
            mask[0, -1] = False
        layer(x, mask=mask)
        weights = [rng.uniform(-0.6, 0.6, w.shape).astype(np.float32) for w in layer.get_weights()]
        layer.set_weights(weights)
        tx = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(tx)
            res = layer(tx, mask=mask)
            flat = list(res) if isinstance(res, (list, tuple)) else [res]
            rs = [rng.standard_normal(t.shape).astype(np.float32) for t in flat]
            loss = tf.add_n([tf.reduce_sum(t * r) for t, r in zip(flat, rs)])
        grads = tape.gradient(loss, layer.trainable_weights + [tx])
        out[f"{name}|x"] = x
        if mask is not None:
            out[f"{name}|m"] = mask
        for kind, arrays in (("w", weights), ("o", flat), ("r", rs), ("g", grads)):
            for i, a in enumerate(arrays):
                out[f"{name}|{kind}{i}"] = np.asarray(a)
    model = bidir_conv_model(L, keras)
    x = rng.standard_normal((4, 3, 5, 5, 1)).astype(np.float32)
    y = rng.standard_normal((4, 1)).astype(np.float32)
    weights = [rng.uniform(-0.5, 0.5, w.shape).astype(np.float32) for w in model.get_weights()]
    model.set_weights(weights)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="mse")
    out["model|loss"] = np.float32(model.train_on_batch(x, y))
    out["model|x"], out["model|y"] = x, y
    for i, w in enumerate(weights):
        out[f"model|w{i}"] = w
    for i, w in enumerate(model.get_weights()):
        out[f"model|after{i}"] = w
    out["model|pred"] = model.predict(x, verbose=0)
    model.save(os.path.join(DATA, "keras3_bidir_conv.keras"))
    np.savez_compressed(os.path.join(DATA, "keras3_bidir_conv_reference.npz"), **out)
    print("keras", keras.__version__, "wrote", len(out), "arrays")


if __name__ == "__main__":
    main()
