"""The float32 recurrent kernels' packed path (weights packed once, threads over ranges of units)
against the float64 kernels (gradient-checked in test_rnn.py) at sizes where several threads
share the units, the units are not a multiple of the panel width and the batch not of the tile height.
"""
import numpy as np
import pytest

from kcore import ops
from kcore.backend.autodiff import GradientTape
from kcore.backend.config import get_num_threads, set_num_threads
from kcore.backend.tensor import Variable

CELLS = [("simple_rnn", 1, True), ("lstm", 4, True), ("gru", 3, True), ("gru", 3, False)]


def _run(kind, reset_after, dtype, arrays, mask, go_backwards, dropout, **extra):
    x, w, r, b, h0, c0, dm, weights = arrays
    vs = [Variable(a, dtype=dtype) for a in (x, w, r, b, h0, c0)]
    x_, w_, r_, b_, h_, c_ = vs
    if b is None:
        b_ = None
    kw = {"mask": mask, "go_backwards": go_backwards,
          "recurrent_dropout_mask": dm.astype(dtype) if dropout else None, **extra}
    with GradientTape() as tape:
        if kind == "lstm":
            out, h, c = ops.lstm(x_, w_, r_, b_, initial_state=[h_, c_], **kw)
            finals = [h, c]
        elif kind == "gru":
            out, h = ops.gru(x_, w_, r_, b_, initial_state=[h_], reset_after=reset_after, **kw)
            finals = [h]
        else:
            out, h = ops.simple_rnn(x_, w_, r_, b_, initial_state=[h_], **kw)
            finals = [h]
        loss = ops.sum(ops.multiply(out, weights[0].astype(dtype)))
        for f, wt in zip(finals, weights[1:]):
            loss = ops.add(loss, ops.sum(ops.multiply(f, wt.astype(dtype))))
    used = vs[:3] + ([vs[3]] if b is not None else []) + [vs[4]] + ([vs[5]] if kind == "lstm" else [])
    grads = tape.gradient(loss, used)
    return [out.numpy()] + [f.numpy() for f in finals], [g.numpy() for g in grads]


def _arrays(kind, gates, reset_after, bsz, t, d, u, seed, bias=True):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((bsz, t, d))
    w = rng.standard_normal((d, gates * u)) / np.sqrt(d)
    r = rng.standard_normal((u, gates * u)) / np.sqrt(u)
    b = rng.standard_normal((2, gates * u) if kind == "gru" and reset_after else (gates * u,)) * 0.1
    h0, c0 = rng.standard_normal((bsz, u)) * 0.5, rng.standard_normal((bsz, u)) * 0.5
    dm = (rng.random((bsz, u)) > 0.3) / 0.7
    weights = [rng.standard_normal((bsz, t, u)), rng.standard_normal((bsz, u)), rng.standard_normal((bsz, u))]
    return (x, w, r, b if bias else None, h0, c0, dm, weights), rng


def _compare(kind, reset_after, args, mask=None, go_back=False, dropout=False, **extra):
    vals32, grads32 = _run(kind, reset_after, "float32", args, mask, go_back, dropout, **extra)
    vals64, grads64 = _run(kind, reset_after, "float64", args, mask, go_back, dropout, **extra)
    for got, want in zip(vals32, vals64):
        np.testing.assert_allclose(got, want, atol=5e-5)
    for got, want in zip(grads32, grads64):
        np.testing.assert_allclose(got, want, atol=2e-4 * max(1.0, np.abs(want).max()), rtol=1e-4)


@pytest.mark.parametrize("kind,gates,reset_after", CELLS)
@pytest.mark.parametrize("units", [70, 96])
@pytest.mark.parametrize("variant", ["plain", "masked_backwards", "dropout"])
def test_float32_packed_path_matches_float64(kind, gates, reset_after, units, variant):
    args, rng = _arrays(kind, gates, reset_after, 13, 7, 9, units, units)
    mask = (rng.random((13, 7)) > 0.3) if variant == "masked_backwards" else None
    _compare(kind, reset_after, args, mask, variant == "masked_backwards", variant == "dropout")


# The fused gate loops compile once per (recurrent_activation, activation) pair.
@pytest.mark.parametrize("kind,gates,reset_after", [c for c in CELLS if c[2]])
@pytest.mark.parametrize("acts", [("relu", "hard_sigmoid"), ("linear", "sigmoid"), ("tanh", "relu"),
                                  ("sigmoid", "tanh")])
def test_fused_gate_loops_for_other_activations(kind, gates, reset_after, acts):
    args, _ = _arrays(kind, gates, reset_after, 6, 5, 7, 40, 11)
    extra = {"activation": acts[0]}
    if kind != "simple_rnn":
        extra["recurrent_activation"] = acts[1]
    _compare(kind, reset_after, args, **extra)


# batch 1, one step, no bias; and batch x chunk rows above one packed block of the weight gradients.
@pytest.mark.parametrize("kind,gates,reset_after", CELLS)
@pytest.mark.parametrize("bsz,t,d,u,bias", [(1, 1, 3, 33, True), (1, 9, 5, 64, False), (70, 9, 6, 40, True),
                                            (2, 1, 1, 1, True)])
def test_packed_path_edge_shapes(kind, gates, reset_after, bsz, t, d, u, bias):
    args, _ = _arrays(kind, gates, reset_after, bsz, t, d, u, bsz + t + u, bias)
    _compare(kind, reset_after, args)


def test_one_thread_and_two_threads_agree():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((5, 6, 4)).astype(np.float32)
    w = rng.standard_normal((4, 4 * 80)).astype(np.float32) * 0.3
    r = rng.standard_normal((80, 4 * 80)).astype(np.float32) * 0.1
    before = get_num_threads()
    results = []
    try:
        for n in (1, 2):
            set_num_threads(n)
            results.append([a.numpy() for a in ops.lstm(x, w, r)])
    finally:
        set_num_threads(before)
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, atol=1e-6)
