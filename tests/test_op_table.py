"""Tests driven by the op table (tests/op_table.py): every public op of kcore.ops gets float64 gradient
checks, NumPy parity in float32 and float64, bad-input errors that name it, read-only inputs and
CPU/CUDA parity (skipped without a GPU) from its one row."""
import types
import zlib

import numpy as np
import pytest
from op_table import EXCLUDED, OP_TABLE

import kcore
from kcore import ops
from kcore.backend.autodiff import GradientTape
from kcore.backend.device import use_device
from kcore.backend.native import _C
from kcore.backend.tensor import Tensor, convert_to_tensor
from kcore.testing import gradcheck

HAS_CUDA = kcore.cuda.is_available()


def _samples(row):
    return row.samples(np.random.default_rng(zlib.crc32(row.name.encode())))


def _cases(select=lambda row, sample: True, dtypes=False):
    out = []
    for row in OP_TABLE:
        for i, s in enumerate(_samples(row)):
            if not select(row, s):
                continue
            for d in (row.dtypes if dtypes else (None,)):
                out.append(pytest.param(row, i, d, id=f"{row.name}-{i}-{s.desc}" + (f"-{d}" if d else "")))
    return out


def _convert(arg, dtype, device="cpu"):
    """A sample argument as the op receives it: arrays become tensors (floats cast to `dtype`)."""
    if isinstance(arg, list):
        return [_convert(a, dtype, device) for a in arg]
    if not isinstance(arg, np.ndarray):
        return arg
    if dtype is not None and arg.dtype.kind == "f":
        arg = arg.astype(dtype)
    t = convert_to_tensor(np.array(arg, order="C"))  # ascontiguousarray would make 0-d 1-d
    return t.to(device) if device != "cpu" else t


def _args(row, sample, dtype, device="cpu"):
    return [a if i in row.skip_cast else _convert(a, dtype, device) for i, a in enumerate(sample.args)]


def _host(x):
    """A result as NumPy: tensors to arrays, tuples/lists elementwise, anything else unchanged."""
    if isinstance(x, (tuple, list)):
        return [_host(v) for v in x]
    if isinstance(x, Tensor):
        return np.asarray(x.to("cpu").numpy()) if x.value.device != "cpu" else x.numpy()
    return x


def _outputs(x):
    return list(x) if isinstance(x, (tuple, list)) else [x]


def _assert_matches(got, want, rtol, atol, what):
    got, want = _outputs(got), _outputs(want)
    assert len(got) == len(want), f"{what}: {len(got)} outputs, the reference has {len(want)}"
    for k, (g, w) in enumerate(zip(got, want)):
        if not isinstance(w, np.ndarray) and not isinstance(g, np.ndarray):
            assert g == w, f"{what} output {k}: {g!r} != {w!r}"
            continue
        g, w = np.asarray(g), np.asarray(w)
        assert g.shape == w.shape, f"{what} output {k}: shape {g.shape}, the reference has {w.shape}"
        if w.dtype.kind in "biu" and g.dtype.kind in "biu":
            np.testing.assert_array_equal(g, w, err_msg=f"{what} output {k}")
        else:
            np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, err_msg=f"{what} output {k}")


# -- coverage -----------------------------------------------------------------------------------


def _public_ops():
    """The functions kcore.ops exports, plus its image submodule's op (its other names are helpers)."""
    names = {n for n, v in vars(ops).items() if not n.startswith("_") and isinstance(v, types.FunctionType)}
    return names | {"image.resize"}


def test_every_public_op_has_a_row_or_an_exclusion_with_a_reason():
    covered = {r.name for r in OP_TABLE} | {a for r in OP_TABLE for a in r.aliases}
    missing = sorted(_public_ops() - covered - set(EXCLUDED))
    assert not missing, f"public ops with no row in tests/op_table.py and no exclusion: {missing}"
    assert all(len(reason) > 20 for reason in EXCLUDED.values())
    stale = sorted((set(EXCLUDED) | covered) - _public_ops() - {r.name for r in OP_TABLE if "." in r.name})
    assert not stale, f"rows or exclusions for names kcore.ops does not export: {stale}"


