"""Every keras.activations function by name: values and gradients against real Keras 3 (values in
tests/data/keras3_activations.npz, made by tests/data/gen/make_keras_activations_reference.py), the names they
serialize to, float64 gradient checks of the composed ones, and their errors."""
import os

import numpy as np
import pytest

import kcore
from kcore import activations, ops
from kcore.backend import GradientTape
from kcore.testing import gradcheck

REF = np.load(os.path.join(os.path.dirname(__file__), "data", "keras3_activations.npz"))
NAMES = sorted(k[2:] for k in REF.files if k.startswith("y_"))
ARGS = {"threshold": {"threshold": 0.3, "default_value": -2.0}}


def test_every_keras_activation_is_known():
    assert len(NAMES) == 32
    for name in NAMES:
        assert callable(activations.get(name)), name


@pytest.mark.parametrize("name", NAMES)
def test_activation_value_and_gradient_match_keras(name):
    fn = activations.get(name)
    x = kcore.convert_to_tensor(REF["x"])
    with GradientTape() as tape:
        tape.watch(x)
        y = fn(x, **ARGS.get(name, {}))
        s = ops.sum(ops.multiply(y, REF["r"][:, : y.shape[-1]]))
    rows = slice(None)
    if name == "sparsemax":  # Keras 3.15 (TF) misses the simplex when the support has > 1 entry: row 2 here
        assert np.abs(REF["y_sparsemax"].sum(-1) - 1).tolist() == pytest.approx([0, 0, 1, 0])
        rows = [0, 1, 3]
    np.testing.assert_allclose(np.asarray(y)[rows], REF[f"y_{name}"][rows], rtol=2e-6, atol=2e-6)
    np.testing.assert_allclose(np.asarray(tape.gradient(s, x))[rows], REF[f"g_{name}"][rows], rtol=2e-5,
                               atol=2e-6)


@pytest.mark.parametrize("name", NAMES)
def test_activation_serializes_to_keras_name(name):
    assert activations.serialize(activations.get(name)) == str(REF[f"name_{name}"])


def test_activation_layer_round_trips_new_names():
    for name in ("celu", "hard_silu", "sparsemax", "squareplus", "tanh_shrink"):
        layer = kcore.layers.Activation(name)
        clone = kcore.layers.Activation.from_config(layer.get_config())
        x = np.linspace(-2, 2, 12, dtype=np.float32).reshape(3, 4)
        np.testing.assert_allclose(np.asarray(clone(x)), np.asarray(layer(x)))


# Inputs away from the branch points, where the finite differences are well defined.
SMOOTH = np.array([[-2.3, -0.7, -0.2, 0.35, 0.8, 1.6], [2.9, -1.4, 0.65, -0.05, 1.2, -3.1]])


@pytest.mark.parametrize("fn", [
    lambda t: ops.celu(t, alpha=0.7), lambda t: ops.glu(t), lambda t: ops.glu(t, axis=0), ops.hard_silu,
    ops.hard_tanh, lambda t: ops.hard_shrink(t, 0.5), lambda t: ops.soft_shrink(t, 0.5), ops.tanh_shrink,
    lambda t: ops.threshold(t, 0.3, -2.0), ops.sparse_plus, ops.sparse_sigmoid, lambda t: ops.squareplus(t, 3.0),
    ops.sparsemax, lambda t: ops.sparsemax(t, axis=0),
], ids=["celu", "glu", "glu_axis0", "hard_silu", "hard_tanh", "hard_shrink", "soft_shrink", "tanh_shrink",
        "threshold", "sparse_plus", "sparse_sigmoid", "squareplus", "sparsemax", "sparsemax_axis0"])
def test_composed_activation_gradients_float64(fn):
    gradcheck(fn, [SMOOTH.copy()])


def test_sparsemax_is_a_projection_onto_the_simplex():
    rng = np.random.default_rng(3)
    x = rng.normal(0, 1.5, (5, 3, 7)).astype(np.float32)
    for axis in (-1, 1, 0):
        y = np.asarray(ops.sparsemax(x, axis=axis))
        np.testing.assert_allclose(y.sum(axis=axis), 1.0, rtol=1e-5)
        assert (y >= 0).all() and (y == 0).any()
    # ties and a single entry
    np.testing.assert_allclose(np.asarray(ops.sparsemax(np.full((2, 4), 0.1, np.float32))), 0.25)
    np.testing.assert_allclose(np.asarray(ops.sparsemax(np.ones((3, 1), np.float32))), 1.0)
    assert ops.sparsemax(np.zeros((0, 4), np.float32)).shape == (0, 4)


def test_composed_activation_errors():
    with pytest.raises(ValueError, match=r"glu: .*divisible by 2.*\(2, 3\)"):
        ops.glu(np.ones((2, 3), np.float32))
    with pytest.raises(ValueError, match="sparsemax: axis 2 is out of range"):
        ops.sparsemax(np.ones((2, 3), np.float32), axis=2)
    with pytest.raises(ValueError, match="celu: alpha must be nonzero"):
        ops.celu(np.ones(3, np.float32), alpha=0.0)
    with pytest.raises(ValueError, match="squareplus: b must be >= 0"):
        ops.squareplus(np.ones(3, np.float32), b=-1)
    with pytest.raises(TypeError):
        ops.threshold(np.ones(3, np.float32), 0.5)  # default_value is required, as in Keras


def test_composed_activations_keep_the_input_float_dtype():
    for dtype in ("float64", "float32"):
        x = np.linspace(-2, 2, 8).astype(dtype).reshape(2, 4)
        for fn in (ops.celu, ops.hard_silu, ops.sparse_plus, ops.sparsemax, ops.glu):
            assert fn(x).dtype == dtype
