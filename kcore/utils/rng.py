"""Seeds for kcore's random draws: one global stream, reset by set_random_seed.

numpy.random and Python's random are imported on first use, not with kcore."""
_state = {"rng": None}


def set_random_seed(seed):
    """Seeds Python's, NumPy's and kcore's generators: training becomes bit-identical run to run."""
    import random

    import numpy as np

    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed)
    _state["rng"] = np.random.default_rng(seed)


def generator():
    """The global NumPy Generator (created unseeded on first use)."""
    if _state["rng"] is None:
        import numpy as np

        _state["rng"] = np.random.default_rng()
    return _state["rng"]


def next_seed(seed=None):
    """An explicit seed is used as is; otherwise the next value of the global stream."""
    if seed is not None:
        return int(seed) & 0xFFFFFFFFFFFFFFFF
    return int(generator().integers(0, 2**63 - 1))
