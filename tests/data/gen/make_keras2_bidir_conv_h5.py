"""Writes tests/data/keras2/bidir_conv.h5 (+ bidir_conv_io.npz) with Keras 2 (tf_keras): a model over
Bidirectional(ConvLSTM2D) and Bidirectional(ConvLSTM1D), for tests/test_bidirectional_conv.py.

    TF_USE_LEGACY_KERAS=1 /work/refenv/bin/python tests/data/gen/make_keras2_bidir_conv_h5.py
"""
import os

import numpy as np
import tf_keras as keras
from tf_keras import layers

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "keras2")

if __name__ == "__main__":
    rng = np.random.default_rng(11)
    inp = layers.Input((3, 5, 4, 1))
    seq = layers.Bidirectional(layers.ConvLSTM2D(2, 3, padding="same", return_sequences=True),
                               merge_mode="sum")(inp)
    seq = layers.TimeDistributed(layers.Flatten())(seq)  # (batch, 3, 40)
    seq = layers.Reshape((3, 20, 2))(seq)
    out = layers.Bidirectional(layers.ConvLSTM1D(2, 3, strides=2), merge_mode="concat")(seq)
    model = keras.Model(inp, layers.Dense(1)(layers.Flatten()(out)))
    model.set_weights([rng.uniform(-0.5, 0.5, w.shape).astype("float32") for w in model.get_weights()])
    x = rng.standard_normal((2, 3, 5, 4, 1)).astype("float32")
    model.save(os.path.join(OUT, "bidir_conv.h5"))
    np.savez_compressed(os.path.join(OUT, "bidir_conv_io.npz"), x=x, y=model.predict(x, verbose=0))
    print("tf_keras", keras.__version__, "wrote bidir_conv.h5")
