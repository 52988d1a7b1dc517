"""Case generators for tools/fuzz.py: odd inputs to kcore.ops, layers, models and file loaders.

Every case is a pure function of (seed, index): `run_case(seed, index)` rebuilds it from a
generator seeded with both, runs it in this process and returns (outcome, detail):

- "pass": kcore returned a result (checked against NumPy where an oracle exists) or raised an
  accepted exception type whose message names the op / layer / file;
- "unhelpful": any other exception, or an accepted type whose message names nothing;
- "mismatch": kcore returned a result NumPy disagrees with (a silent wrong answer), or
  accepted an input NumPy rejects.

Crashes (signals) and hangs (timeouts) are seen by the runner in tools/fuzz.py.
"""
import os
import re
import tempfile
import warnings

import numpy as np

ACCEPTED = (ValueError, TypeError, NotImplementedError, OSError, MemoryError)

# -- random values ------------------------------------------------------------------

_DTYPES = ["float32"] * 6 + ["float64"] * 2 + ["int32", "int64", "uint8", "uint32", "uint64", "bool", "float16",
                                               "complex64", "int8"]
_SPECIALS = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e30, -1e30, 1e-40, 4e9, 2.0 ** 63]


def rand_shape(rng, max_rank=4, max_dim=4):
    rank = int(rng.integers(0, max_rank + 1))
    return tuple(int(rng.integers(0, max_dim + 1)) if rng.random() < 0.15 else int(rng.integers(1, max_dim + 1))
                 for _ in range(rank))


def rand_array(rng, shape=None, dtype=None):
    """A NumPy array, sometimes read-only, strided, a broadcast view or holding special values."""
    shape = rand_shape(rng) if shape is None else shape
    dtype = dtype or _DTYPES[int(rng.integers(len(_DTYPES)))]
    a = rng.standard_normal(shape) * (10.0 if rng.random() < 0.3 else 1.0)
    if a.size and rng.random() < 0.15:
        flat = a.reshape(-1)
        flat[int(rng.integers(flat.size))] = _SPECIALS[int(rng.integers(len(_SPECIALS)))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if dtype.startswith("complex"):
            a = a + 1j * rng.standard_normal(shape)
        a = np.asarray(a.astype(dtype) if dtype != "uint32" or rng.random() < 0.5
                       else np.full(shape, 4_000_000_000, np.uint32))
    r = rng.random()
    if r < 0.1 and a.ndim >= 2:
        a = np.ascontiguousarray(a.swapaxes(0, 1)).swapaxes(0, 1)  # non-contiguous view, same values
    elif r < 0.2:
        a = a.copy()
        a.flags.writeable = False
    elif r < 0.27 and a.ndim >= 1 and a.size:
        a = np.broadcast_to(a[:1], a.shape)  # read-only, zero strides
    return a


def rand_value(rng):
    """An op argument: mostly arrays; sometimes Python scalars, lists, None or strings."""
    r = rng.random()
    if r < 0.8:
        return rand_array(rng)
    choices = [0, 1, -1, 2.5, True, 2 ** 63, 2 ** 64, 1e300, float("nan"), None, "x", [1, 2, 3], [[1, 2], [3]],
               [], (), 1 + 2j, {"a": 1}]
    return choices[int(rng.integers(len(choices)))]


def _ndim(x):
    try:
        return np.ndim(x)
    except ValueError:  # a ragged list
        return 1


def rand_axis(rng, ndim):
    choices = [None, 0, 1, -1, ndim, -ndim - 1, ndim + 3, 1.5, 0.0, (), (0,), (0, 1), (-1, 0), (0, 0), [0],
               "0", 2 ** 63, True]
    if ndim > 0:
        choices += [int(rng.integers(-ndim, ndim))] * 6
    return choices[int(rng.integers(len(choices)))]


# -- ops ------------------------------------------------------------------------------

def _np_reduce(fn):
    def ref(x, axis=None, keepdims=False):
        if isinstance(axis, list):
            axis = tuple(axis)
        return fn(np.asarray(x, dtype=np.float64), axis=axis, keepdims=keepdims)
    return ref


def _np_one_hot(x, n):
    x = np.asarray(x)
    if x.dtype.kind not in "iu" or not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
        raise ValueError("invalid")
    out = np.zeros(x.shape + (n,))
    for idx in np.ndindex(x.shape):
        if 0 <= x[idx] < n:
            out[idx + (int(x[idx]),)] = 1
    return out


def _np_axis_fn(fn):
    def ref(x, axis):
        if isinstance(axis, list):
            axis = tuple(axis)
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer, tuple)):
            raise TypeError("axis")
        return fn(np.asarray(x), axis)
    return ref


