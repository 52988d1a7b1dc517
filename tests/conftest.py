import numpy as np
import pytest

import kcore


@pytest.fixture(autouse=True)
def _fresh_names_and_seed():
    kcore.backend.clear_session()
    kcore.utils.set_random_seed(1234)
    yield


@pytest.fixture
def rng():
    return np.random.default_rng(0)
