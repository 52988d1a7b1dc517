"""The op table: one row (an OpInfo) per public op of kcore.ops, read by tests/test_op_table.py.

A row says how to call the op, which sample inputs to call it with, the NumPy function it must
agree with, which arguments are differentiable, the tolerances, the dtypes and the native ops it
wraps. tests/test_op_table.py turns every row into float64 gradient checks, NumPy parity in float32
and float64, bad-input checks, read-only-input checks and CPU/CUDA parity. Testing a new op is
adding one row to tests/op_rows_math.py or tests/op_rows_nn.py.

Sample arguments are NumPy arrays (float64 masters, cast to the dtype under test; the tests turn
them into kcore tensors), or plain Python values passed through unchanged; options go in the
sample's kwargs. A new elementwise op needs one line, e.g.

    OpInfo("cosh", ops.cosh, unary_samples(-2.0, 2.0), np.cosh, ("unary", "unary_backward"))

and tests/test_op_table.py then fails until every public op has a row (or an EXCLUDED reason).
"""
import dataclasses
from typing import Any, Callable, Optional

import numpy as np


@dataclasses.dataclass
class Sample:
    """One call of an op: positional `args` and keyword `kwargs`; `desc` names it in test ids."""

    args: tuple
    kwargs: dict = dataclasses.field(default_factory=dict)
    desc: str = ""
    grad: bool = True  # False: too large (or not smooth) for a finite-difference check


@dataclasses.dataclass
class Bad:
    """A call that must raise `exc` with a message matching `match` (the op's name is checked too)."""

    args: tuple
    kwargs: dict = dataclasses.field(default_factory=dict)
    exc: type = ValueError
    match: str = "."  # a regex the message must match


@dataclasses.dataclass
class OpInfo:
    """One public op and everything the table tests need to know about it."""

    name: str                                   # public name in kcore.ops ("image.resize" for a submodule)
    op: Callable                                # op(*args, **kwargs) -> tensor, or a tuple/list of tensors
    samples: Callable[[np.random.Generator], list]  # rng -> [Sample]
    ref: Optional[Callable] = None              # NumPy reference in float64 (same signature as op)
    native: tuple = ()                          # the _C functions it wraps
    diff: Optional[tuple] = None                # differentiable argument positions (None: every float array)
    grad: bool = True                           # has a gradient to check
    grad_out: Optional[Callable] = None         # picks the differentiable output(s) from op's result
    grad_tol: dict = dataclasses.field(default_factory=dict)  # gradcheck's eps / atol / rtol
    dtypes: tuple = ("float32", "float64")
    tol: dict = dataclasses.field(default_factory=dict)  # dtype -> (rtol, atol) for NumPy parity
    out_dtype: Any = "same"                     # "same" (the input dtype), a dtype name, or None (no check)
    cuda: bool = True                           # runs on CUDA tensors (False: no CUDA kernel yet)
    aliases: tuple = ()                         # other public names of the same op
    bad: tuple = ()                             # Bad(...) cases
    skip_cast: tuple = ()                       # argument positions that keep their own dtype
    text_error: bool = True                     # text data as first argument: a TypeError naming the op

    def tolerance(self, dtype):
        default = {"float32": (2e-5, 2e-6), "float64": (1e-10, 1e-12)}.get(dtype, (0, 0))
        return self.tol.get(dtype, default)

    def diff_positions(self, sample):
        """Positions of the arguments the gradient check differentiates."""
        if not self.grad:
            return ()
        if self.diff is not None:
            return tuple(i for i in self.diff if i < len(sample.args))
        return tuple(i for i, a in enumerate(sample.args) if isinstance(a, np.ndarray) and a.dtype.kind == "f")


# -- sample helpers -------------------------------------------------------------------

# shape pairs that broadcast: equal, trailing vector, both sides stretched, scalar, batch 1, empty
BROADCAST_SHAPES = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((1,), (2, 3)), ((), (2, 2)),
                    ((5, 1), (1, 5)), ((1, 7), (1, 7)), ((0, 3), (3,))]
UNARY_SHAPES = [(3, 5), (1, 7), (), (2, 3, 1), (0, 4)]


def uniform(rng, shape, low=-2.0, high=2.0):
    """An array (also for shape ()) drawn uniformly from [low, high)."""
    return np.asarray(rng.uniform(low, high, shape))


def away_from(x, points, gap=0.1):
    """x with every element within `gap` of one of `points` pushed `gap` away (off kinks and poles)."""
    x = np.array(x, dtype=np.float64)
    for p in points:
        near = np.abs(x - p) < gap
        x[near] = p + np.where(x[near] >= p, gap, -gap)
    return x


def unary_samples(low=-2.0, high=2.0, kinks=(), shapes=UNARY_SHAPES, **kwargs):
    """Samples of a one-input op over `shapes`, drawn from [low, high] and kept off `kinks`."""
    def make(rng):
        return [Sample((away_from(uniform(rng, s, low, high), kinks),), dict(kwargs), f"{s}") for s in shapes]
    return make


def binary_samples(low=-2.0, high=2.0, low2=None, high2=None, kinks2=(), tie_gap=None):
    """Samples of a broadcasting two-input op over BROADCAST_SHAPES."""
    def make(rng):
        out = []
        for sa, sb in BROADCAST_SHAPES:
            a = uniform(rng, sa, low, high)
            b = away_from(uniform(rng, sb, low if low2 is None else low2, high if high2 is None else high2), kinks2)
            if tie_gap is not None:  # keep |a - b| >= tie_gap where they meet (max/min jump at ties)
                diff = np.broadcast_to(a, np.broadcast_shapes(sa, sb)) - b
                if np.any(np.abs(diff) < tie_gap):
                    b = b + 0.5 * tie_gap
            out.append(Sample((a, b), {}, f"{sa}x{sb}"))
        return out
    return make


def fixed(*samples):
    """A sample generator returning samples built by functions of rng."""
    def make(rng):
        return [s(rng) for s in samples]
    return make


# -- the table ------------------------------------------------------------------------

# Public names of kcore.ops that have no row, with the reason.
EXCLUDED = {
    "convert_to_tensor": "the conversion entry point, not an op on tensor values (tests/test_engine.py)",
    "is_tensor": "a type predicate, not an op on tensor values",
}


def _load():
    from op_rows_math import ROWS as MATH
    from op_rows_nn import ROWS as NN

    rows = MATH + NN
    names = [r.name for r in rows] + [a for r in rows for a in r.aliases]
    dup = {n for n in names if names.count(n) > 1}
    assert not dup, f"op table: duplicated rows {sorted(dup)}"
    return rows


OP_TABLE = _load()
