"""Op table rows: fused losses, dropout, normalization, convolution, pooling, recurrent ops, image resize."""
import numpy as np
from op_refs import reference_conv, reference_conv_lstm, reference_conv_transpose, reference_depthwise, reference_pool
from op_table import Bad, OpInfo, Sample, away_from, fixed, uniform
from rnn_reference import ACTIVATIONS, make_cell, run_rnn

from kcore import ops
from kcore.ops.conv import output_length


def _log_softmax(x):
    s = x - x.max(axis=-1, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=-1, keepdims=True))


def _targets(rng, shape):
    return rng.dirichlet(np.ones(shape[-1]), size=shape[:-1])


_LOSS_SHAPES = [(4, 5), (1, 3), (2, 3, 4), (0, 5)]


def _loss_samples(target):
    return fixed(*[(lambda rng, s=s: Sample((uniform(rng, s), target(rng, s)), {}, f"{s}")) for s in _LOSS_SHAPES])


def _label_sample(shape):
    return lambda rng: Sample((uniform(rng, shape), rng.integers(0, shape[-1], shape[:-1])), {}, f"{shape}")


def _error_samples(rng):
    out = []
    for st, sp in [((4, 5), (4, 5)), ((1, 3), (1, 3)), ((5,), (2, 5)), ((2, 3, 2), (2, 3, 2)), ((0, 4), (0, 4))]:
        p = uniform(rng, sp)
        out.append(Sample((np.broadcast_to(p, sp)[(0,) * (len(sp) - len(st))] + away_from(uniform(rng, st, -1, 1),
                                                                                            (0.0,)), p), {},
                          f"{st}-{sp}"))
    return out


LOSS_BAD = (Bad((np.ones((2, 3)), np.ones((2, 4))), match="shape"),)

LOSSES = [
    OpInfo("softmax_cross_entropy", ops.softmax_cross_entropy, _loss_samples(_targets),
           lambda x, y: -(y * _log_softmax(x)).sum(-1), ("softmax_cross_entropy", "softmax_cross_entropy_backward"),
           bad=LOSS_BAD),
    OpInfo("sparse_softmax_cross_entropy", ops.sparse_softmax_cross_entropy,
           fixed(*[_label_sample(s) for s in _LOSS_SHAPES]),
           lambda x, lab: -np.take_along_axis(_log_softmax(x), lab[..., None], -1)[..., 0],
           ("sparse_softmax_cross_entropy", "sparse_softmax_cross_entropy_backward"), diff=(0,),
           bad=(Bad((np.ones((2, 3)), np.array([0, 1, 2])), match="labels"),)),
    OpInfo("sigmoid_cross_entropy", ops.sigmoid_cross_entropy, _loss_samples(lambda rng, s: rng.random(s)),
           lambda x, y: np.maximum(x, 0) - x * y + np.log1p(np.exp(-np.abs(x))),
           ("sigmoid_cross_entropy", "sigmoid_cross_entropy_backward"), bad=LOSS_BAD),
    OpInfo("mean_squared_error", ops.mean_squared_error, _error_samples,
           lambda y, p: ((p - y) ** 2).mean(-1), ("mean_error", "mean_error_backward")),
    OpInfo("mean_absolute_error", ops.mean_absolute_error, _error_samples,
           lambda y, p: np.abs(p - y).mean(-1), ("mean_error", "mean_error_backward")),
    OpInfo("dropout", lambda x, **kw: ops.dropout(x, **kw),
           fixed(lambda rng: Sample((uniform(rng, (6, 5)),), {"rate": 0.4, "seed": 3}, "6x5"),
                 lambda rng: Sample((uniform(rng, (1, 7)),), {"rate": 0.5, "seed": 1, "noise_shape": (1, None)},
                                    "noise-shape"),
                 lambda rng: Sample((uniform(rng, (0, 3)),), {"rate": 0.5, "seed": 2}, "empty")),
           None, ("dropout_mask", "binary"), bad=(Bad((np.ones((2, 3)),), {"rate": 1.0}, match="rate"),)),
]


