"""Loads kcore's kcore_bidir_conv.keras / kcore_bidir_conv1d.keras (make_kcore_bidir_conv_fixture.py) in real
Keras 3 and writes its inputs and predictions to tests/data/kcore_bidir_conv_keras_io.npz:

    KERAS_BACKEND=tensorflow /work/refenv/bin/python tests/data/gen/check_kcore_bidir_conv_in_keras.py
"""
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import keras  # noqa: E402
import numpy as np  # noqa: E402

DATA = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

if __name__ == "__main__":
    rng = np.random.default_rng(6)
    out = {}
    for name, shape in (("kcore_bidir_conv", (3, 3, 5, 5, 1)), ("kcore_bidir_conv1d", (3, 4, 6, 2))):
        model = keras.saving.load_model(os.path.join(DATA, f"{name}.keras"))
        bidir = [layer for layer in model.layers if isinstance(layer, keras.layers.Bidirectional)]
        assert len(bidir) == 2 and all(b.backward_layer.go_backwards for b in bidir), name
        x = rng.standard_normal(shape).astype(np.float32)
        out[f"{name}|x"], out[f"{name}|y"] = x, model.predict(x, verbose=0)
    np.savez_compressed(os.path.join(DATA, "kcore_bidir_conv_keras_io.npz"), **out)
    print("keras", keras.__version__, "loaded both kcore files")
