"""Custom objects across kcore and real Keras 3. Run with the reference Python (it imports keras):

    KERAS_BACKEND=tensorflow /work/refenv/bin/python tests/data/gen/make_keras_custom_fixtures.py

1. writes keras3_custom.keras (registered custom layer, activation, loss and metric, and a Lambda
   holding a Python lambda) and keras3_custom_io.npz (input x, Keras's predictions y);
2. loads kcore_custom.keras (written by kcore, see make_kcore_custom_fixture.py) in Keras with the
   same registrations and records Keras's predictions in kcore_custom_keras_io.npz."""
import os
import pathlib

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import ops  # noqa: E402

OUT = pathlib.Path(__file__).resolve().parents[1]


@keras.saving.register_keras_serializable(package="kcoretest")
class ScaleShift(keras.layers.Layer):
    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def build(self, input_shape):
        self.w = self.add_weight(name="w", shape=(input_shape[-1],), initializer="ones")

    def call(self, x):
        return x * self.w * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


@keras.saving.register_keras_serializable(package="kcoretest", name="swishish")
def my_act(x):
    return x * ops.sigmoid(x)


@keras.saving.register_keras_serializable(package="kcoretest")
def my_loss(y, p):
    return ops.mean(ops.square(y - p), axis=-1)


@keras.saving.register_keras_serializable(package="kcoretest")
def my_metric(y, p):
    return ops.mean(ops.abs(y - p), axis=-1)


def keras_fixture():
    model = keras.Sequential([keras.Input((3,)), ScaleShift(3.0), keras.layers.Dense(2, activation=my_act),
                              keras.layers.Lambda(lambda x: x * 2.0 + 1.0)])
    rng = np.random.default_rng(11)
    model.set_weights([rng.standard_normal(w.shape).astype(np.float32) for w in model.get_weights()])
    model.compile(optimizer="adam", loss=my_loss, metrics=[my_metric])
    x = rng.standard_normal((5, 3)).astype(np.float32)
    model.save(OUT / "keras3_custom.keras")
    np.savez(OUT / "keras3_custom_io.npz", x=x, y=model.predict(x, verbose=0))


def load_kcore_fixture():
    model = keras.models.load_model(OUT / "kcore_custom.keras", safe_mode=False)
    assert isinstance(model.layers[0], ScaleShift) and model.layers[0].factor == 3.0
    assert model.layers[1].activation is my_act
    assert model.loss is my_loss, model.loss
    x = np.random.default_rng(12).standard_normal((5, 3)).astype(np.float32)
    np.savez(OUT / "kcore_custom_keras_io.npz", x=x, y=model.predict(x, verbose=0))


if __name__ == "__main__":
    keras_fixture()
    load_kcore_fixture()