def _stats_shape(x, axis):
    shape = [1] * x.ndim
    shape[axis] = x.shape[axis]
    return shape


def _bn_ref(x, m, v, b, g, axis=-1, epsilon=1e-3):
    s = _stats_shape(x, axis)
    return (x - m.reshape(s)) / np.sqrt(v.reshape(s) + epsilon) * g.reshape(s) + b.reshape(s)


def _bn_train_ref(x, g, b, axis=-1, epsilon=1e-3):
    other = tuple(i for i in range(x.ndim) if i != axis % x.ndim)
    m, v = x.mean(axis=other), x.var(axis=other)
    return _bn_ref(x, m, v, b, g, axis, epsilon), m, v


def _ln_ref(x, g, b, norm_size=None, epsilon=1e-3):
    d = norm_size or x.shape[-1]
    flat = x.reshape(-1, d)
    y = (flat - flat.mean(1, keepdims=True)) / np.sqrt(flat.var(1, keepdims=True) + epsilon)
    return (y * g.reshape(-1) + b.reshape(-1)).reshape(x.shape)


def _bn_samples(rng):
    out = []
    for shape, axis in [((4, 3), -1), ((2, 3, 2), 1), ((1, 5), -1), ((3, 4, 5), -1), ((0, 3), -1)]:
        c = shape[axis]
        args = (uniform(rng, shape), uniform(rng, c), rng.uniform(0.5, 2.0, c), uniform(rng, c), uniform(rng, c))
        out.append(Sample(args, {"axis": axis}, f"{shape}-axis{axis}"))
    return out


def _bn_train_samples(rng):
    return [Sample((uniform(rng, s), rng.uniform(0.5, 1.5, s[a]), uniform(rng, s[a])), {"axis": a}, f"{s}-axis{a}")
            for s, a in [((6, 4), -1), ((2, 3, 4, 5), -1), ((2, 3, 4, 5), 1), ((1, 5), -1), ((3, 1, 2), -1)]]


def _ln_samples(rng):
    return [Sample((uniform(rng, s), uniform(rng, g), uniform(rng, g)), kw, f"{s}-{kw}")
            for s, g, kw in [((4, 5), (5,), {}), ((2, 2, 3), (2, 3), {"norm_size": 6}), ((1, 4), (4,), {}),
                             ((3, 4, 5), (5,), {}), ((3, 4, 5), (4, 5), {"norm_size": 20}), ((0, 4), (4,), {})]]


NORMALIZATION = [
    OpInfo("batch_normalization", lambda x, m, v, b, g, **kw: ops.batch_normalization(x, m, v, offset=b, scale=g,
                                                                                         **kw),
           _bn_samples, _bn_ref, ("batch_norm_infer", "batch_norm_backward"), diff=(0, 3, 4)),
    OpInfo("batch_normalization_training", ops.batch_normalization_training, _bn_train_samples, _bn_train_ref,
           ("batch_norm_train", "batch_norm_backward"), grad_out=lambda outs: outs[0],
           tol={"float32": (1e-4, 1e-5)}),
    OpInfo("layer_normalization", ops.layer_normalization, _ln_samples, _ln_ref, ("layer_norm", "layer_norm_backward"),
           tol={"float32": (1e-4, 1e-5)}),
]

# -- spatial ops ---------------------------------------------------------------------------------