# name -> (arity, extra-argument generator, NumPy oracle or None)
def _op_table():
    unary = ["exp", "log", "sqrt", "square", "abs", "tanh", "sigmoid", "relu", "negative", "softplus", "sign",
             "sin", "cos", "reciprocal", "relu6", "selu", "silu", "gelu", "elu", "softsign", "log_sigmoid"]
    binary = ["add", "subtract", "multiply", "divide", "power", "maximum", "minimum"]
    table = {n: (1, None, getattr(np, n, None) if n in ("exp", "square", "abs", "negative", "sign", "sin", "cos")
                 else None) for n in unary}
    table.update({n: (2, None, getattr(np, n) if n != "divide" else np.divide) for n in binary})
    for n, fn in (("sum", np.sum), ("mean", np.mean), ("max", np.max), ("min", np.min)):
        table[n] = (1, lambda rng, x: {"axis": rand_axis(rng, _ndim(x)), "keepdims": bool(rng.random() < 0.3)},
                    _np_reduce(fn))
    table["argmax"] = (1, lambda rng, x: {"axis": rand_axis(rng, _ndim(x))}, None)
    table["softmax"] = (1, lambda rng, x: {"axis": rand_axis(rng, _ndim(x))}, None)
    table["log_softmax"] = table["softmax"]
    table["transpose"] = (1, lambda rng, x: {"axes": _rand_perm(rng, _ndim(x))},
                          lambda x, axes: np.transpose(np.asarray(x), axes))
    table["expand_dims"] = (1, lambda rng, x: {"axis": rand_axis(rng, _ndim(x))}, _np_axis_fn(np.expand_dims))
    table["squeeze"] = (1, lambda rng, x: {"axis": rand_axis(rng, _ndim(x))}, None)
    table["reshape"] = (1, lambda rng, x: {"new_shape": _rand_new_shape(rng, x)},
                        lambda x, new_shape: np.reshape(np.asarray(x), new_shape))
    table["flatten"] = (1, None, None)
    table["concatenate"] = ("list", lambda rng, xs: {"axis": rand_axis(rng, _ndim(xs[0]) if xs else 0)}, None)
    table["stack"] = ("list", lambda rng, xs: {"axis": rand_axis(rng, _ndim(xs[0]) + 1 if xs else 0)}, None)
    table["clip"] = (1, lambda rng, x: {"x_min": rand_value(rng) if rng.random() < 0.2 else -0.5,
                                        "x_max": rand_value(rng) if rng.random() < 0.2 else 0.5}, None)
    table["one_hot"] = (1, lambda rng, x: {"num_classes": [3, 0, -1, 2.5, None, "3", 2 ** 40][int(rng.integers(7))]
                                           if rng.random() < 0.3 else 3}, None)
    table["cast"] = (1, lambda rng, x: {"dtype": ["float32", "int32", "int64", "float64", "float16", "bool", "x",
                                                  None][int(rng.integers(8))]}, None)
    table["matmul"] = (2, None, None)
    table["take"] = (1, lambda rng, x: {"indices": rand_value(rng), "axis": rand_axis(rng, _ndim(x))}, None)
    table["split"] = (1, lambda rng, x: {"indices_or_sections": [1, 2, 0, -1, [1], [5, 1], 2.5][int(rng.integers(7))],
                                         "axis": rand_axis(rng, _ndim(x))}, None)
    table["getitem"] = (1, lambda rng, x: {"key": _rand_key(rng, _ndim(x))}, None)
    table["zeros"] = (0, lambda rng, x: {"shape": _rand_new_shape(rng, np.zeros(rand_shape(rng)))}, None)
    table["ones"] = table["zeros"]
    table["convert_to_tensor"] = (1, None, None)
    for name in ("softmax_cross_entropy", "sparse_softmax_cross_entropy", "sigmoid_cross_entropy",
                 "mean_squared_error", "mean_absolute_error"):
        table[name] = (2, None, None)
    table["dropout"] = (1, lambda rng, x: {"rate": _RATE[int(rng.integers(len(_RATE)))]}, None)
    table["conv"] = (2, lambda rng, x: {"strides": _STRIDES[int(rng.integers(len(_STRIDES)))],
                                        "padding": _PADDING[int(rng.integers(len(_PADDING)))]}, None)
    for name in ("max_pool", "average_pool"):
        table[name] = (1, lambda rng, x: {"pool_size": _POOL[int(rng.integers(len(_POOL)))],
                                          "padding": _PADDING[int(rng.integers(len(_PADDING)))]}, None)
    return table


