"""Op table rows: elementwise math, activations, softmax, reductions, linear algebra, shape, logic, creation."""
import math

import numpy as np
from op_table import Bad, OpInfo, Sample, binary_samples, fixed, unary_samples, uniform

from kcore import ops

_erf = np.vectorize(math.erf)
BINARY_NATIVE = ("binary", "binary_backward")
UNARY_NATIVE = ("unary", "unary_backward")
BROADCAST_BAD = (Bad((np.ones((2, 3)), np.ones(4)), match=r"could not be broadcast together.*\(2, 3\) and \(4,\)"),)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _softplus(x):
    return np.logaddexp(0.0, x)


def _both(*makers):
    """Samples of several generators, one after the other."""
    return lambda rng: [s for m in makers for s in m(rng)]


def _binary(name, fn, ref, aliases=(), **sample_kw):
    return OpInfo(name, fn, binary_samples(**sample_kw), ref, BINARY_NATIVE, aliases=aliases, bad=BROADCAST_BAD)


def _unary(name, fn, ref, low=-2.0, high=2.0, kinks=(), aliases=(), extra=None, **kw):
    samples = unary_samples(low, high, kinks)
    if extra is not None:
        samples = _both(samples, unary_samples(low, high, kinks, shapes=[(4, 3)], **extra))
    return OpInfo(name, fn, samples, ref, UNARY_NATIVE, aliases=aliases, **kw)


_SELU = (1.0507009873554805, 1.6732632423543772)

ELEMENTWISE = [
    _binary("add", ops.add, np.add),
    _binary("subtract", ops.subtract, np.subtract),
    _binary("multiply", ops.multiply, np.multiply),
    _binary("divide", ops.divide, np.divide, aliases=("true_divide",), kinks2=(0.0,), tie_gap=None),
    _binary("power", ops.power, np.power, low=0.5, high=2.0, low2=-1.5, high2=2.0),
    _binary("maximum", ops.maximum, np.maximum, tie_gap=0.05),
    _binary("minimum", ops.minimum, np.minimum, tie_gap=0.05),
    _unary("negative", ops.negative, np.negative),
    _unary("exp", ops.exp, np.exp),
    _unary("log", ops.log, np.log, 0.2, 3.0),
    _unary("sqrt", ops.sqrt, np.sqrt, 0.2, 3.0),
    _unary("square", ops.square, np.square),
    _unary("abs", ops.abs, np.abs, kinks=(0.0,)),
    _unary("tanh", ops.tanh, np.tanh),
    _unary("sigmoid", ops.sigmoid, _sigmoid, -4.0, 4.0),
    _unary("relu", ops.relu, lambda x: np.maximum(x, 0.0), kinks=(0.0,)),
    _unary("elu", ops.elu, lambda x, alpha=1.0: np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0))),
           kinks=(0.0,), extra={"alpha": 0.5}),
    _unary("selu", ops.selu, lambda x: _SELU[0] * np.where(x > 0, x, _SELU[1] * np.expm1(np.minimum(x, 0))),
           kinks=(0.0,)),
    _unary("softplus", ops.softplus, _softplus, -3.0, 3.0),
    _unary("softsign", ops.softsign, lambda x: x / (1.0 + np.abs(x))),
    _unary("hard_sigmoid", ops.hard_sigmoid, lambda x: np.clip(x + 3.0, 0.0, 6.0) / 6.0, -4.0, 4.0,
           kinks=(-3.0, 3.0)),
    _unary("elementwise.hard_sigmoid_k2", ops.elementwise.hard_sigmoid_k2,
           # internal (Keras 2 activations): errors are named by the caller
           lambda x: np.clip(0.2 * x + 0.5, 0.0, 1.0), -3.0, 3.0, kinks=(-2.5, 2.5), text_error=False),
    _unary("gelu", ops.gelu, lambda x, approximate=True: (
        0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3))) if approximate
        else 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))), -3.0, 3.0, extra={"approximate": False}),
    _unary("silu", ops.silu, lambda x: x * _sigmoid(x), -3.0, 3.0, aliases=("swish",)),
    _unary("leaky_relu", ops.leaky_relu, lambda x, negative_slope=0.2: np.where(x > 0, x, negative_slope * x),
           kinks=(0.0,), extra={"negative_slope": 0.05}),
    _unary("relu6", ops.relu6, lambda x: np.clip(x, 0.0, 6.0), -1.0, 7.0, kinks=(0.0, 6.0)),
    _unary("log_sigmoid", ops.log_sigmoid, lambda x: -_softplus(-x), -3.0, 3.0),
    _unary("mish", ops.mish, lambda x: x * np.tanh(_softplus(x)), -3.0, 3.0),
    OpInfo("reciprocal", ops.reciprocal, unary_samples(0.3, 2.0), np.reciprocal, UNARY_NATIVE),
    _unary("sin", ops.sin, np.sin, -3.0, 3.0),
    _unary("cos", ops.cos, np.cos, -3.0, 3.0),
    _unary("sign", ops.sign, np.sign, kinks=(0.0,)),
    OpInfo("clip", ops.clip, unary_samples(kinks=(-1.0, 1.0), x_min=-1.0, x_max=1.0),
           lambda x, x_min, x_max: np.clip(x, x_min, x_max),
           ("clip", "clip_backward")),
]


