"""Writes tests/data/kcore_custom.keras with kcore: a registered custom layer, activation, loss and
metric (tests/custom_objects.py) and a Lambda holding a Python lambda. Run from the repository root
with kcore's Python:

    python tests/data/gen/make_kcore_custom_fixture.py

then run make_keras_custom_fixtures.py with the reference (Keras 3) Python, which loads this file
in real Keras and records its predictions (kcore_custom_keras_io.npz)."""
import pathlib
import sys

import numpy as np

TESTS = pathlib.Path(__file__).resolve().parents[2]
sys.path[:0] = [str(TESTS.parent), str(TESTS)]
from custom_objects import define  # noqa: E402

import kcore  # noqa: E402

if __name__ == "__main__":
    define(kcore)["build"](np.random.default_rng(7)).save(TESTS / "data" / "kcore_custom.keras")