def _rand_perm(rng, ndim):
    r = rng.random()
    if r < 0.5:
        return [int(a) for a in rng.permutation(ndim)]
    if r < 0.7:
        return None
    return [[0, 0], [ndim], [ndim + 1, 0], [0.5], [-1] * ndim, list(range(ndim + 1)), "ab"][int(rng.integers(7))]


def _rand_new_shape(rng, x):
    try:
        size = int(np.size(x))
    except ValueError:  # a ragged list
        size = 3
    choices = [(size,), (-1,), (1, -1), (-1, -1), (size + 1,), (0,), (-2,), (2 ** 40, 2 ** 40), (2 ** 62, 4),
               (1.5,), ("2",), None, (size, 1, 1), ()]
    return choices[int(rng.integers(len(choices)))]


def _rand_key(rng, ndim):
    choices = [0, -1, 5, slice(None), slice(1, None), slice(None, None, -1), slice(None, None, 0), (0, 0),
               (Ellipsis, 0), (None, 0), [0, 1], np.array([0, -1]), 1.5, "a", (slice(None),) * (ndim + 1), True,
               np.array([True])]
    return choices[int(rng.integers(len(choices)))]


LAST_TRACEBACK = []


def _unhelpful(desc, e):
    import traceback

    LAST_TRACEBACK[:] = [traceback.format_exc()]
    return "unhelpful", f"{desc}: {type(e).__name__}: {e}"


_NO_RESULT = object()
# text that must never reach the user even inside an accepted exception type: pybind11 signature dumps and
# C++ exception names (issue 11)
_INTERNAL_TEXT = re.compile(r"incompatible function arguments|Invoked with:|std::|bad_alloc|pybind11")