def _sparsemax_ref(x, axis=-1):
    z = np.moveaxis(x, axis, -1)
    ranked = -np.sort(-z, axis=-1)
    running = np.cumsum(ranked, axis=-1)
    k = np.arange(1, z.shape[-1] + 1)
    size = np.sum(1 + k * ranked > running, axis=-1, keepdims=True)
    tau = (np.take_along_axis(running, size - 1, axis=-1) - 1) / size
    return np.moveaxis(np.maximum(z - tau, 0.0), -1, axis)


def _glu_ref(x, axis=-1):
    a, b = np.split(x, 2, axis=axis)
    return a * _sigmoid(b)


_GATED = [((3, 4), -1), ((4, 3), 0), ((2, 2, 6), 1), ((1, 2), -1), ((0, 4), -1)]
_glu_samples = fixed(*[(lambda rng, s=s, a=a: Sample((uniform(rng, s),), {"axis": a}, f"{s}-axis{a}"))
                       for s, a in _GATED])
_sparsemax_samples = fixed(*[(lambda rng, s=s, a=a: Sample((uniform(rng, s),), {"axis": a}, f"{s}-axis{a}"))
                             for s, a in [((3, 5), -1), ((4, 3, 2), 1), ((1, 7), -1), ((6,), 0), ((0, 4), -1)]])

# Activations composed of the ops above (kcore/ops/activation_ops.py): no native op of their own.
COMPOSED = [
    _unary("celu", ops.celu, lambda x, alpha=1.0: np.maximum(x, 0) + alpha * np.expm1(np.minimum(x, 0) / alpha),
           kinks=(0.0,), extra={"alpha": 0.5}),
    OpInfo("glu", ops.glu, _glu_samples, _glu_ref,
           bad=(Bad((np.ones((2, 3)),), match=r"divisible by 2.*\(2, 3\)"),)),
    _unary("hard_silu", ops.hard_silu, lambda x: x * np.clip(x + 3.0, 0.0, 6.0) / 6.0, -4.0, 4.0,
           kinks=(-3.0, 3.0), aliases=("hard_swish",)),
    _unary("hard_tanh", ops.hard_tanh, lambda x: np.clip(x, -1.0, 1.0), kinks=(-1.0, 1.0)),
    _unary("hard_shrink", ops.hard_shrink, lambda x, threshold=0.5: np.where(np.abs(x) > threshold, x, 0.0),
           kinks=(-0.5, 0.5), extra={"threshold": 1.0}),
    _unary("soft_shrink", ops.soft_shrink, lambda x, threshold=0.5: np.sign(x) * np.maximum(np.abs(x) - threshold,
                                                                                             0.0),
           kinks=(-0.5, 0.5), extra={"threshold": 1.0}),
    _unary("tanh_shrink", ops.tanh_shrink, lambda x: x - np.tanh(x)),
    OpInfo("threshold", ops.threshold, unary_samples(kinks=(0.3,), threshold=0.3, default_value=-2.0),
           lambda x, threshold, default_value: np.where(x > threshold, x, default_value)),
    _unary("sparse_plus", ops.sparse_plus, lambda x: np.where(x <= -1, 0.0, np.where(x < 1, (x + 1) ** 2 / 4, x)),
           kinks=(-1.0, 1.0)),
    _unary("sparse_sigmoid", ops.sparse_sigmoid, lambda x: np.clip((x + 1) / 2, 0.0, 1.0), kinks=(-1.0, 1.0)),
    _unary("squareplus", ops.squareplus, lambda x, b=4: (x + np.sqrt(x * x + b)) / 2, extra={"b": 1.0}),
    OpInfo("sparsemax", ops.sparsemax, _sparsemax_samples, _sparsemax_ref,
           bad=(Bad((np.ones((2, 3)),), {"axis": 2}, match="axis 2 is out of range"),)),
]


