"""Writes tests/data/keras3_preprocessing.npz: outputs, weights and configs of Normalization (adapted on an array
or on batches, or given mean/variance), Rescaling, UnitNormalization and Identity in real Keras 3 (TensorFlow).

Not part of the test run. Run with the reference environment:
    KERAS_BACKEND=tensorflow /work/refenv/bin/python tests/data/gen/make_keras_preprocessing_reference.py
"""
import json
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "keras3_preprocessing.npz")
CASES = {  # name: (class, kwargs, how it is adapted)
    "norm_adapt": ("Normalization", {}, "adapt"),
    "norm_adapt_axes": ("Normalization", {"axis": (1, 2)}, "adapt"),
    "norm_adapt_none": ("Normalization", {"axis": None}, "adapt"),
    "norm_adapt_batches": ("Normalization", {"axis": 1}, "batches"),
    "norm_given": ("Normalization", {"mean": [1.0, 2.0, 3.0], "variance": [4.0, 1.0, 9.0]}, None),
    "norm_given_scalar": ("Normalization", {"axis": None, "mean": 2.0, "variance": 4.0}, None),
    "norm_invert": ("Normalization", {"invert": True}, "adapt"),
    "rescale": ("Rescaling", {"scale": 1 / 255.0, "offset": -1.0}, None),
    "rescale_vec": ("Rescaling", {"scale": [1.0, 2.0, 3.0], "offset": 0.5}, None),
    "unit": ("UnitNormalization", {}, None),
    "unit_axes": ("UnitNormalization", {"axis": [1, 2]}, None),
    "identity": ("Identity", {}, None),
}


def main():
    x = np.random.default_rng(0).normal(2, 3, (8, 4, 3)).astype("float32")
    out, configs = {"x": x}, {}
    for name, (cls, kwargs, mode) in CASES.items():
        layer = getattr(keras.layers, cls)(**kwargs)
        if mode == "adapt":
            layer.adapt(x)
        elif mode == "batches":
            layer.adapt([x[:3], x[3:5], x[5:]])
        out[f"{name}_y"] = np.asarray(layer(x))
        for i, w in enumerate(layer.get_weights()):
            out[f"{name}_w{i}"] = np.asarray(w)
        config = layer.get_config()
        config.pop("name")
        configs[name] = json.loads(json.dumps(config, default=lambda o: list(o) if isinstance(o, tuple) else str(o)))
    np.savez(OUT, configs=json.dumps(configs), cases=json.dumps(CASES), **out)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
