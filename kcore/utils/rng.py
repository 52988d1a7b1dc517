"""Seeds for kcore's random draws: one global stream, reset by set_random_seed."""
import random

import numpy as np

_state = {"rng": np.random.default_rng()}


def set_random_seed(seed):
    """Seeds Python's, NumPy's and kcore's generators: training becomes bit-identical run to run."""
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed)
    _state["rng"] = np.random.default_rng(seed)


def generator():
    return _state["rng"]


def next_seed(seed=None):
    """An explicit seed is used as is; otherwise the next value of the global stream."""
    if seed is not None:
        return int(seed) & 0xFFFFFFFFFFFFFFFF
    return int(_state["rng"].integers(0, 2**63 - 1))