def _softmax_ref(x, axis=-1, log=False):
    axis = tuple(axis) if isinstance(axis, list) else axis
    shifted = x - np.max(x, axis=axis, keepdims=True) if x.size else x
    if log:
        return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
    e = np.exp(shifted)
    return e / np.sum(e, axis=axis, keepdims=True)


_SOFTMAX_CASES = [((3, 4, 2), -1), ((3, 4, 2), 0), ((3, 4, 2), (0, 2)), ((1, 5), -1), ((6,), 0), ((0, 3), -1),
                  ((2, 3, 4), (1, 2)), ((2, 3, 4), (2, 0, 1)), ((2, 3, 4), [-1, -3])]  # several axes at once
_softmax_samples = fixed(*[(lambda rng, s=s, a=a: Sample((uniform(rng, s, -3, 3),), {"axis": a}, f"{s}-axis{a}"))
                           for s, a in _SOFTMAX_CASES])
_REDUCE_CASES = [((3, 4, 5), None, False), ((3, 4, 5), 0, False), ((3, 4, 5), (0, 2), False),
                 ((3, 4, 5), -1, True), ((1, 3), 1, False), ((0, 3), 1, False), ((7,), None, True),
                 ((2, 3, 4), (), False), ((2, 3, 4), (), True), ((2, 3, 4), [-1], True)]  # () reduces nothing
_reduce_samples = fixed(*[(lambda rng, s=s, a=a, k=k: Sample((uniform(rng, s),), {"axis": a, "keepdims": k},
                                                             f"{s}-axis{a}-keep{k}")) for s, a, k in _REDUCE_CASES])
_ARG_CASES = [((3, 4, 5), -1, False), ((3, 4, 5), 0, True), ((1, 6), 1, False), ((2, 3), None, False)]
_arg_samples = fixed(*[(lambda rng, s=s, a=a, k=k: Sample((uniform(rng, s),), {"axis": a, "keepdims": k},
                                                          f"{s}-axis{a}-keep{k}")) for s, a, k in _ARG_CASES])
REDUCE_NATIVE = ("reduce", "reduce_backward")


def _np_axes(fn):
    """A NumPy reduction that also takes a list of axes (kcore does, as Keras)."""
    return lambda x, axis=None, keepdims=False: fn(x, axis=tuple(axis) if isinstance(axis, list) else axis,
                                                   keepdims=keepdims)
_AXIS_BAD = (Bad((np.ones((2, 3)),), {"axis": 3}, match="axis 3 is out of range"),)


def _arg_ref(fn):
    def ref(x, axis=-1, keepdims=False):
        if axis is None:
            out = fn(x.reshape(-1))
            return np.reshape(out, (1,) * x.ndim) if keepdims else out
        return fn(x, axis=axis, keepdims=keepdims)
    return ref


