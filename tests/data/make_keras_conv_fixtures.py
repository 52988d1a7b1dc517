"""Regenerates the real-Keras conv/pool/transposed-conv fixtures used by tests/test_conv_layers.py.

Needs Keras 3 with the TensorFlow backend (not needed to run the tests):
    KERAS_BACKEND=tensorflow python tests/data/make_keras_conv_fixtures.py
Each model is saved as keras3_<name>.keras with an input batch and Keras's predictions in
keras3_<name>_io.npz (keys x0, y0).
"""
import os
from pathlib import Path

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import keras  # noqa: E402

L = keras.layers
HERE = Path(__file__).resolve().parent


def conv2d_functional():
    inp = keras.Input((12, 10, 3))
    x = L.ZeroPadding2D(((1, 0), (2, 1)))(inp)
    x = L.Conv2D(8, 3, strides=2, padding="same", activation="relu", kernel_regularizer="l2")(x)
    x = L.UpSampling2D((2, 1))(x)
    x = L.AveragePooling2D(3, 1, padding="same")(x)
    x = L.MaxPooling2D(2)(x)
    x = L.Conv2D(4, (2, 2), dilation_rate=(2, 1), bias_initializer="random_normal")(x)
    up = L.Conv2DTranspose(16, 3, strides=2, padding="same", bias_initializer="random_normal")(x)
    up = L.Conv2DTranspose(5, (2, 3), strides=(1, 2), output_padding=(0, 1), activation="relu")(up)
    merged = L.Concatenate()([L.GlobalAveragePooling2D()(x), L.GlobalMaxPooling2D()(up)])
    return keras.Model(inp, L.Dense(2)(merged)), (4, 12, 10, 3)


def conv1d_sequential():
    return keras.Sequential([
        keras.Input((20, 4)), L.Conv1D(6, 3, padding="causal", dilation_rate=2, bias_initializer="random_normal"),
        L.ZeroPadding1D(1), L.MaxPooling1D(3, 2, padding="same"), L.UpSampling1D(2), L.Conv1D(3, 2, strides=2),
        L.AveragePooling1D(2, padding="same"), L.Conv1DTranspose(4, 3, strides=2, dilation_rate=1),
        L.GlobalAveragePooling1D(),
    ]), (4, 20, 4)


def conv3d_sequential():
    return keras.Sequential([
        keras.Input((6, 6, 6, 2)), L.Conv3D(4, 2, padding="same", bias_initializer="random_normal"),
        L.MaxPooling3D(), L.AveragePooling3D(2, 1, padding="same"), L.ZeroPadding3D(1), L.Conv3D(2, 3, strides=2),
        L.Conv3DTranspose(3, 2, strides=2, padding="same"), L.GlobalMaxPooling3D(),
    ]), (3, 6, 6, 6, 2)


def main():
    rng = np.random.default_rng(0)
    for name, build in [("conv2d", conv2d_functional), ("conv1d", conv1d_sequential), ("conv3d", conv3d_sequential)]:
        keras.utils.set_random_seed(1)
        model, shape = build()
        x = rng.standard_normal(shape).astype("float32")
        model.save(HERE / f"keras3_{name}.keras")
        np.savez(HERE / f"keras3_{name}_io.npz", x0=x, y0=model.predict(x, verbose=0))


if __name__ == "__main__":
    main()