# (input shape, kernel shape, strides, dilation, padding): odd sizes, batch 1, strides past the kernel,
# dilation, 1x1 kernels, 1-D/2-D/3-D and grouped kernels (groups = input channels // kernel's)
CONV_CONFIGS = [
    ((2, 7, 3), (3, 3, 2), (1,), (1,), "valid"),
    ((2, 9, 2), (3, 2, 3), (2,), (1,), "same"),
    ((1, 10, 2), (3, 2, 2), (1,), (2,), "causal"),
    ((2, 8, 2), (2, 2, 2), (3,), (1,), "valid"),
    ((2, 5, 4, 3), (3, 3, 3, 2), (1, 1), (1, 1), "same"),
    ((2, 6, 5, 2), (2, 2, 2, 3), (1, 1), (1, 1), "same"),
    ((1, 7, 6, 2), (3, 2, 2, 2), (2, 2), (1, 1), "same"),
    ((2, 7, 7, 2), (3, 3, 2, 2), (1, 1), (2, 2), "same"),
    ((2, 8, 7, 2), (2, 2, 2, 2), (3, 3), (1, 1), "valid"),
    ((2, 4, 3, 3), (1, 1, 3, 2), (1, 1), (1, 1), "valid"),
    ((2, 5, 5, 2), (1, 1, 2, 2), (2, 2), (1, 1), "valid"),
    ((1, 4, 5, 3, 2), (2, 3, 2, 2, 2), (1, 2, 1), (1, 1, 1), "same"),
    ((2, 5, 4, 4, 1), (3, 2, 2, 1, 2), (1, 1, 1), (1, 1, 1), "valid"),
    ((2, 9, 4), (3, 2, 4), (1,), (1,), "valid"),
    ((1, 10, 8), (3, 2, 4), (1,), (2,), "causal"),
    ((2, 11, 6), (4, 2, 6), (2,), (1,), "same"),
    ((2, 6, 5, 4), (3, 3, 2, 6), (1, 1), (1, 1), "same"),
    ((1, 7, 8, 8), (2, 2, 2, 8), (2, 2), (1, 1), "same"),
    ((2, 9, 6, 8), (3, 2, 2, 4), (1, 1), (2, 1), "valid"),
    ((2, 4, 3, 6), (1, 1, 3, 4), (1, 1), (1, 1), "valid"),
    ((2, 5, 5, 4), (1, 1, 1, 8), (2, 2), (1, 1), "valid"),
    ((2, 6, 5, 3), (3, 2, 1, 6), (1, 2), (1, 1), "same"),
    ((1, 5, 4, 3, 4), (2, 3, 2, 2, 4), (1, 2, 1), (1, 1, 1), "same"),
    ((2, 4, 4, 4, 6), (2, 2, 2, 3, 2), (1, 1, 1), (1, 1, 1), "valid"),
    ((0, 5, 3), (3, 3, 2), (1,), (1,), "same"),  # empty batch
]


def _conv_sample(xs, ws, s, d, pad):
    return lambda rng: Sample((rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(ws[-1])),
                              {"strides": s, "padding": pad, "dilation_rate": d}, f"{xs}-k{ws[:-2]}-s{s}-d{d}-{pad}")


def _channels_first(xs, ws):
    return lambda rng: Sample((rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(ws[-1])),
                              {"strides": (2, 1), "padding": "same", "data_format": "channels_first"},
                              f"channels_first-{xs}-k{ws}")


def _spatial_ref(fn):
    """A channels_last reference applied to channels_first inputs by moving the channel axis."""
    def ref(x, *args, data_format=None, **kw):
        if data_format == "channels_first":
            return np.moveaxis(fn(np.moveaxis(x, 1, -1), *args, **kw), -1, 1)
        return fn(x, *args, **kw)
    return ref


@_spatial_ref
def _conv_ref(x, w, b, strides=1, padding="valid", dilation_rate=1):
    rank = w.ndim - 2
    return reference_conv(x, w, _tuple(strides, rank), _tuple(dilation_rate, rank), padding) + b


def _tuple(v, rank):
    return (v,) * rank if np.isscalar(v) else tuple(v)


@_spatial_ref
def _conv_transpose_ref(x, w, b, strides=1, padding="valid", output_padding=None):
    return reference_conv_transpose(x, w, strides, padding, output_padding) + b