REDUCTIONS = [
    OpInfo("softmax", ops.softmax, _softmax_samples, _softmax_ref, ("softmax", "softmax_backward"),
           bad=tuple(Bad((np.ones((2, 3, 4, 5)),), {"axis": a}, ValueError, m) for a, m in [
               (4, "out of range"), (-5, "out of range"), ((1, 1), "distinct"), ((1, 4), "out of range"),
               ((), "distinct")]) + (Bad((np.ones((2, 3)),), {"axis": 1.0}, TypeError, "axis must be an int"),)),
    OpInfo("log_softmax", ops.log_softmax, _softmax_samples, lambda x, axis=-1: _softmax_ref(x, axis, True),
           ("softmax", "softmax_backward"), bad=_AXIS_BAD),
    OpInfo("sum", ops.sum, _reduce_samples, _np_axes(np.sum), REDUCE_NATIVE, bad=_AXIS_BAD),
    OpInfo("mean", ops.mean, _reduce_samples, _np_axes(np.mean), REDUCE_NATIVE, bad=_AXIS_BAD),
    OpInfo("max", ops.max, _reduce_samples, _np_axes(np.max), REDUCE_NATIVE, aliases=("amax",), bad=_AXIS_BAD),
    OpInfo("min", ops.min, _reduce_samples, _np_axes(np.min), REDUCE_NATIVE, aliases=("amin",), bad=_AXIS_BAD),
    OpInfo("argmax", ops.argmax, _arg_samples, _arg_ref(np.argmax), ("argmax",), grad=False, out_dtype="int64",
           bad=_AXIS_BAD),
    OpInfo("argmin", ops.argmin, _arg_samples, _arg_ref(np.argmin), ("argmax",), grad=False, out_dtype="int64",
           bad=_AXIS_BAD),
]

_MATMUL_SHAPES = [((3, 4), (4, 5)), ((2, 3, 4), (4, 5)), ((2, 3, 4), (2, 4, 5)), ((1, 3, 4), (2, 4, 2)),
                  ((4,), (4, 3)), ((3, 4), (4,)), ((1, 1), (1, 1)), ((4, 0), (0, 3)), ((2, 1, 5, 3), (3, 3, 2))]
_matmul_samples = fixed(*[(lambda rng, a=a, b=b: Sample((uniform(rng, a), uniform(rng, b)), {}, f"{a}@{b}"))
                          for a, b in _MATMUL_SHAPES])
_linear_samples = fixed(*[(lambda rng, s=s, bias=bias: Sample(
    (uniform(rng, s), uniform(rng, (3, 2))) + ((uniform(rng, (2,)),) if bias else ()), {},
    f"{s}-bias{bias}")) for s in [(5, 3), (2, 4, 3), (1, 3), (0, 3)] for bias in (True, False)])

LINALG = [
    OpInfo("matmul", ops.matmul, _matmul_samples, np.matmul, ("matmul", "matmul_backward"), aliases=("dot",),
           bad=(Bad((np.ones((2, 3)), np.ones((4, 2))), match=r"inner dimensions do not match: \(2, 3\) @ \(4, 2\)"),
                Bad((np.ones(()), np.ones((2, 2))), match="scalars"))),
    OpInfo("linear", ops.linear, _linear_samples, lambda x, w, b=None: x @ w + (0 if b is None else b),
           ("linear", "linear_backward"),
           bad=(Bad((np.ones((2, 3)), np.ones((4, 2))), match="4"),)),
]


def _one(shape, **kwargs):
    return lambda rng: Sample((uniform(rng, shape),), kwargs, f"{shape}-{kwargs}")


def _many(shapes, **kwargs):
    return lambda rng: Sample(tuple(uniform(rng, s) for s in shapes), kwargs, f"{shapes}-{kwargs}")


