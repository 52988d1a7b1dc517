"""Every op of the op table (tests/op_table.py) on bfloat16 inputs: the result (and each input gradient)
has the bf16 dtype and matches the float32 run of the same op on the same bf16-rounded inputs within
bf16's precision (rtol 2e-2 of the output's scale by default; a row may set tol["bfloat16"])."""
import zlib

import ml_dtypes
import numpy as np
import pytest
from op_table import OP_TABLE

from kcore import ops
from kcore.backend.autodiff import GradientTape
from kcore.backend.tensor import Tensor, convert_to_tensor

BF16_TOL = (2e-2, 2e-2)  # (rtol, atol relative to the largest |value| of the float32 result)


def _samples(row):
    return row.samples(np.random.default_rng(zlib.crc32(row.name.encode())))


def _float_rows():
    return [r for r in OP_TABLE if "float32" in r.dtypes]


def _cases():
    out = []
    for row in _float_rows():
        for i, s in enumerate(_samples(row)):
            out.append(pytest.param(row, i, id=f"{row.name}-{i}-{s.desc}"))
    return out


def _convert(arg, dtype, skip):
    if isinstance(arg, list):
        return [_convert(a, dtype, skip) for a in arg]
    if skip or not isinstance(arg, np.ndarray):
        return arg
    if arg.dtype.kind == "f":  # bf16-rounded values, held as bf16 or as float32
        return convert_to_tensor(np.array(arg.astype(ml_dtypes.bfloat16).astype(dtype), order="C"))
    return convert_to_tensor(np.array(arg, order="C"))


def _run(row, sample, dtype):
    args = [_convert(a, dtype, i in row.skip_cast) for i, a in enumerate(sample.args)]
    positions = [i for i in row.diff_positions(sample) if isinstance(args[i], Tensor)] if row.grad else []
    watched = [args[i] for i in positions]
    with GradientTape() as tape:
        for t in watched:
            tape.watch(t)
        out = row.op(*args, **sample.kwargs)
        outs = list(out) if isinstance(out, (tuple, list)) else [out]
        picked = row.grad_out(out) if row.grad_out else out
        total = None
        if watched:
            for k, o in enumerate(picked if isinstance(picked, (tuple, list)) else [picked]):
                # weights exact in bf16, so both runs get the same upstream gradient
                w = ((np.arange(o.size, dtype=np.float32) % 7 - 3) / 4 + 0.125 * k).reshape(o.shape)
                term = ops.sum(ops.multiply(ops.cast(o, "float32"), w))
                total = term if total is None else ops.add(total, term)
    grads = tape.gradient(total, watched) if watched else []
    return outs, grads


def _expected_dtype(row, sample, want):
    """bf16 where the float32 run gives the input dtype; what the float32 run gives otherwise."""
    declared = row.out_dtype(sample, "bfloat16") if callable(row.out_dtype) else row.out_dtype
    if declared in ("same", None) and str(want.dtype) == "float32":
        return "bfloat16"
    return declared if declared not in ("same", None) else str(want.dtype)


def _check(got, want, what, tol, expect=None):
    rtol, atol = tol
    assert isinstance(got, np.ndarray) == isinstance(want, np.ndarray), what
    assert isinstance(got, Tensor) == isinstance(want, Tensor), what
    if not isinstance(want, (Tensor, np.ndarray)):
        assert got == want, what
        return
    g, w = np.asarray(got), np.asarray(want)
    assert g.shape == w.shape, f"{what}: shape {g.shape} vs {w.shape}"
    expect = expect or ("bfloat16" if w.dtype == np.float32 else str(w.dtype))
    assert str(g.dtype) == expect, f"{what}: dtype {g.dtype}, expected {expect}"
    if w.dtype == np.float32:
        g = g.astype(np.float32)
        finite = np.isfinite(w)
        np.testing.assert_array_equal(np.isfinite(g), finite, err_msg=f"{what}: NaN/inf pattern")
        scale = float(np.max(np.abs(w[finite]))) if finite.any() else 0.0
        np.testing.assert_allclose(g[finite], w[finite], rtol=rtol, atol=atol * max(scale, 1e-30),
                                   err_msg=what)
    else:
        if w.dtype.kind in "biu":
            frac = np.mean(g != w) if w.size else 0.0
            assert frac <= 0.1, f"{what}: {frac:.0%} of integer results differ"  # argmax ties after rounding
        else:
            np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, err_msg=what)


@pytest.mark.parametrize("row,index", _cases())
def test_op_on_bfloat16_matches_float32_of_rounded_inputs(row, index):
    sample = _samples(row)[index]
    tol = row.tol.get("bfloat16", BF16_TOL)
    if row.name in ("dropout",):
        pytest.skip("random: its own bf16 test (tests/test_bfloat16_ops.py)")
    got, got_grads = _run(row, sample, ml_dtypes.bfloat16)
    want, want_grads = _run(row, sample, np.float32)
    assert len(got) == len(want)
    for k, (g, w) in enumerate(zip(got, want)):
        expect = _expected_dtype(row, sample, w) if isinstance(w, (Tensor, np.ndarray)) else None
        _check(g, w, f"{row.name}[{sample.desc}] output {k}", tol, expect)
    assert len(got_grads) == len(want_grads)
    for k, (g, w) in enumerate(zip(got_grads, want_grads)):
        if w is None:
            assert g is None
            continue
        _check(g, w, f"{row.name}[{sample.desc}] gradient {k}", tol)