@_spatial_ref
def _depthwise_ref(x, w, b, strides=1, padding="valid", dilation_rate=1):
    rank = w.ndim - 2
    return reference_depthwise(x, w, _tuple(strides, rank), _tuple(dilation_rate, rank), padding) + b


def _separable_ref(x, dw, pw, b, **kw):
    y = _depthwise_ref(x, dw, 0.0, **kw)
    return _conv_ref(y, pw, b, data_format=kw.get("data_format"))


TRANSPOSE_CONFIGS = [
    ((2, 4, 3), (3, 5, 3), (2,), "valid", None),
    ((1, 5, 2), (4, 3, 2), (3,), "same", (1,)),
    ((2, 4, 3, 3), (3, 3, 5, 3), (2, 2), "same", None),
    ((2, 3, 4, 2), (3, 2, 4, 2), (2, 1), "valid", None),
    ((1, 3, 3, 2), (2, 2, 3, 2), (3, 3), "same", (2, 1)),
    ((2, 2, 3, 2, 2), (2, 2, 2, 3, 2), (2, 1, 2), "valid", None),
    ((0, 3, 2), (3, 4, 2), (2,), "valid", None),  # empty batch
]


def _transpose_sample(xs, ws, s, pad, op):
    return lambda rng: Sample((rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(ws[-2])),
                              {"strides": s, "padding": pad, "output_padding": op}, f"{xs}-k{ws[:-2]}-s{s}-{pad}-{op}")


def _kernel_sample(xs, ws, bias_size, **kw):
    return lambda rng: Sample((rng.standard_normal(xs), rng.standard_normal(ws), rng.standard_normal(bias_size)), kw,
                              f"{xs}-k{ws}-{kw}")


# (input shape, kernel shape, strides, dilation, padding)
DEPTHWISE_CONFIGS = [
    ((2, 7, 3), (3, 3, 2), (1,), (2,), "valid"),
    ((1, 10, 5), (4, 5, 1), (3,), (1,), "same"),
    ((1, 7, 8, 3), (3, 3, 3, 2), (2, 2), (1, 1), "same"),
    ((2, 6, 5, 4), (2, 2, 4, 1), (1, 1), (2, 2), "same"),
    ((2, 5, 4, 2), (3, 1, 2, 3), (1, 1), (1, 1), "valid"),
    ((1, 9, 8, 2), (3, 2, 2, 2), (2, 2), (2, 2), "same"),              # strides with dilation (Keras 3 allows)
    ((1, 4, 3, 5, 2), (2, 2, 3, 2, 2), (1, 1, 1), (1, 1, 1), "same"),  # 3-D: a kcore extension
]
_DEPTHWISE = fixed(*[_kernel_sample(xs, ws, ws[-2] * ws[-1], strides=s, dilation_rate=d, padding=p)
                     for xs, ws, s, d, p in DEPTHWISE_CONFIGS],
                   _kernel_sample((2, 5, 4, 3), (3, 3, 3, 2), 6, padding="same"),
                   _kernel_sample((1, 7, 2), (3, 2, 1), 2, strides=2),
                   _kernel_sample((2, 6, 6, 2), (2, 2, 2, 1), 2, strides=2, dilation_rate=2),
                   _kernel_sample((2, 3, 5, 4), (2, 2, 3, 2), 6, padding="same", data_format="channels_first"),
                   _kernel_sample((0, 5, 2), (3, 2, 1), 2))


def _separable_sample(xs, dws, filters, **kw):
    rank = len(xs) - 2
    pw = (1,) * rank + (dws[-2] * dws[-1], filters)
    return lambda rng: Sample((rng.standard_normal(xs), rng.standard_normal(dws), rng.standard_normal(pw),
                               rng.standard_normal(filters)), kw, f"{xs}-k{dws}-f{filters}-{kw}")


def _bad_cases(cases, default=None):
    """Bad(...) per (kwargs, shapes of the array arguments, message) triple."""
    return tuple(Bad(tuple(np.zeros(s) for s in shapes), {**(default or {}), **kw}, match=m) for kw, shapes, m in cases)