_X = (2, 3, 4)
SHAPE = [
    OpInfo("reshape", ops.reshape, fixed(_one(_X, new_shape=(4, -1)), _one((0, 3), new_shape=(3, 0)),
                                         _one((), new_shape=(1, 1)), _one((1, 5), new_shape=(5,))),
           lambda x, new_shape: np.reshape(x, new_shape), ("reshape",),
           bad=(Bad((np.ones((2, 3)),), {"new_shape": (4, 2)}, match=r"\(2, 3\).*\(4, 2\)"),)),
    OpInfo("transpose", ops.transpose, fixed(_one(_X, axes=(2, 0, 1)), _one(_X), _one((1, 5), axes=(1, 0)),
                                             _one((0, 2), axes=(1, 0))),
           np.transpose, ("transpose",), bad=(Bad((np.ones((2, 3)),), {"axes": (0, 0)}, match="axes"),)),
    OpInfo("expand_dims", ops.expand_dims, fixed(_one(_X, axis=-1), _one((3,), axis=0), _one((), axis=0)),
           np.expand_dims, ("reshape",)),
    OpInfo("squeeze", ops.squeeze, fixed(_one((1, 3, 1)), _one((1, 3, 1), axis=0), _one((2, 1, 0), axis=1)),
           np.squeeze, ("reshape",), bad=(Bad((np.ones((2, 3)),), {"axis": 0}, match="size 2"),)),
    OpInfo("flatten", ops.flatten, fixed(_one(_X), _one(()), _one((0, 3))), lambda x: x.reshape(-1), ("reshape",)),
    OpInfo("concatenate", lambda *xs, axis=0: ops.concatenate(list(xs), axis=axis),
           fixed(_many([_X, (2, 2, 4)], axis=1), _many([(1, 3), (4, 3), (2, 3)]), _many([(0, 3), (2, 3)]),
                 _many([(5,)])),
           lambda *xs, axis=0: np.concatenate(xs, axis=axis), ("concatenate", "slice"),
           bad=(Bad((np.ones((2, 3)), np.ones(3)), match="same rank"),)),
    OpInfo("stack", lambda *xs, axis=0: ops.stack(list(xs), axis=axis),
           fixed(_many([_X, _X]), _many([(3,), (3,), (3,)], axis=1), _many([(1, 2)], axis=-1)),
           lambda *xs, axis=0: np.stack(xs, axis=axis), ("concatenate", "reshape")),
    OpInfo("split", ops.split, fixed(_one(_X, indices_or_sections=2, axis=2), _one((2, 5), indices_or_sections=[1, 3],
                                                                                   axis=1),
                                     _one((3, 1), indices_or_sections=3)),
           np.split, ("slice", "slice_backward"),
           bad=(Bad((np.ones((5, 2)),), {"indices_or_sections": 2}, match="equal sections"),)),
    OpInfo("getitem", ops.getitem, fixed(_one(_X, key=(slice(1, None), slice(None, None, 2), 1)),
                                         _one(_X, key=(Ellipsis, None, slice(2, None))), _one((1, 5), key=0),
                                         _one((4, 3), key=slice(3, 1))),
           lambda x, key: x[key], ("slice", "slice_backward")),
    OpInfo("take", ops.take, fixed(lambda rng: Sample((uniform(rng, (4, 3)), np.array([[0, 2], [2, 2]])), {},
                                                      "repeated"),
                                   lambda rng: Sample((uniform(rng, (1, 5)), np.zeros(3, np.int64)), {}, "batch1"),
                                   lambda rng: Sample((uniform(rng, (3, 2)), np.zeros(0, np.int64)), {}, "empty")),
           lambda x, i: np.take(x, i, axis=0), ("take_rows", "take_rows_backward"), diff=(0,),
           bad=(Bad((np.ones((2, 3)), np.array([0.5])), exc=TypeError, match="integers"),)),
    OpInfo("cast", ops.cast, fixed(_one((3, 4), dtype="float64"),  # float32 -> float64 round trip: test_ops_grad
                                   lambda rng: Sample((uniform(rng, (2, 2)),), {"dtype": "float32"}, "f32", False),
                                   lambda rng: Sample((uniform(rng, (2, 3)),), {"dtype": "int32"}, "i32", False)),
           lambda x, dtype: x.astype(dtype), diff=(0,), out_dtype=lambda s, d: s.kwargs["dtype"]),
    OpInfo("stop_gradient", ops.stop_gradient, fixed(_one((3, 4)), _one(())), lambda x: x, grad=False),
]