def _classify(desc, names, call, index_ok=False):
    """Runs call(); returns (outcome, detail, result): outcome None and the result when it returned,
    "pass" for an accepted exception naming one of `names`, "unhelpful" for any other exception."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", np.exceptions.ComplexWarning if hasattr(np, "exceptions") else Warning)
            warnings.simplefilter("ignore", RuntimeWarning)
            return None, desc, call()
    except ACCEPTED as e:
        if _names_in(str(e), names) and not _INTERNAL_TEXT.search(str(e)):
            return "pass", desc, _NO_RESULT
        return (*_unhelpful(desc, e), _NO_RESULT)
    except IndexError as e:
        if index_ok:
            return "pass", desc, _NO_RESULT
        return (*_unhelpful(desc, e), _NO_RESULT)
    except Exception as e:  # noqa: BLE001  (the fuzzer classifies everything)
        return (*_unhelpful(desc, e), _NO_RESULT)


def _outcome(classified):
    """(outcome, detail) of a case whose result needs no further check."""
    outcome, detail, _ = classified
    return (outcome or "pass"), detail


def _names_in(message, names):
    """True when the message names one of `names`; a short name (an argument such as `x`) must stand as a
    word, so that any message containing the letter x does not count as naming it."""
    msg = message.lower()
    return any(n and (re.search(rf"(?<![a-z0-9_]){re.escape(n.lower())}(?![a-z0-9_])", msg) if len(n) <= 2
                      else n.lower() in msg) for n in names)


def _compare(got, want):
    got = np.asarray(got)
    want = np.asarray(want)
    if got.shape != want.shape:
        return f"shape {got.shape} != NumPy {want.shape}"
    if got.size and not np.allclose(got.astype(np.float64), want.astype(np.float64), rtol=1e-3, atol=1e-4,
                                    equal_nan=True):
        return "values differ from NumPy"
    return None


def run_op_case(rng):
    from kcore import ops

    table = _op_table()
    name = sorted(table)[int(rng.integers(len(table)))]
    arity, extra, oracle = table[name]
    fn = getattr(ops, name)
    if arity == "list":
        n = int(rng.integers(0, 4))
        base = rand_array(rng)
        args = [[base] + [rand_array(rng, base.shape if rng.random() < 0.6 else None) for _ in range(n - 1)]
                if n else []]
    else:
        args = [rand_value(rng) for _ in range(arity)]
    kwargs = extra(rng, args[0] if args else None) if extra else {}
    grad = rng.random() < 0.25 and args and isinstance(args[0], np.ndarray) and args[0].dtype.kind == "f"
    desc = f"ops.{name}({_describe(args)}, {kwargs!r}){' + gradient' if grad else ''}"
    if grad:
        return _run_gradient_case(fn, name, args, kwargs, desc)
    names = [name, name.replace("_", " ")] + (["index"] if name == "getitem" else [])
    outcome, detail, out = _classify(desc, names, lambda: fn(*args, **kwargs), index_ok=name == "getitem")
    if outcome:
        return outcome, detail
    # a result: complex data must not come back silently real, and NumPy must agree where it can
    if any(np.iscomplexobj(a) and np.any(np.imag(a) != 0) for a in _arrays(args)):
        return "mismatch", f"{desc}: accepted complex input"
    if oracle is not None:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            try:  # NumPy computes in the dtype kcore answered in (Python floats become float32 in both)
                dt = _to_numpy(out).dtype
                want = oracle(*[a if isinstance(a, list) and a and isinstance(a[0], np.ndarray)
                                else _flush(np.asarray(a).astype(dt)) for a in args], **kwargs)
            except Exception as e:  # noqa: BLE001
                if np.size(_to_numpy(out)) == 0:
                    return "pass", desc  # e.g. min over an empty axis giving an empty result: harmless
                return "mismatch", f"{desc}: NumPy rejects this ({type(e).__name__}: {e}) but kcore returned"
        try:
            problem = _compare(_to_numpy(out), want)
        except Exception:  # noqa: BLE001
            problem = None
        if problem and _all_float_like(args) and not _has_denormals(args, _to_numpy(out).dtype):
            return "mismatch", f"{desc}: {problem}"
    return "pass", desc


def _run_gradient_case(fn, name, args, kwargs, desc):
    """The op inside a GradientTape on a Variable copy of its first argument, then its gradient."""
    import kcore

    var = kcore.Variable(np.asarray(args[0], dtype=np.float64 if args[0].dtype == np.float64 else np.float32))

    def run():
        with kcore.GradientTape() as tape:
            out = fn(var, *args[1:], **kwargs)
            out = out[0] if isinstance(out, (list, tuple)) else out
            if not out.dtype.startswith("float"):
                return None
            loss = kcore.ops.sum(out)
        return tape.gradient(loss, var)

    names = [name, name.replace("_", " "), "gradient", "Variable"]
    outcome, detail, g = _classify(desc, names, run, index_ok=name == "getitem")
    if outcome:
        return outcome, detail
    if g is not None and tuple(g.shape) != tuple(var.shape):
        return "mismatch", f"{desc}: gradient shape {tuple(g.shape)} != variable shape {tuple(var.shape)}"
    return "pass", desc


def _flush(a):
    """Denormals as (signed) zeros: kcore's kernels run with flush-to-zero (see README, threads section)."""
    if a.dtype.kind == "f":
        a = np.where((np.abs(a) < np.finfo(a.dtype).tiny) & (a != 0), a * 0, a)
    return a


def _has_denormals(args, dtype):
    tiny = np.finfo(dtype).tiny if np.dtype(dtype).kind == "f" else 0
    return any(np.any((np.abs(a.astype(dtype)) < tiny) & (a != 0)) for a in _arrays(args) if a.dtype.kind == "f")


def _all_float_like(args):
    return all(np.asarray(a).dtype.kind in "fiub" for a in _arrays(args))


def _arrays(args):
    out = []
    for a in args:
        if isinstance(a, np.ndarray):
            out.append(a)
        elif isinstance(a, list) and all(isinstance(v, np.ndarray) for v in a):
            out.extend(a)
    return out


def _to_numpy(out):
    return out.numpy() if hasattr(out, "numpy") else np.asarray(out)


def _short(v):
    """A fit argument for a case description: arrays by shape and dtype, containers element-wise."""
    if isinstance(v, np.ndarray):
        return f"array{v.shape}:{v.dtype}"
    if isinstance(v, tuple):
        return tuple(_short(e) for e in v)
    return v


