"""Gradient checking against float64 central finite differences."""
import numpy as np

from kcore.backend.autodiff import GradientTape
from kcore.backend.tensor import Tensor, Variable


def gradcheck(fn, inputs, eps=1e-6, atol=1e-6, rtol=1e-5, seed=0, raise_exception=True):
    """Checks the analytic gradient of `fn(*inputs)` w.r.t. every floating input.

    `fn` maps kcore tensors to a tensor; the check differentiates sum(fn(...) * w) for a
    fixed random weighting w, so every output element contributes. Inputs are cast to
    float64. Returns True, or raises AssertionError naming the input and the worst element.
    """
    arrays = [np.array(a, dtype=np.float64) if np.asarray(a).dtype.kind == "f" else np.asarray(a) for a in inputs]
    diff = [i for i, a in enumerate(arrays) if a.dtype == np.float64]
    rng = np.random.default_rng(seed)

    def evaluate(arrs, variables=None):
        args = [variables[i] if variables and i in variables else (Tensor(_native(a)) if a.dtype.kind == "f"
                                                                   else _int_tensor(a)) for i, a in enumerate(arrs)]
        return fn(*args)

    out = evaluate(arrays)
    weights = rng.standard_normal(np.shape(out.numpy()))

    variables = {i: Variable(arrays[i], dtype="float64", name=f"input_{i}") for i in diff}
    with GradientTape() as tape:
        y = evaluate(arrays, variables)
        from kcore.ops import multiply
        from kcore.ops import sum as ksum

        total = ksum(multiply(y, Tensor(_native(weights))))
    grads = tape.gradient(total, [variables[i] for i in diff])

    for i, g in zip(diff, grads):
        analytic = np.zeros_like(arrays[i]) if g is None else g.numpy()
        numeric = np.zeros_like(arrays[i])
        flat = arrays[i].reshape(-1)
        for j in range(flat.size):
            old = flat[j]
            flat[j] = old + eps
            plus = float(np.sum(evaluate(arrays).numpy() * weights))
            flat[j] = old - eps
            minus = float(np.sum(evaluate(arrays).numpy() * weights))
            flat[j] = old
            numeric.reshape(-1)[j] = (plus - minus) / (2 * eps)
        err = np.abs(analytic - numeric)
        bound = atol + rtol * np.abs(numeric)
        if np.any(err > bound):
            k = int(np.argmax(err - bound))
            msg = (f"gradcheck failed for input {i} (shape {arrays[i].shape}): element {k} analytic "
                   f"{analytic.reshape(-1)[k]:.8g} vs numeric {numeric.reshape(-1)[k]:.8g}")
            if raise_exception:
                raise AssertionError(msg)
            return False
    return True


def _native(a):
    from kcore.backend.native import _C

    return _C.from_numpy(np.asarray(a, order="C"))


def _int_tensor(a):
    return Tensor(_native(a))
