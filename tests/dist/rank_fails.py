"""Rank 1 dies of an exception before training; the job must end (non-zero), not hang in a collective."""
import numpy as np

import kcore
from kcore import distribution as dist

dist.initialize()
dist.set_distribution(dist.DataParallel())
model = kcore.Sequential([kcore.layers.Input((3,)), kcore.layers.Dense(1)])
model.compile("sgd", "mse")
if dist.process_id() == 1:
    raise RuntimeError("rank 1 fails on purpose")
model.fit(np.ones((8, 3), "float32"), np.ones((8, 1), "float32"), batch_size=4, epochs=1, verbose=0)