def _describe(args):
    parts = []
    for a in args:
        if isinstance(a, np.ndarray):
            ro = "" if a.flags.writeable else ",ro"
            parts.append(f"array{a.shape}:{a.dtype}{ro}")
        elif isinstance(a, list) and a and isinstance(a[0], np.ndarray):
            parts.append("[" + ", ".join(_describe([v]) for v in a) + "]")
        else:
            parts.append(repr(a)[:40])
    return ", ".join(parts)


# -- layers -----------------------------------------------------------------------------

_UNITS = [1, 3, 3, 3, 0, -1, 2.5, "4", None, 2 ** 40, True]
_KSIZE = [1, 2, 3, 3, (2, 2), 0, -1, (1, 2, 3), 1.5, None, 10]
_STRIDES = [1, 1, 2, 0, -1, (1, 1), (2, 2, 2), 1.5]
_PADDING = ["valid", "same", "valid", "causal", "full", 3, None]
_ACT = [None, "relu", "softmax", "tanh", "bogus", 3, "linear", "sparsemax", "glu", "hard_silu", "celu"]
_RATE = [0.0, 0.5, 1.0, -0.1, 2.0, "0.5", None]
_POOL = [2, 2, 1, 0, -1, (2, 2), (3, 3, 3), None, 1.5]


def _layer_table():
    conv = {"filters": _UNITS, "kernel_size": _KSIZE, "strides": _STRIDES, "padding": _PADDING,
            "activation": _ACT, "dilation_rate": [1, 2, 0, (1, 2)]}
    pool = {"pool_size": _POOL, "strides": [None] + _STRIDES, "padding": _PADDING}
    rnn = {"units": _UNITS, "return_sequences": [False, True, 1], "activation": _ACT, "dropout": _RATE}
    return {
        "Dense": {"units": _UNITS, "activation": _ACT, "use_bias": [True, False]},
        "Dropout": {"rate": _RATE, "noise_shape": [None, (1, 1), (2,)]},
        "Flatten": {}, "Activation": {"activation": _ACT},
        "Reshape": {"target_shape": [(-1,), (2, -1), (3,), (0,), (-1, -1), None, 3]},
        "Conv1D": conv, "Conv2D": conv, "Conv3D": conv, "Conv2DTranspose": conv,
        "MaxPooling1D": pool, "MaxPooling2D": pool, "AveragePooling2D": pool, "MaxPooling3D": pool,
        "GlobalAveragePooling1D": {}, "GlobalMaxPooling2D": {},
        "UpSampling1D": {"size": _POOL}, "UpSampling2D": {"size": _POOL},
        "ZeroPadding1D": {"padding": _POOL}, "ZeroPadding2D": {"padding": _POOL},
        "Cropping1D": {"cropping": _POOL}, "Cropping2D": {"cropping": _POOL},
        "BatchNormalization": {"axis": [-1, 0, 1, 5, -5, 1.5, (1, 2)], "momentum": [0.99, 2.0, -1],
                               "epsilon": [1e-3, 0, -1]},
        "LayerNormalization": {"axis": [-1, 0, 1, 5, -5, (1, 2), ()], "epsilon": [1e-3, 0, -1]},
        "Embedding": {"input_dim": _UNITS, "output_dim": _UNITS, "mask_zero": [False, True]},
        "Masking": {"mask_value": [0.0, np.nan, "a"]},
        "SimpleRNN": rnn, "LSTM": rnn, "GRU": rnn,
        "Concatenate": {"axis": [-1, 0, 1, 3, -4, 1.5, 10]}, "Add": {}, "Multiply": {}, "Average": {},
        "Maximum": {}, "Subtract": {}, "Dot": {"axes": [-1, 1, (1, 1), 5, (1, 2), 1.5], "normalize": [False, True]},
        "GroupNormalization": {"groups": [1, 2, 3, -1, 0, -2, 1.5, "2"], "axis": [-1, 1, 0, 5, -5],
                               "epsilon": [1e-3, 0, -1]},
        "RMSNormalization": {"axis": [-1, 0, 1, 5, -5, [1, 2], []], "epsilon": [1e-6, 0, -1]},
        "UnitNormalization": {"axis": [-1, 0, 1, 5, [1, 2], 1.5]},
        "Normalization": {"axis": [-1, None, 0, 5, (1, 2)], "mean": [None, 0.5, [1.0, 2.0], "a"],
                          "variance": [None, 1.0, [1.0, 4.0], -1.0], "invert": [False, True]},
        "Rescaling": {"scale": [1 / 255, 0.0, -1, [1.0, 2.0], "x", None], "offset": [0.0, 1, [1.0], "y"]},
        "Identity": {},
    }


