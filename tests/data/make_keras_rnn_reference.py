"""Regenerates keras3_rnn_reference.json with real Keras 3 (TensorFlow backend).

Not part of the test run: kcore's tests only read the JSON. Run with an environment that
has Keras 3 installed:  python tests/data/make_keras_rnn_reference.py
"""
import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import keras  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from rnn_reference_cases import reference_cases  # noqa: E402

CASES = reference_cases(keras.layers)


def main():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 6, 4)).astype(np.float32)
    mask = np.array([[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1], [1, 1, 0, 0, 0, 0]], bool)
    results = {}
    for name, make in CASES.items():
        for masked in (False, True):
            layer = make()
            out = layer(x, mask=mask if masked else None)
            outs = out if isinstance(out, (list, tuple)) else [out]
            results[f"{name}|{int(masked)}"] = {
                "weights": [np.round(w, 7).tolist() for w in layer.get_weights()],
                "outputs": [np.round(np.asarray(o), 7).tolist() for o in outs],
            }
    path = os.path.join(os.path.dirname(__file__), "keras3_rnn_reference.json")
    with open(path, "w") as f:
        json.dump({"keras": keras.__version__, "x": x.tolist(), "mask": mask.tolist(), "cases": results}, f)


if __name__ == "__main__":
    main()
