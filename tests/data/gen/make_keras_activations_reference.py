"""Writes tests/data/keras3_activations.npz: every keras.activations function, its value and the gradient of
sum(y * r), on inputs that include the branch points (-1, -0.5, 0, 0.5, 1), with real Keras 3 (TensorFlow).

Not part of the test run. Run with the reference environment:
    KERAS_BACKEND=tensorflow /work/refenv/bin/python tests/data/gen/make_keras_activations_reference.py
"""
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras.src.activations import ALL_OBJECTS_DICT  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "keras3_activations.npz")
ARGS = {"threshold": {"threshold": 0.3, "default_value": -2.0}}


def main():
    rng = np.random.default_rng(7)
    points = np.array([-1.0, -0.5, 0.0, 0.5, 1.0, -3.0, 3.0, 8.0], np.float32)
    x = np.concatenate([points[None], rng.normal(0, 2, (3, 8)).astype(np.float32)])  # (4, 8)
    r = rng.normal(0, 1, (4, 8)).astype(np.float32)
    out = {"x": x, "r": r}
    for name in sorted(ALL_OBJECTS_DICT):
        fn = ALL_OBJECTS_DICT[name]
        t = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(t)
            y = fn(t, **ARGS.get(name, {}))
            rr = tf.constant(r[:, : y.shape[-1]])
            s = tf.reduce_sum(y * rr)
        out[f"y_{name}"] = np.asarray(y)
        out[f"g_{name}"] = np.asarray(tape.gradient(s, t))
        out[f"name_{name}"] = np.array(keras.activations.serialize(fn))
    np.savez(OUT, **out)
    print("wrote", OUT, len(ALL_OBJECTS_DICT), "activations")


if __name__ == "__main__":
    main()