_MERGE = {"Concatenate", "Add", "Multiply", "Average", "Maximum", "Subtract", "Dot"}
_RANK_OF = {"1D": 3, "2D": 4, "3D": 5}


def _layer_input(rng, cls):
    rank = next((r for k, r in _RANK_OF.items() if k in cls), None)
    if cls in ("SimpleRNN", "LSTM", "GRU", "Masking"):
        rank = 3
    if rank is None or rng.random() < 0.2:
        return rand_array(rng)
    shape = tuple(int(rng.integers(1, 6)) for _ in range(rank))
    dtype = "float32" if rng.random() < 0.8 else None
    if cls == "Embedding":
        return rng.integers(-2, 6, size=shape[:2]).astype(["int32", "int64", "float32"][int(rng.integers(3))])
    return rand_array(rng, shape, dtype)


def run_layer_case(rng):
    import kcore

    table = _layer_table()
    cls = sorted(table)[int(rng.integers(len(table)))]
    kwargs = {}
    for key, pool in table[cls].items():
        if rng.random() < 0.6 or key in ("units", "filters", "kernel_size", "rate", "target_shape", "input_dim",
                                         "output_dim", "pool_size"):
            kwargs[key] = pool[int(rng.integers(len(pool)))]
    if cls in _MERGE:
        base = rand_array(rng, rand_shape(rng, 3, 3), "float32")
        inputs = [base] + [rand_array(rng, base.shape if rng.random() < 0.7 else None, "float32")
                           for _ in range(int(rng.integers(0, 3)))]
    else:
        inputs = _layer_input(rng, cls)
    desc = f"layers.{cls}(**{kwargs!r})({_describe(inputs if isinstance(inputs, list) else [inputs])})"
    names = [cls, _snake(cls)]
    def run():
        layer = getattr(kcore.layers, cls)(**kwargs)
        names.append(layer.name)
        out = layer(inputs, training=bool(rng.random() < 0.5))
        if rng.random() < 0.3:
            layer.compute_output_shape(np.shape(inputs[0]) if isinstance(inputs, list) else np.shape(inputs))
        return _to_numpy(out if not isinstance(out, (list, tuple)) else out[0])

    return _outcome(_classify(desc, names, run))


def _snake(name):
    return re.sub(r"(?<!^)(?=[A-Z][a-z])", "_", name).lower()


# -- models -----------------------------------------------------------------------------

def run_model_case(rng):
    import kcore

    width = int(rng.integers(1, 5))
    loss = ["mse", "categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy", "mae",
            "bogus", None][int(rng.integers(7))]
    opt = ["adam", "sgd", "rmsprop", "nope", 3][int(rng.integers(5))] if rng.random() < 0.3 else "adam"
    n = int(rng.integers(0, 9)) if rng.random() < 0.3 else 8
    x = rand_array(rng, (n, width) if rng.random() < 0.7 else None)
    y = rand_array(rng, (n if rng.random() < 0.8 else n + 1,) + ((2,) if rng.random() < 0.5 else ()))
    if rng.random() < 0.3:
        y = rng.integers(-1, 3, size=(n,)).astype("int64")
    fit_kw = {}
    for key, pool in (("batch_size", [None, 4, 0, -1, 2.5, 10 ** 9]), ("epochs", [1, 0, -1, 1.5]),
                      ("validation_split", [0.0, 0.5, 1.0, -0.2, 1.5]), ("shuffle", [True, False, "batch"]),
                      ("sample_weight", [np.ones(n), np.ones(n + 1), np.full(n, np.nan), "w"]),
                      ("class_weight", [{0: 1.0, 1: 2.0}, {0: "a"}, {}]),
                      ("validation_data", [(x, y), (x,), x, (x, y, np.ones(n), 1)])):
        if rng.random() < 0.15:
            fit_kw[key] = pool[int(rng.integers(len(pool)))]
    metrics = [None, ["accuracy"], ["mae", "accuracy"], ["bogus"], "accuracy"][int(rng.integers(5))]
    functional = rng.random() < 0.4
    desc = (f"{'Model(Input((' + str(width) + ',)))' if functional else 'Sequential'}([Dense(2)]) compile("
            f"loss={loss!r}, optimizer={opt!r}, metrics={metrics!r}) fit({_describe([x, y])}, "
            f"{ {k: _short(v) for k, v in fit_kw.items()}!r})")
    names = ["fit", "predict", "compile", "evaluate", "loss", "optimizer", "model", "sequential", "dense", "x", "y",
             "batch_size", "epochs", "validation_split", "shuffle", "sample_weight", "class_weight",
             "validation_data", "metric", "metrics", "input", "functional", "mean_squared_error",
             "mean_absolute_error", "crossentropy"]

    def run():
        dense = kcore.layers.Dense(2, activation="softmax" if rng.random() < 0.5 else None)
        if functional:
            inp = kcore.Input((width,))
            model = kcore.Model(inp, dense(inp))
        else:
            model = kcore.Sequential([dense])
        model.compile(optimizer=opt, loss=loss, metrics=metrics)
        model.fit(x, y, verbose=0, **fit_kw)
        model.predict(x if rng.random() < 0.7 else rand_array(rng), verbose=0,
                      batch_size=[None, 1, 0, -2, 2.5][int(rng.integers(5))] if rng.random() < 0.2 else None)
        if rng.random() < 0.3:
            model.evaluate(x, y, verbose=0)

    return _outcome(_classify(desc, names, run))