CONV_BAD = _bad_cases([
    ({}, [(5, 5, 3), (3, 3, 3, 4)], "expects inputs of rank 4"),
    ({}, [(1, 5, 5, 2), (3, 3, 3, 4)], "2 channels"),
    ({"strides": 2, "dilation_rate": 2}, [(1, 9, 9, 3), (3, 3, 3, 4)], "dilation_rate"),
    ({"strides": 0}, [(1, 5, 5, 3), (3, 3, 3, 4)], "strides"),
    ({"padding": "full"}, [(1, 5, 5, 3), (3, 3, 3, 4)], "padding"),
    ({"padding": "causal"}, [(1, 5, 5, 3), (3, 3, 3, 4)], "padding"),
    ({}, [(1, 2, 2, 3), (3, 3, 3, 4)], "smaller than the dilated kernel"),
    ({}, [(1, 5, 5, 3), (0, 3, 3, 4)], "positive"),
    ({}, [(1, 5, 5, 3), (3, 3, 4)], "expects inputs of rank 3"),
    ({"strides": (1, 1, 1)}, [(1, 5, 5, 3), (3, 3, 3, 4)], "tuple of 2"),
    ({}, [(1, 5, 5, 6), (3, 3, 4, 4)], r"shape \(1, 5, 5, 6\) have 6 channels.*not a multiple.*\(3, 3, 4, 4\)"),
    ({}, [(1, 5, 5, 6), (3, 3, 2, 4)], r"4 filters.*not divisible by groups=3"),
])
CONV_TRANSPOSE_BAD = _bad_cases([
    ({}, [(5, 5, 3), (3, 3, 4, 3)], "expects inputs of rank 4"),
    ({}, [(1, 5, 5, 2), (3, 3, 4, 3)], "2 channels"),
    ({"output_padding": 2}, [(1, 5, 5, 3), (3, 3, 4, 3)], "smaller than strides"),
    ({"padding": "causal"}, [(1, 5, 3), (3, 4, 3)], "padding"),
], default={"strides": 2})
POOL_BAD = _bad_cases([
    ({"pool_size": 2}, [(5, 5)], "rank 3, 4 or 5"),
    ({"pool_size": (2, 2)}, [(1, 5, 3)], "tuple of 1"),
    ({"pool_size": 0}, [(1, 5, 5, 3)], "pool_size"),
    ({"pool_size": 2, "strides": 0}, [(1, 5, 5, 3)], "strides"),
    ({"pool_size": 2, "padding": "causal"}, [(1, 5, 3)], "padding"),
    ({"pool_size": 4}, [(1, 3, 3, 2)], "smaller than the pool size"),
])