def _tied(rng, shape):
    """Small integers: comparisons meet ties and zeros (true/false) often."""
    return np.round(uniform(rng, shape, -2, 2))


def _compare_samples(rng):
    return [Sample((_tied(rng, a), _tied(rng, b)), {}, f"{a}x{b}") for a, b in
            [((3, 4), (3, 4)), ((2, 1, 4), (3, 1)), ((), (2, 2)), ((0, 3), (3,))]]


def _special(rng, shape=(3, 4)):
    x = uniform(rng, shape)
    x.reshape(-1)[:3] = [np.nan, np.inf, -np.inf]
    return Sample((x,), {}, f"{shape}-nonfinite")


def _compare(name, ref):
    return OpInfo(name, getattr(ops, name), _compare_samples, ref, ("compare",), grad=False, out_dtype="bool",
                  dtypes=("float32", "float64", "int32", "int64", "bool"), bad=BROADCAST_BAD)


def _where_samples(rng):
    out = []
    for sc, sa, sb in [((3, 4), (3, 4), (3, 4)), ((3, 1), (4,), ()), ((1, 4), (2, 1, 4), (3, 1)), ((0, 2), (2,), ())]:
        out.append(Sample((rng.random(sc) < 0.5, uniform(rng, sa), uniform(rng, sb)), {}, f"{sc}-{sa}-{sb}"))
    return out


LOGIC = [_compare(n, r) for n, r in [
    ("equal", np.equal), ("not_equal", np.not_equal), ("less", np.less), ("less_equal", np.less_equal),
    ("greater", np.greater), ("greater_equal", np.greater_equal), ("logical_and", np.logical_and),
    ("logical_or", np.logical_or), ("logical_xor", np.logical_xor)]] + [
    OpInfo(name, getattr(ops, name), fixed(_special, lambda rng: Sample((_tied(rng, (2, 5)),), {}, "ties")), ref,
           ("compare",), grad=False, out_dtype="bool")
    for name, ref in [("logical_not", np.logical_not), ("isnan", np.isnan), ("isinf", np.isinf),
                      ("isfinite", np.isfinite)]] + [
    OpInfo("where", ops.where, _where_samples, np.where, ("where", "compare"), diff=(1, 2),
           dtypes=("float32", "float64", "int32", "int64", "bool"),
           bad=(Bad((np.ones((2, 3)) > 0, np.ones((4,)), np.ones(())), match="broadcast"),)),
]

_shape_samples = fixed(lambda rng: Sample(((2, 3),), {}, "2x3"), lambda rng: Sample(((0, 4),), {}, "empty"),
                       lambda rng: Sample(((),), {"dtype": "float64"}, "scalar-f64"))
CREATION = [
    OpInfo("zeros", ops.zeros, _shape_samples, lambda s, dtype="float32": np.zeros(s, dtype), ("zeros",),
           grad=False, dtypes=("float32",), out_dtype=lambda s, d: s.kwargs.get("dtype", "float32"),
           bad=(Bad(((2, -1),), match="shape"),)),
    OpInfo("ones", ops.ones, _shape_samples, lambda s, dtype="float32": np.ones(s, dtype), ("full",), grad=False,
           dtypes=("float32",), out_dtype=lambda s, d: s.kwargs.get("dtype", "float32"),
           bad=(Bad(((2, -1),), match="shape"),)),
    OpInfo("zeros_like", ops.zeros_like, fixed(_one((3, 2)), _one(())), np.zeros_like, ("zeros",), grad=False),
    OpInfo("ones_like", ops.ones_like, fixed(_one((3, 2)), _one((0, 1))), np.ones_like, ("full",), grad=False),
    OpInfo("convert_to_numpy", ops.convert_to_numpy, fixed(_one((3, 2)), _one(())), lambda x: x, grad=False,
           text_error=False),  # any array-like converts, as np.asarray
    OpInfo("shape", ops.shape, fixed(_one((3, 2)), _one(()), _one((0, 5))), np.shape, grad=False, out_dtype=None),
    OpInfo("one_hot", ops.one_hot,
           fixed(lambda rng: Sample((np.array([0, 2, 3, -1, 4]),), {"num_classes": 4}, "out-of-range"),
                 lambda rng: Sample((np.array([[1], [0]]),), {"num_classes": 2, "dtype": "float64"}, "2d")),
           lambda x, num_classes, dtype="float32": (np.arange(num_classes) == x[..., None]).astype(dtype),
           grad=False, dtypes=("int64",), out_dtype=lambda s, d: s.kwargs.get("dtype", "float32"),
           bad=(Bad((np.array([0, 1]),), {"num_classes": -1}, match="num_classes"),)),
]