# -- files -------------------------------------------------------------------------------

_TEMPLATES = {}


def _templates(tmp):
    """Valid files to mutate: a .keras model, a .weights.h5 and a Keras 2 style .h5 (made once per process)."""
    if not _TEMPLATES:
        import kcore

        model = kcore.Sequential([kcore.Input((3,)), kcore.layers.Dense(2)])
        model.compile(optimizer="adam", loss="mse")
        for ext in (".keras", ".weights.h5", ".h5"):
            path = os.path.join(tmp, "template" + ext)
            try:
                model.save_weights(path) if ext == ".weights.h5" else model.save(path)
                with open(path, "rb") as f:
                    _TEMPLATES[ext] = f.read()
            except Exception:  # noqa: BLE001
                pass
        _TEMPLATES["model"] = model
    return _TEMPLATES


def run_file_case(rng):
    import kcore

    tmp = tempfile.mkdtemp(prefix="kcore-fuzz-")
    try:
        templates = _templates(tmp)
        exts = [e for e in (".keras", ".weights.h5", ".h5") if e in templates]
        ext = exts[int(rng.integers(len(exts)))] if exts else ".keras"
        data = bytearray(templates.get(ext, b""))
        r = rng.random()
        if r < 0.3 and data:
            data = data[:int(rng.integers(0, len(data)))]
            how = f"truncated to {len(data)} bytes"
        elif r < 0.7 and data:
            for _ in range(int(rng.integers(1, 20))):
                data[int(rng.integers(len(data)))] = int(rng.integers(256))
            how = "bytes flipped"
        else:
            data = bytearray(rng.integers(0, 256, size=int(rng.integers(0, 4096)), dtype=np.uint8).tobytes())
            how = f"{len(data)} random bytes"
        path = os.path.join(tmp, f"case{ext}")
        with open(path, "wb") as f:
            f.write(bytes(data))
        loader = "load_model" if ext != ".weights.h5" and rng.random() < 0.7 else "load_weights"
        desc = f"{loader}({ext} file, {how}, seed-derived)"
        call = (lambda: kcore.models.load_model(path)) if loader == "load_model" else (
            lambda: templates["model"].load_weights(path))
        return _outcome(_classify(desc, [path, os.path.basename(path)], call))
    finally:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)


KINDS = (("op", 0.55, run_op_case), ("layer", 0.27, run_layer_case), ("model", 0.1, run_model_case),
         ("file", 0.08, run_file_case))


def case_kind(seed, index, kinds=None):
    rng = np.random.default_rng([seed, index])
    table = [k for k in KINDS if kinds is None or k[0] in kinds]
    weights = np.array([w for _, w, _ in table])
    pick = int(rng.choice(len(table), p=weights / weights.sum()))
    return rng, table[pick]


def run_case(seed, index, kinds=None):
    """Runs case `index` of campaign `seed`; returns (kind, outcome, detail)."""
    rng, (kind, _, fn) = case_kind(seed, index, kinds)
    outcome, detail = fn(rng)
    return kind, outcome, detail