CONV = [
    OpInfo("conv", lambda x, w, b=None, **kw: ops.conv(x, w, bias=b, **kw),
           fixed(*[_conv_sample(*c) for c in CONV_CONFIGS], _channels_first((2, 2, 5, 4), (3, 2, 2, 3)),
                 _channels_first((2, 4, 5, 6), (3, 2, 2, 4))), _conv_ref, ("conv", "conv_backward"),
           tol={"float32": (1e-4, 1e-4)}, cuda=False, bad=CONV_BAD),
    OpInfo("conv_transpose", lambda x, w, b=None, **kw: ops.conv_transpose(x, w, bias=b, **kw),
           fixed(*[_transpose_sample(*c) for c in TRANSPOSE_CONFIGS]), _conv_transpose_ref,
           ("conv_transpose", "conv_transpose_backward"), tol={"float32": (1e-4, 1e-4)}, cuda=False,
           bad=CONV_TRANSPOSE_BAD),
    OpInfo("depthwise_conv", lambda x, w, b=None, **kw: ops.depthwise_conv(x, w, bias=b, **kw), _DEPTHWISE,
           _depthwise_ref, ("conv", "conv_backward"), tol={"float32": (1e-4, 1e-4)}, cuda=False,
           bad=_bad_cases([({}, [(1, 5, 5, 3), (3, 3, 4, 1)], r"depthwise_conv.*3 channels.*expects 4"),
                           ({"padding": "causal"}, [(1, 5, 3), (3, 3, 1)], "padding")])),
    OpInfo("separable_conv", lambda x, dw, pw, b=None, **kw: ops.separable_conv(x, dw, pw, bias=b, **kw),
           fixed(_separable_sample((2, 5, 4, 3), (3, 3, 3, 2), 4, padding="same"),
                 _separable_sample((1, 8, 2), (3, 2, 2), 3, strides=2),
                 _separable_sample((2, 6, 7, 3), (3, 2, 3, 2), 4, strides=(2, 1), padding="same"),
                 _separable_sample((1, 3, 9), (2, 3, 2), 2, data_format="channels_first", dilation_rate=2)),
           _separable_ref, ("conv", "conv_backward"), tol={"float32": (1e-4, 1e-4)}, cuda=False,
           bad=_bad_cases([
               ({}, [(1, 5, 5, 3), (3, 3, 3, 2), (1, 1, 3, 4)],
                r"pointwise_kernel.*\(1, 1, 6, 'filters'\).*\(1, 1, 3, 4\)"),
               ({}, [(1, 5, 5, 3), (3, 3, 3, 1), (3, 3, 3, 4)], "pointwise_kernel")])),
]

# (input shape, pool, strides, padding)
POOL_CONFIGS = [
    ((2, 7, 3), (2,), (2,), "valid"),
    ((2, 7, 3), (3,), (2,), "same"),
    ((1, 5, 2), (4,), (1,), "same"),
    ((2, 5, 6, 3), (2, 2), (2, 2), "valid"),
    ((2, 5, 5, 2), (3, 3), (2, 2), "same"),
    ((1, 6, 5, 2), (2, 3), (1, 2), "same"),
    ((2, 7, 7, 1), (2, 2), (3, 3), "valid"),
    ((1, 4, 5, 3, 2), (2, 2, 2), (2, 2, 2), "same"),
    ((2, 3, 4, 4, 1), (2, 3, 2), (1, 1, 2), "valid"),
    ((0, 5, 2), (2,), (2,), "valid"),  # empty batch
]


def _pool_sample(xs, pool, s, pad, data_format=None):
    # distinct values keep the max away from ties, where finite differences are undefined
    kw = {"pool_size": pool, "strides": s, "padding": pad}
    if data_format:
        kw["data_format"] = data_format
    return lambda rng: Sample((rng.permutation(int(np.prod(xs))).reshape(xs) * 0.1,), kw,
                              f"{xs}-p{pool}-s{s}-{pad}-{data_format or ''}")


def _pool_row(name, mode):
    @_spatial_ref
    def ref(x, pool_size, strides=None, padding="valid"):
        pool = _tuple(pool_size, x.ndim - 2)
        return reference_pool(x, pool, pool if strides is None else _tuple(strides, x.ndim - 2), padding, mode)

    extra = [_pool_sample((2, 3, 6, 4), 2, None, "valid", "channels_first"),
             _pool_sample((2, 3, 6, 4), (2, 3), None, "same", "channels_first")]
    return OpInfo(name, getattr(ops, name), fixed(*[_pool_sample(*c) for c in POOL_CONFIGS], *extra), ref,
                  ("pool", "pool_backward"), cuda=False, tol={"float32": (1e-5, 1e-5)}, bad=POOL_BAD)


POOL = [_pool_row("max_pool", "max"), _pool_row("average_pool", "average")]

# -- recurrent ops -------------------------------------------------------------------------------

_GATES = {"simple_rnn": 1, "lstm": 4, "gru": 3}
_MASK = np.array([[1, 1, 0, 1], [0, 1, 1, 0]])  # holes, a masked first step and a masked last step


