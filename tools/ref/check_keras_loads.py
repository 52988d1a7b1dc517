"""Loads every kcore-written .keras file of a folder in real Keras 3 and compares predictions with kcore's.

    KERAS_BACKEND=tensorflow /work/refenv/bin/python tools/ref/check_keras_loads.py OUT_DIR
Prints one line per file: OK with the largest difference, or the error Keras raised.
"""
import glob
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import keras  # noqa: E402
import numpy as np  # noqa: E402


def main(folder):
    failures = 0
    for path in sorted(glob.glob(os.path.join(folder, "*.keras"))):
        name = os.path.basename(path)[:-len(".keras")]
        io = np.load(os.path.join(folder, f"{name}_io.npz"))
        try:
            model = keras.saving.load_model(path)
            x = io["x"] if "x" in io else [io[f"x{i}"] for i in range(len(io.files) - 1)]
            got = model.predict(x, verbose=0)
            diff = float(np.max(np.abs(np.asarray(got) - io["y"])))
            ok = diff < 1e-4
            print(f"{'OK  ' if ok else 'DIFF'} {name}: max |keras - kcore| = {diff:.2e}")
            failures += not ok
        except Exception as e:  # report and continue with the next file
            print(f"FAIL {name}: {type(e).__name__}: {str(e)[:400]}")
            failures += 1
    print(f"keras {keras.__version__}: {failures} failure(s)")
    return failures


if __name__ == "__main__":
    sys.exit(1 if main(sys.argv[1]) else 0)
