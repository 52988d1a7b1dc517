"""Writes tests/data/kcore_bidir_conv.keras and kcore_bidir_conv1d.keras with kcore (models over
Bidirectional(ConvLSTM2D/1D), random weights). Run from the repository root with kcore's Python:

    python tests/data/gen/make_kcore_bidir_conv_fixture.py

then check_kcore_bidir_conv_in_keras.py with the reference (Keras 3) Python: it loads both files in real
Keras and records its predictions (kcore_bidir_conv_keras_io.npz), which tests/test_bidirectional_conv.py
compares with kcore's."""
import pathlib
import sys

import numpy as np

TESTS = pathlib.Path(__file__).resolve().parents[2]
sys.path[:0] = [str(TESTS.parent), str(TESTS)]
from bidir_conv_cases import bidir_conv1d_model, bidir_conv_model  # noqa: E402

import kcore  # noqa: E402

if __name__ == "__main__":
    rng = np.random.default_rng(5)
    for name, build in (("kcore_bidir_conv", bidir_conv_model), ("kcore_bidir_conv1d", bidir_conv1d_model)):
        model = build(kcore.layers, kcore)
        model.set_weights([rng.uniform(-0.5, 0.5, w.shape).astype(np.float32) for w in model.get_weights()])
        model.save(TESTS / "data" / f"{name}.keras")
