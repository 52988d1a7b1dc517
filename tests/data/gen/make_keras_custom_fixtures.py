"""Custom objects across kcore and real Keras 3. Run with the reference Python (it imports keras):

    KERAS_BACKEND=tensorflow /work/refenv/bin/python tests/data/gen/make_keras_custom_fixtures.py

1. writes keras3_custom.keras (registered custom layer, activation, loss and metric, and a Lambda
   holding a Python lambda) and keras3_custom_io.npz (input x, Keras's predictions y);
2. loads kcore_custom.keras (written by kcore, see make_kcore_custom_fixture.py) in Keras with the
   same registrations and records Keras's predictions in kcore_custom_keras_io.npz."""
import os
import pathlib
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import keras  # noqa: E402
import numpy as np  # noqa: E402

TESTS = pathlib.Path(__file__).resolve().parents[2]
OUT = TESTS / "data"
sys.path.insert(0, str(TESTS))
from custom_objects import define  # noqa: E402

CUSTOM = define(keras)


def keras_fixture():
    rng = np.random.default_rng(11)
    model = CUSTOM["build"](rng)
    x = rng.standard_normal((5, 3)).astype(np.float32)
    model.save(OUT / "keras3_custom.keras")
    np.savez(OUT / "keras3_custom_io.npz", x=x, y=model.predict(x, verbose=0))


def load_kcore_fixture():
    model = keras.models.load_model(OUT / "kcore_custom.keras", safe_mode=False)
    assert isinstance(model.layers[0], CUSTOM["ScaleShift"]) and model.layers[0].factor == 3.0
    assert model.layers[1].activation is CUSTOM["my_act"]
    assert model.loss is CUSTOM["my_loss"], model.loss
    x = np.random.default_rng(12).standard_normal((5, 3)).astype(np.float32)
    np.savez(OUT / "kcore_custom_keras_io.npz", x=x, y=model.predict(x, verbose=0))


if __name__ == "__main__":
    keras_fixture()
    load_kcore_fixture()