def _rnn_sample(kind, batch=2, steps=4, features=3, units=3, reset_after=True, grad=True, **kw):
    g = _GATES[kind]

    def make(rng):
        w, r = rng.standard_normal((features, g * units)) * 0.5, rng.standard_normal((units, g * units)) * 0.5
        b = rng.standard_normal((2, g * units) if kind == "gru" and reset_after else (g * units,)) * 0.5
        states = tuple(rng.standard_normal((batch, units)) for _ in range(2 if kind == "lstm" else 1))
        extra = {"reset_after": reset_after} if kind == "gru" else {}
        desc = "-".join(["masked" if k == "mask" else f"{k}={v}" for k, v in {**kw, **extra}.items()])
        return Sample((rng.standard_normal((batch, steps, features)), w, r, b) + states, {**kw, **extra},
                      f"b{batch}-t{steps}-{desc}", grad)
    return make


def _rnn_op(kind):
    fn = getattr(ops, kind)
    return lambda x, w, r, b, *states, **kw: fn(x, w, r, b, initial_state=list(states), **kw)


def _rnn_ref(kind):
    def ref(x, w, r, b, *states, mask=None, go_backwards=False, activation="tanh", recurrent_activation="sigmoid",
            reset_after=True):
        step = make_cell(kind, activation, recurrent_activation, reset_after)
        out, finals = run_rnn(step, x, w, r, b, states, mask, go_backwards)
        return (out, *finals)
    return ref


def _rnn_row(kind):
    samples = [_rnn_sample(kind), _rnn_sample(kind, mask=_MASK), _rnn_sample(kind, go_backwards=True),
               _rnn_sample(kind, mask=_MASK, go_backwards=True), _rnn_sample(kind, batch=1), _rnn_sample(kind, batch=0),
               _rnn_sample(kind, go_backwards=True, activation="relu"), _rnn_sample(kind, activation="linear"),
               _rnn_sample(kind, activation="sigmoid", batch=3, steps=6, features=4, units=8, grad=False)]
    if kind == "gru":
        samples += [_rnn_sample(kind, reset_after=False, mask=_MASK),
                    _rnn_sample(kind, reset_after=False, go_backwards=True)]
    if kind != "simple_rnn":
        samples += [_rnn_sample(kind, recurrent_activation="hard_sigmoid", activation="relu"),
                    _rnn_sample(kind, recurrent_activation="hard_sigmoid_k2", activation="linear"),
                    _rnn_sample(kind, recurrent_activation="relu", activation="tanh"),
                    _rnn_sample(kind, recurrent_activation="linear", activation="hard_sigmoid")]
    else:
        samples += [_rnn_sample(kind, activation=a) for a in ("hard_sigmoid", "hard_sigmoid_k2")]
    return OpInfo(kind, _rnn_op(kind), fixed(*samples), _rnn_ref(kind), ("rnn_forward", "rnn_backward"),
                  cuda=False, tol={"float32": (1e-5, 2e-5)},
                  bad=(Bad((np.ones((2, 3)), np.ones((3, 12)), np.ones((3, 12)), np.ones(12)), match="3-D"),))


RECURRENT = [_rnn_row(k) for k in ("simple_rnn", "lstm", "gru")]

# ConvLSTM: (input shape, kernel size, options); channels_first inputs are (batch, steps, channels, *spatial)
CONV_LSTM_CASES = [
    ((1, 3, 4, 3, 2), (3, 2), {"padding": "same"}),
    ((2, 4, 7, 2), (3,), {"strides": 2, "go_backwards": True, "mask": _MASK}),
    ((1, 3, 5, 4, 1), (2, 2), {"padding": "same", "dilation_rate": 2, "activation": "linear",
                               "recurrent_activation": "relu"}),
    ((1, 2, 2, 3, 3, 3), (2, 2, 2), {"data_format": "channels_first", "padding": "same"}),
    ((2, 2, 6, 1), (2,), {"recurrent_activation": "hard_sigmoid", "dropout": True}),
    ((0, 2, 5, 2), (3,), {}),  # empty batch
]


