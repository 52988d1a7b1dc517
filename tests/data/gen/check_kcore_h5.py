"""Loads the kcore-written Keras 2 .h5 fixtures in tf_keras and Keras 3 and records their predictions.

The fixtures tests/data/keras2/kcore_*.h5 were written by kcore's model.save from the tf_keras models
nested.h5 and rnn.h5 loaded in kcore, from the worktree root:
    python -c "import kcore; [kcore.models.load_model(f'tests/data/keras2/{n}.h5')
               .save(f'tests/data/keras2/kcore_{n}.h5') for n in ('nested', 'rnn')]"
Then run with the reference venv:
    KERAS_BACKEND=tensorflow /work/refenv/bin/python tests/data/gen/check_kcore_h5.py
It writes kcore_<name>_ref.npz with y_tf_keras and y_keras3 (predictions on <name>_io.npz's inputs)."""
import os

import numpy as np

DATA = os.path.join(os.path.dirname(__file__), "..", "keras2")


def main():
    import keras
    import tf_keras

    for name in ("nested", "rnn"):
        io = np.load(os.path.join(DATA, f"{name}_io.npz"))
        x = io["x0"]
        path = os.path.join(DATA, f"kcore_{name}.h5")
        out = {}
        for label, lib in (("tf_keras", tf_keras), ("keras3", keras)):
            model = lib.models.load_model(path)
            out[f"y_{label}"] = model.predict(x, verbose=0)
            print(name, label, "max |y - y_original| =", float(np.abs(out[f"y_{label}"] - io["y"]).max()))
        np.savez(os.path.join(DATA, f"kcore_{name}_ref.npz"), **out)


if __name__ == "__main__":
    main()