def test_aliases_are_the_same_op():
    for row in OP_TABLE:
        for alias in row.aliases:
            s = _samples(row)[0]
            want = _host(row.op(*_args(row, s, "float64"), **s.kwargs))
            got = _host(getattr(ops, alias)(*_args(row, s, "float64"), **s.kwargs))
            _assert_matches(got, want, 0, 0, f"{alias} (alias of {row.name})")


def test_every_differentiable_native_op_is_exercised_by_a_row():
    listed = {n for r in OP_TABLE for n in r.native}
    assert listed <= set(dir(_C)), f"rows name native ops _C does not have: {sorted(listed - set(dir(_C)))}"
    for name in dir(_C):
        if name.endswith("_backward"):
            stem = name[: -len("_backward")]
            assert name in listed and any(n.startswith(stem) and n != name for n in listed), \
                f"the differentiable native op {stem} (with {name}) has no row in the op table"


def test_every_row_has_samples_including_batch_1_or_scalar_and_a_reference_or_a_reason():
    for row in OP_TABLE:
        samples = _samples(row)
        assert len(samples) >= 2, f"{row.name}: give at least two samples"
        assert row.ref is not None or row.name in ("dropout", "image.resize"), f"{row.name}: no NumPy reference"


# -- NumPy parity ---------------------------------------------------------------------------------


@pytest.mark.parametrize("row,index,dtype", _cases(lambda r, s: r.ref is not None, dtypes=True))
def test_matches_numpy(row, index, dtype):
    sample = _samples(row)[index]
    got = row.op(*_args(row, sample, dtype), **sample.kwargs)
    # the reference sees the same (rounded) inputs, in float64
    ref_args = [a.astype(dtype).astype(np.float64) if isinstance(a, np.ndarray) and a.dtype.kind == "f" and
                dtype.startswith("float") else (a.astype(dtype) if isinstance(a, np.ndarray) and a.dtype.kind == "f"
                                                else a) for a in sample.args]
    want = row.ref(*ref_args, **sample.kwargs)
    rtol, atol = row.tolerance(dtype)
    _assert_matches(_host(got), want, rtol, atol, f"{row.name}[{sample.desc}] in {dtype}")
    expected = row.out_dtype(sample, dtype) if callable(row.out_dtype) else row.out_dtype
    if expected is not None:
        expected = dtype if expected == "same" else expected
        for out in _outputs(got):
            assert str(out.dtype) == expected, f"{row.name}: output dtype {out.dtype}, expected {expected}"


# -- gradients ------------------------------------------------------------------------------------


def _grad_fn(row, sample):
    positions = row.diff_positions(sample)
    args = list(sample.args)

    def fn(*diff):
        full = list(args)
        for i, t in zip(positions, diff):
            full[i] = t
        full = [_convert(a, None) if isinstance(a, np.ndarray) else a for a in full]
        out = row.op(*full, **sample.kwargs)
        if row.grad_out is not None:
            return row.grad_out(out)
        outs = _outputs(out)
        return outs[0] if len(outs) == 1 else ops.concatenate([ops.reshape(o, [-1]) for o in outs])

    return fn, [args[i] for i in positions]


@pytest.mark.parametrize("row,index,dtype", _cases(lambda r, s: r.grad and s.grad))
def test_gradient_float64(row, index, dtype):
    sample = _samples(row)[index]
    fn, inputs = _grad_fn(row, sample)
    assert inputs, f"{row.name}: a differentiable op needs a differentiable argument"
    assert gradcheck(fn, inputs, **row.grad_tol)


# -- bad inputs -----------------------------------------------------------------------------------


def _bad_cases():
    return [pytest.param(row, bad, id=f"{row.name}-{i}") for row in OP_TABLE for i, bad in enumerate(row.bad)]


@pytest.mark.parametrize("row,bad", _bad_cases())
def test_bad_input_raises_a_clear_error_naming_the_op(row, bad):
    args = [_convert(a, None) for a in bad.args]
    with pytest.raises(bad.exc, match=bad.match) as info:
        row.op(*args, **bad.kwargs)
    public = row.name.rsplit(".", 1)[-1]
    assert public in str(info.value) or row.name in str(info.value), \
        f"{row.name}: the error does not name the op: {info.value}"


