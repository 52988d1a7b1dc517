"""Checks the other direction of tests/test_keras_optimizer_files.py with real Keras 3: kcore loads each Keras file in
tests/data/keras3_optimizer_files and saves it again; Keras loads kcore's file and must hold the same optimizer state
and take the same next batch.

Not part of the test run. From the repository root, first with kcore's Python:
    python -c "import json, kcore; D='tests/data/keras3_optimizer_files'; [kcore.models.load_model(f'{D}/{n}.keras')
               .save(f'/tmp/optback_{n}.keras') for n in json.load(open(f'{D}/setups.json'))]"
then with the reference environment:
    KERAS_BACKEND=tensorflow /work/refenv/bin/python tests/data/gen/check_kcore_optimizer_files_in_keras.py
"""
import json
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "keras3_optimizer_files")


def main():
    for name in json.load(open(os.path.join(DATA, "setups.json"))):
        ref = np.load(os.path.join(DATA, f"{name}.npz"))
        model = keras.models.load_model(f"/tmp/optback_{name}.keras")
        state = [np.asarray(v.numpy()) for v in model.optimizer.variables]
        same = len(state) == int(ref["n_state"]) and all(
            np.allclose(a, ref[f"state{i}"], rtol=1e-6, atol=1e-7) for i, a in enumerate(state))
        model.train_on_batch(ref["x"][20:], ref["y"][20:])
        gap = max(np.abs(w - ref[f"after{i}"]).max() for i, w in enumerate(model.get_weights()))
        print(f"{name:22s} state as saved by Keras: {same}; next batch max |diff| {gap:.1e}")


if __name__ == "__main__":
    main()
