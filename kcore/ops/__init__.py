"""kcore.ops: functional ops under keras.ops names; accept NumPy arrays or kcore tensors."""
from kcore.backend.tensor import convert_to_tensor, is_tensor
from kcore.ops import image
from kcore.ops.activation_ops import (
    celu,
    glu,
    hard_shrink,
    hard_silu,
    hard_swish,
    hard_tanh,
    soft_shrink,
    sparse_plus,
    sparse_sigmoid,
    sparsemax,
    squareplus,
    tanh_shrink,
    threshold,
)
from kcore.ops.conv import average_pool, conv, conv_transpose, depthwise_conv, max_pool, separable_conv
from kcore.ops.conv_lstm import conv_lstm
from kcore.ops.core import (
    amax,
    amin,
    argmax,
    argmin,
    concatenate,
    convert_to_numpy,
    dot,
    expand_dims,
    flatten,
    getitem,
    linear,
    log_softmax,
    matmul,
    max,
    mean,
    min,
    one_hot,
    ones,
    ones_like,
    reshape,
    shape,
    softmax,
    split,
    squeeze,
    stack,
    stop_gradient,
    sum,
    take,
    transpose,
    zeros,
    zeros_like,
)
from kcore.ops.elementwise import (
    abs,
    add,
    cast,
    clip,
    cos,
    divide,
    elu,
    exp,
    gelu,
    hard_sigmoid,
    leaky_relu,
    log,
    log_sigmoid,
    maximum,
    minimum,
    mish,
    multiply,
    negative,
    power,
    reciprocal,
    relu,
    relu6,
    selu,
    sigmoid,
    sign,
    silu,
    sin,
    softplus,
    softsign,
    sqrt,
    square,
    subtract,
    swish,
    tanh,
    true_divide,
)
from kcore.ops.logic import (
    equal,
    greater,
    greater_equal,
    isfinite,
    isinf,
    isnan,
    less,
    less_equal,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    not_equal,
    where,
)
from kcore.ops.nn import (
    batch_normalization,
    batch_normalization_training,
    dropout,
    layer_normalization,
    mean_absolute_error,
    mean_squared_error,
    sigmoid_cross_entropy,
    softmax_cross_entropy,
    sparse_softmax_cross_entropy,
)
from kcore.ops.rnn import gru, lstm, simple_rnn


def _name_public_ops(namespace, only=None):
    """Errors raised by kcore.ops.<name>(...) name the op: 'add: ...' (see kcore.utils.errors)."""
    import types

    from kcore.utils.errors import named

    for key, fn in list(namespace.items()):
        if isinstance(fn, types.FunctionType) and not key.startswith("_") and fn.__module__.startswith("kcore.") \
                and (only is None or key in only):
            namespace[key] = named(fn, key)


_name_public_ops(globals())
_name_public_ops(vars(image), ("resize",))
