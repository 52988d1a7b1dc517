"""Writes tests/data/keras3_new_layers.keras and keras3_new_layers_io.npz with real Keras 3 (TensorFlow): a model
using Rescaling, an adapted Normalization, GroupNormalization, RMSNormalization, UnitNormalization, Identity and a
hard_silu activation, compiled with Lion on a PolynomialDecay schedule, trained a little and saved with its
optimizer state; the io file holds inputs and Keras's predictions.

Not part of the test run. Run with the reference environment:
    KERAS_BACKEND=tensorflow /work/refenv/bin/python tests/data/gen/make_keras_new_layers_file.py
"""
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def main():
    keras.utils.set_random_seed(3)
    rng = np.random.default_rng(3)
    x = rng.normal(5, 2, (32, 6, 4)).astype("float32")
    y = rng.integers(0, 3, 32)
    norm = keras.layers.Normalization(axis=-1)
    norm.adapt(x)
    model = keras.Sequential([
        keras.Input((6, 4)), keras.layers.Rescaling(0.5, offset=0.1), norm,
        keras.layers.Conv1D(8, 3, padding="same"), keras.layers.GroupNormalization(groups=4),
        keras.layers.Activation("hard_silu"), keras.layers.RMSNormalization(), keras.layers.Identity(),
        keras.layers.GlobalAveragePooling1D(), keras.layers.UnitNormalization(),
        keras.layers.Dense(3, activation="softmax")])
    schedule = keras.optimizers.schedules.PolynomialDecay(0.01, 20, end_learning_rate=0.001)
    model.compile(optimizer=keras.optimizers.Lion(schedule), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    model.save(os.path.join(HERE, "keras3_new_layers.keras"))
    np.savez(os.path.join(HERE, "keras3_new_layers_io.npz"), x=x, y=y, pred=model.predict(x, verbose=0),
             iterations=int(model.optimizer.iterations.numpy()))
    print("saved")


if __name__ == "__main__":
    main()
