"""Loads kcore's kcore_opt_<Optimizer>.h5 files (make_kcore_optimizer_h5.py) in tf_keras, which restores the
optimizer state from their `optimizer_weights` group, trains two more full-batch steps and writes the weights
to tests/data/keras2/kcore_opt_tf_keras.npz ('<Optimizer>|w<i>', and '<Optimizer>|iterations' as loaded):

    TF_USE_LEGACY_KERAS=1 /work/refenv/bin/python tests/data/gen/check_kcore_optimizer_h5_in_tf_keras.py
"""
import glob
import os

import numpy as np
import tf_keras as keras

DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "keras2")

if __name__ == "__main__":
    io = np.load(os.path.join(DIR, "kcore_opt_io.npz"))
    out = {}
    for path in sorted(glob.glob(os.path.join(DIR, "kcore_opt_*.h5"))):
        name = os.path.basename(path)[len("kcore_opt_"):-3]
        model = keras.models.load_model(path)
        out[f"{name}|iterations"] = np.int64(model.optimizer.iterations.numpy())
        model.fit(io["x"], io["y"], epochs=2, batch_size=10, shuffle=False, verbose=0)
        for i, w in enumerate(model.get_weights()):
            out[f"{name}|w{i}"] = w
    np.savez_compressed(os.path.join(DIR, "kcore_opt_tf_keras.npz"), **out)
    print("tf_keras", keras.__version__, "resumed", len(out) // 5, "files")