def _conv_lstm_sample(shape, k, options, filters=2):
    def make(rng):
        kw = dict(options)
        first = kw.get("data_format") == "channels_first"
        channels, spatial = (shape[2], shape[3:]) if first else (shape[-1], shape[2:-1])
        strides, dilation = kw.get("strides", 1), kw.get("dilation_rate", 1)
        out = [output_length(n, kk, _tuple(strides, len(k))[i], _tuple(dilation, len(k))[i], kw.get("padding", "valid"))
               for i, (n, kk) in enumerate(zip(spatial, k))]
        state = (shape[0], filters, *out) if first else (shape[0], *out, filters)
        if kw.pop("dropout", False):
            kw["recurrent_dropout_mask"] = (rng.uniform(size=state) > 0.3) / 0.7
        args = (rng.uniform(-1, 1, shape), rng.uniform(-0.5, 0.5, k + (channels, 4 * filters)),
                rng.uniform(-0.5, 0.5, k + (filters, 4 * filters)), rng.uniform(-0.5, 0.5, 4 * filters),
                rng.uniform(-1, 1, state), rng.uniform(-1, 1, state))
        desc = "-".join("masked" if n == "mask" else f"{n}={v}" for n, v in options.items())
        return Sample(args, kw, f"{shape}-k{k}-{desc}")
    return make


def _conv_lstm_ref(x, w, u, b, h0, c0, strides=1, padding="valid", dilation_rate=1, data_format=None, mask=None,
                   go_backwards=False, activation="tanh", recurrent_activation="sigmoid", recurrent_dropout_mask=None):
    rank = w.ndim - 2
    first = data_format == "channels_first"
    last = (lambda a, axis: np.moveaxis(a, axis, -1)) if first else (lambda a, axis: a)
    drop = None if recurrent_dropout_mask is None else last(recurrent_dropout_mask, 1)
    out, h, c = reference_conv_lstm(last(x, 2), w, u, b, last(h0, 1), last(c0, 1), _tuple(strides, rank),
                                    _tuple(dilation_rate, rank), padding, mask, go_backwards,
                                    ACTIVATIONS[activation], ACTIVATIONS[recurrent_activation], drop)
    if first:
        return np.moveaxis(out, -1, 2), np.moveaxis(h, -1, 1), np.moveaxis(c, -1, 1)
    return out, h, c


RECURRENT.append(OpInfo(
    "conv_lstm", lambda x, w, u, b, h0, c0, **kw: ops.conv_lstm(x, w, u, b, initial_state=[h0, c0], **kw),
    fixed(*[_conv_lstm_sample(*c) for c in CONV_LSTM_CASES]), _conv_lstm_ref,
    ("conv_lstm_forward", "conv_lstm_backward"), cuda=False, tol={"float32": (1e-5, 2e-5)},
    bad=(Bad((np.ones((2, 3, 4)), np.ones((3, 4, 8)), np.ones((3, 2, 8)), np.ones(8), np.ones((2, 2, 2)),
              np.ones((2, 2, 2))), match="axes"),)))

IMAGE = [
    OpInfo("image.resize", ops.image.resize,
           fixed(*[(lambda rng, m=m, s=s: Sample((uniform(rng, (1, 3, 4, 2)),), {"size": s, "interpolation": m},
                                                 f"{m}-{s}"))
                   for m in ("bilinear", "nearest", "bicubic", "area") for s in ((5, 6), (2, 3))],
                 lambda rng: Sample((uniform(rng, (0, 3, 4, 2)),), {"size": (5, 6)}, "empty")),
           None, ("matmul", "transpose"), bad=(Bad((np.ones((1, 3, 4, 2)),), {"size": (2, 2), "interpolation": "x"},
                                                   match="interpolation"),)),
]

ROWS = LOSSES + NORMALIZATION + CONV + POOL + RECURRENT + IMAGE
