"""Writes tests/data/keras2/kcore_opt_<Optimizer>.h5 fixtures with kcore: a small model trained 3 steps with each
optimizer whose state kcore writes in tf.keras's layout, saved as Keras 2 .h5 (kcore_opt_<Optimizer>.h5), and
kcore_opt_io.npz with the data. Run from the repository root with kcore's Python:

    python tests/data/gen/make_kcore_optimizer_h5.py

then check_kcore_optimizer_h5_in_tf_keras.py with the reference Python: tf_keras loads each file, trains two
more steps and records its weights (kcore_opt_tf_keras.npz), which tests/test_legacy_optimizer_h5.py compares
with kcore resuming from the same file."""
import pathlib
import sys
import warnings

import numpy as np

TESTS = pathlib.Path(__file__).resolve().parents[2]
sys.path[:0] = [str(TESTS.parent), str(TESTS)]
import kcore  # noqa: E402

OPTIMIZERS = {
    "Adam": lambda opt: opt.Adam(0.01, amsgrad=True),
    "AdamW": lambda opt: opt.AdamW(0.01, weight_decay=0.01),
    "RMSprop": lambda opt: opt.RMSprop(0.01, momentum=0.9, centered=True),
    "SGD": lambda opt: opt.SGD(0.05, momentum=0.9),
    "Adadelta": lambda opt: opt.Adadelta(1.0),
    "Adamax": lambda opt: opt.Adamax(0.02),
    "Adagrad": lambda opt: opt.Adagrad(0.1),
}

if __name__ == "__main__":
    warnings.simplefilter("ignore")
    rng = np.random.default_rng(3)
    x = rng.standard_normal((10, 4)).astype("float32")
    y = rng.standard_normal((10, 2)).astype("float32")
    out = TESTS / "data" / "keras2"
    for name, make in OPTIMIZERS.items():
        model = kcore.Sequential([kcore.layers.Input((4,)), kcore.layers.Dense(3, activation="tanh"),
                                  kcore.layers.Dense(2)])
        model.compile(optimizer=make(kcore.optimizers), loss="mse")
        model.fit(x, y, epochs=3, batch_size=10, shuffle=False, verbose=0)
        model.save(out / f"kcore_opt_{name}.h5")
    np.savez_compressed(out / "kcore_opt_io.npz", x=x, y=y)