ROWS = ELEMENTWISE + COMPOSED + REDUCTIONS + LINALG + SHAPE + LOGIC + CREATION

# Argument errors (axes, sizes, dtypes) that follow NumPy's rules, added to the rows above.
_A = np.arange(24.0).reshape(2, 3, 4)
_V, _T = ValueError, TypeError
_ARGUMENT_BAD = [
    ("mean", (_A,), {"axis": -4}, _V, "axis -4 is out of range"),
    ("transpose", (_A,), {"axes": (0, 1, 3)}, _V, "out of range"),
    ("transpose", (_A,), {"axes": (0, 1)}, _V, "each of the 3 axes exactly once"),
    ("expand_dims", (_A,), {"axis": 4}, _V, "out of range"), ("expand_dims", (_A,), {"axis": -5}, _V, "out of range"),
    ("squeeze", (_A[:, :1],), {"axis": 3}, _V, "out of range"),
    ("concatenate", (_A, _A), {"axis": 3}, _V, "out of range"), ("concatenate", (_A, _A), {"axis": -4}, _V, "range"),
    ("concatenate", (), {}, _V, "at least one tensor"), ("concatenate", (_A, _A[0]), {}, _V, "same rank"),
    ("concatenate", (np.float32(1), np.float32(2)), {}, _V, "stack them instead"),
    ("stack", (_A, _A), {"axis": 4}, _V, "out of range"), ("stack", (), {}, _V, "at least one tensor"),
    ("argmax", (_A,), {"axis": 3}, _V, "out of range"), ("sum", (_A,), {"axis": (0, 0)}, _V, "repeats an axis"),
    ("split", (_A,), {"indices_or_sections": 0}, _V, "positive number of sections"),
    ("zeros", ((2, -3),), {}, _V, "negative dimension"), ("reshape", (_A,), {"new_shape": (-1, -1)}, _V, "one -1"),
    ("getitem", (_A, slice(None, None, 0)), {}, _V, "step"),
    ("one_hot", (np.array([np.nan]),), {"num_classes": 3}, _V, "finite"),
    ("sum", (_A,), {"axis": 1.0}, _T, "integer"), ("expand_dims", (_A,), {"axis": 1.5}, _T, "integer"),
    ("transpose", (_A,), {"axes": (0, 1, 2.0)}, _T, "integer"), ("concatenate", (_A, _A), {"axis": 0.0}, _T, "int"),
    ("squeeze", (_A,), {"axis": "0"}, _T, "integer"), ("argmax", (_A,), {"axis": True}, _T, "bool"),
    ("split", (_A,), {"indices_or_sections": 2.5}, _T, "integer"), ("zeros", ((1.5,),), {}, _T, "integer"),
    ("ones", (None,), {}, _T, "tuple of integers"), ("reshape", (_A,), {"new_shape": (2.0, -1)}, _T, "integer"),
    ("cast", (_A,), {"dtype": None}, _T, "dtype must be given"),
    ("one_hot", (np.array([1]),), {"num_classes": 2.5}, _T, "integer"), ("clip", (_A, (), 1.0), {}, _T, "tuple"),
]
for _row in ROWS:
    _row.bad = tuple(_row.bad) + tuple(Bad(a, k, e, m) for name, a, k, e, m in _ARGUMENT_BAD if name == _row.name)
