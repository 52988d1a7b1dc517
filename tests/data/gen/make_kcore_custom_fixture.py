"""Writes tests/data/kcore_custom.keras with kcore: registered custom layer, activation, loss and
metric, and a Lambda holding a Python lambda. Run from the repository root with kcore's Python:

    python tests/data/gen/make_kcore_custom_fixture.py

then run make_keras_custom_fixtures.py with the reference (Keras 3) Python, which loads this file
in real Keras and records its predictions (kcore_custom_keras_io.npz)."""
import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[3]))
import kcore  # noqa: E402
from kcore import layers, ops  # noqa: E402

OUT = pathlib.Path(__file__).resolve().parents[1]


@kcore.saving.register_keras_serializable(package="kcoretest")
class ScaleShift(layers.Layer):
    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def build(self, input_shape):
        self.w = self.add_weight(name="w", shape=(input_shape[-1],), initializer="ones")

    def call(self, x):
        return ops.multiply(ops.multiply(x, self.w), self.factor)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


@kcore.saving.register_keras_serializable(package="kcoretest", name="swishish")
def my_act(x):
    return ops.multiply(x, ops.sigmoid(x))


@kcore.saving.register_keras_serializable(package="kcoretest")
def my_loss(y, p):
    return ops.mean(ops.square(ops.subtract(y, p)), axis=-1)


@kcore.saving.register_keras_serializable(package="kcoretest")
def my_metric(y, p):
    return np.mean(np.abs(np.asarray(y) - np.asarray(p)), axis=-1)


def build():
    model = kcore.Sequential([kcore.Input((3,)), ScaleShift(3.0), layers.Dense(2, activation=my_act),
                              layers.Lambda(lambda x: x * 2.0 + 1.0)])
    rng = np.random.default_rng(7)
    model.set_weights([rng.standard_normal(w.shape).astype(np.float32) for w in model.get_weights()])
    model.compile(optimizer="adam", loss=my_loss, metrics=[my_metric])
    return model


if __name__ == "__main__":
    build().save(OUT / "kcore_custom.keras")