@pytest.mark.parametrize("row", [r for r in OP_TABLE if r.text_error and isinstance(_samples(r)[0].args[0], np.ndarray)
                                 and _samples(r)[0].args[0].dtype.kind == "f"], ids=lambda r: r.name)
def test_text_data_is_a_type_error_naming_the_op(row):
    sample = _samples(row)[0]
    args = [_convert(a, None) for a in sample.args]
    args[0] = np.array([["a", "b"]])
    with pytest.raises(TypeError) as info:
        row.op(*args, **sample.kwargs)
    assert row.name.rsplit(".", 1)[-1] in str(info.value), f"{row.name}: {info.value}"


# -- read-only inputs ---------------------------------------------------------------------------


@pytest.mark.parametrize("row", OP_TABLE, ids=lambda r: r.name)
def test_read_only_inputs_are_read_not_written(row):
    sample = _samples(row)[0]
    frozen = []
    for a in sample.args:
        if isinstance(a, np.ndarray):
            a = a.copy()
            a.setflags(write=False)
        frozen.append(a)
    before = [a.copy() if isinstance(a, np.ndarray) else a for a in frozen]
    inputs = [convert_to_tensor(a) if isinstance(a, np.ndarray) else a for a in frozen]  # zero-copy views
    watched = [t for i, t in enumerate(inputs) if i in row.diff_positions(sample)]
    with GradientTape() as tape:
        for t in watched:
            tape.watch(t)
        out = row.op(*inputs, **sample.kwargs)
        total = ops.sum(_grad_fn(row, sample)[0](*watched)) if watched else None
    want = _host(row.op(*[_convert(a, None) for a in before], **sample.kwargs))
    _assert_matches(_host(out), want, 0, 0, f"{row.name} on read-only inputs")
    if watched:
        grads = tape.gradient(total, watched)
        assert all(g is None or np.all(np.isfinite(g.numpy())) for g in grads)
    for a, b in zip(frozen, before):
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b, err_msg=f"{row.name} wrote into a read-only input")


# -- CPU / CUDA parity --------------------------------------------------------------------------


def _forward_and_grads(row, sample, device):
    with use_device(device):  # as after kcore.set_device(device): host data and new tensors go there
        return _run_on_device(row, sample, device)


def _run_on_device(row, sample, device):
    inputs = _args(row, sample, "float32", device)
    positions = row.diff_positions(sample)
    watched = [inputs[i] for i in positions]
    with GradientTape() as tape:
        for t in watched:
            tape.watch(t)
        out = row.op(*inputs, **sample.kwargs)
        total = None
        if watched:
            for o in _outputs(row.grad_out(out) if row.grad_out else out):
                total = ops.sum(o) if total is None else ops.add(total, ops.sum(o))
    grads = tape.gradient(total, watched) if watched else []
    return _host(out), _host([g for g in grads if g is not None])


@pytest.mark.parametrize("row", [r for r in OP_TABLE if r.cuda], ids=lambda r: r.name)
def test_device_parity_harness_on_the_cpu(row):
    """The CUDA comparison's forward-and-gradient run, CPU against CPU: it works for every row it will see."""
    sample = _samples(row)[0]
    out, grads = _forward_and_grads(row, sample, "cpu")
    again, grads_again = _forward_and_grads(row, sample, "cpu")
    _assert_matches(again, out, 0, 0, f"{row.name} run twice")
    _assert_matches(grads_again, grads, 0, 0, f"{row.name} gradients run twice")
    assert len(grads) == len(row.diff_positions(sample)), f"{row.name}: a watched input got no gradient"


@pytest.mark.skipif(not HAS_CUDA, reason="CUDA not available")
@pytest.mark.parametrize("row,index,dtype", _cases(lambda r, s: r.cuda))
def test_cuda_matches_cpu(row, index, dtype):
    sample = _samples(row)[index]
    want_out, want_grads = _forward_and_grads(row, sample, "cpu")
    got_out, got_grads = _forward_and_grads(row, sample, "cuda")
    _assert_matches(got_out, want_out, 1e-4, 1e-5, f"{row.name}[{sample.desc}] forward on cuda")
    _assert_matches(got_grads, want_grads, 1e-4, 1e-5, f"{row.name}[{sample.desc}] gradients on cuda")
