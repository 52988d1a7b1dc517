"""Regenerates keras3_groupconv_reference.npz and keras3_depthwise.keras (+ _io.npz), the real-Keras
values tests/test_depthwise_layers.py compares kcore against.

Needs Keras 3 with the TensorFlow backend (not needed to run the tests):
    KERAS_BACKEND=tensorflow python tests/data/make_keras_groupconv_reference.py
For each case <i>: the layer's class and config (JSON, key case<i>_layer), an input batch x,
the layer's weights w0, w1, ... (get_weights order), a fixed weighting r of the output, the
output y and the gradients of sum(y * r) w.r.t. x (gx) and each weight (gw0, gw1, ...).
Everything in float64 except the cases whose config asks for float32.
"""
import json
import os
from pathlib import Path

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

L = keras.layers
HERE = Path(__file__).resolve().parent

# (layer class, layer kwargs, input shape)
CASES = [
    ("Conv2D", dict(filters=6, kernel_size=3, padding="same", groups=2), (2, 7, 6, 4)),
    ("Conv2D", dict(filters=8, kernel_size=(2, 2), strides=2, padding="same", groups=4), (1, 8, 7, 8)),
    ("Conv2D", dict(filters=4, kernel_size=(3, 2), dilation_rate=(2, 1), groups=4, use_bias=False), (2, 9, 6, 8)),
    ("Conv2D", dict(filters=8, kernel_size=1, groups=2), (2, 3, 4, 6)),
    ("Conv1D", dict(filters=4, kernel_size=3, dilation_rate=2, padding="causal", groups=2), (2, 10, 4)),
    ("Conv1D", dict(filters=8, kernel_size=4, strides=2, padding="same", groups=4), (1, 11, 8)),
    ("Conv3D", dict(filters=4, kernel_size=2, padding="same", groups=2), (1, 5, 4, 3, 4)),
    ("DepthwiseConv2D", dict(kernel_size=3, strides=2, padding="same", depth_multiplier=2), (1, 7, 8, 3)),
    ("DepthwiseConv2D", dict(kernel_size=(2, 2), padding="same", dilation_rate=2, bias_initializer="random_normal"),
     (2, 6, 5, 4)),
    ("DepthwiseConv2D", dict(kernel_size=(3, 1), depth_multiplier=3, use_bias=False), (2, 5, 4, 2)),
    ("DepthwiseConv1D", dict(kernel_size=3, depth_multiplier=2, dilation_rate=2), (2, 9, 3)),
    ("DepthwiseConv1D", dict(kernel_size=4, strides=3, padding="same", bias_initializer="random_normal"), (1, 10, 5)),
    ("SeparableConv2D", dict(filters=5, kernel_size=3, strides=2, padding="same", depth_multiplier=2,
                             bias_initializer="random_normal"), (2, 7, 6, 3)),
    ("SeparableConv2D", dict(filters=4, kernel_size=(2, 3), dilation_rate=(1, 2), use_bias=False), (1, 6, 8, 2)),
    ("SeparableConv1D", dict(filters=3, kernel_size=4, padding="same", bias_initializer="random_normal"), (2, 9, 4)),
    ("SeparableConv1D", dict(filters=6, kernel_size=2, strides=2, depth_multiplier=3), (1, 8, 2)),
    ("DepthwiseConv2D", dict(kernel_size=3, padding="same", depth_multiplier=2, data_format="channels_first"),
     (2, 3, 6, 5)),
    # strides > 1 with dilation_rate > 1: accepted by Keras 3's depthwise and separable layers
    ("DepthwiseConv2D", dict(kernel_size=(3, 2), strides=2, dilation_rate=2, padding="same"), (1, 9, 8, 2)),
    ("SeparableConv1D", dict(filters=2, kernel_size=3, strides=2, dilation_rate=2, depth_multiplier=2), (2, 12, 3)),
]


def run_case(i, cls_name, kwargs, shape, rng, out):
    layer = getattr(L, cls_name)(dtype="float64", **kwargs)
    x = rng.standard_normal(shape)
    layer.build(shape)
    weights = [rng.standard_normal(w.shape) * 0.5 for w in layer.get_weights()]
    layer.set_weights(weights)
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        y = layer(xt)
        r = tf.constant(np.random.default_rng(100 + i).standard_normal(y.shape))
        total = tf.reduce_sum(y * r)
    grads = tape.gradient(total, [xt] + [v.value for v in layer.weights])
    out[f"case{i}_layer"] = json.dumps({"class_name": cls_name, "config": layer.get_config()})
    out[f"case{i}_x"] = x
    out[f"case{i}_r"] = r.numpy()
    out[f"case{i}_y"] = y.numpy()
    out[f"case{i}_gx"] = grads[0].numpy()
    for j, (w, g) in enumerate(zip(weights, grads[1:])):
        out[f"case{i}_w{j}"] = w
        out[f"case{i}_gw{j}"] = g.numpy()


def saved_model():
    """A small model with every new layer, saved as a real Keras 3 archive."""
    model = keras.Sequential([
        keras.Input((10, 9, 4)), L.Conv2D(8, 3, padding="same", groups=2, activation="relu"),
        L.DepthwiseConv2D(3, depth_multiplier=2, strides=2, depthwise_regularizer="l2", bias_initializer="ones"),
        L.SeparableConv2D(6, (2, 2), padding="same", depth_multiplier=2, pointwise_constraint="max_norm",
                          bias_initializer="random_normal"),
        L.Reshape((-1, 6)), L.DepthwiseConv1D(3, padding="same"), L.SeparableConv1D(3, 2, strides=2),
        L.GlobalAveragePooling1D(),
    ])
    x = np.random.default_rng(7).standard_normal((3, 10, 9, 4)).astype("float32")
    model.save(HERE / "keras3_depthwise.keras")
    np.savez(HERE / "keras3_depthwise_io.npz", x0=x, y0=model.predict(x, verbose=0))


def main():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    out = {"cases": np.array(len(CASES))}
    for i, (cls_name, kwargs, shape) in enumerate(CASES):
        run_case(i, cls_name, kwargs, shape, rng, out)
    np.savez_compressed(HERE / "keras3_groupconv_reference.npz", **out)
    saved_model()


if __name__ == "__main__":
    main()
