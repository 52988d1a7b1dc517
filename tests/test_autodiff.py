"""GradientTape internals: the shared scalar seed of a loss's gradient stays private."""
import numpy as np


def test_shared_scalar_seed_never_reaches_the_caller():
    import kcore
    from kcore.backend import GradientTape

    w = kcore.Variable(np.float32(2.0))
    for _ in range(2):
        with GradientTape() as tape:
            loss = kcore.ops.add(w, 0.0) if _ else w
        g = tape.gradient(loss, w)
        g.numpy()[...] = 7.0  # the caller may write into the array it got
    with GradientTape() as tape:
        loss = kcore.ops.sum(kcore.ops.multiply(w, 3.0))
    assert float(tape.gradient(loss, w)) == 3.0
