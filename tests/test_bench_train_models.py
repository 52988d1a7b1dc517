"""The training-epoch benchmark's models (kcore/bench/train_models.py): the kcore side is the examples'
model, the PyTorch side has the same layers (equal parameter counts), and both train one epoch."""
import os
import subprocess
import sys

import numpy as np
import pytest

import kcore
from kcore.bench import train_models as tm

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(kcore.__file__)))


def test_cnn_is_the_seed_model_and_trains_an_epoch():
    x, y = tm.cnn_data()
    assert x.shape[1:] == (28, 28, 1) and x.dtype == np.float32 and len(x) == len(y)
    epoch = tm.kcore_cnn_epoch(x[:64], y[:64])
    assert epoch.model.count_params() == 241_546  # the seed's parameter count
    before = [w.copy() for w in epoch.model.get_weights()]
    epoch()
    assert any(not np.array_equal(a, b) for a, b in zip(before, epoch.model.get_weights()))


def test_text_model_matches_the_example_and_trains_an_epoch():
    ids, labels = tm.text_data(samples=64)
    assert ids.shape == (64, 60) and labels.shape == (64, 1)
    epoch = tm.kcore_text_epoch(ids, labels)
    # Embedding 500 x 32, two LSTM(32) directions over 32 features, Dense(64 -> 1)
    assert epoch.model.count_params() == 500 * 32 + 2 * (4 * 32 * (32 + 32) + 4 * 32) + 65
    epoch()


_TORCH_CHECK = """
import torch
from kcore.bench import train_models as tm
count = lambda m: sum(p.numel() for p in m.parameters())
x, y = tm.cnn_data()
cnn = tm.torch_cnn_epoch(torch, x[:64], y[:64])
assert cnn() >= 0
ids, labels = tm.text_data(samples=64)
text = tm.torch_text_epoch(torch, ids, labels)
assert text() >= 0
print(count(cnn.model), count(text.model))
"""


def test_torch_models_have_the_same_layers():
    """In a subprocess: PyTorch brings its own OpenMP runtime, kept out of the test process."""
    pytest.importorskip("torch")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")]))}
    out = subprocess.run([sys.executable, "-c", _TORCH_CHECK], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    cnn, text = map(int, out.stdout.split())
    assert cnn == 241_546
    # PyTorch's LSTM has two bias vectors per direction (Keras one): 2 x 128 more
    assert text == 500 * 32 + 2 * (4 * 32 * (32 + 32) + 2 * 4 * 32) + 65
