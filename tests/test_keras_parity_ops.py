"""Keras parity of activations and logic ops: relu's full arguments, NaN propagation, softmax over
axis tuples and with infinities, comparisons / logical ops / where with bool tensors.

Expected values come from real Keras 3 (TensorFlow backend): tests/data/gen/gen_keras_parity_ops.py
wrote tests/data/keras_parity_ops.npz.
"""
import os

import numpy as np
import pytest

import kcore
from kcore import activations, layers, ops
from kcore.testing import gradcheck

REF = np.load(os.path.join(os.path.dirname(__file__), "data", "keras_parity_ops.npz"))
R = np.random.default_rng(11)


def relu_cases():
    for i, (slope, max_value, threshold) in enumerate(REF["relu_cases"]):
        yield i, float(slope), (None if max_value == -1 else float(max_value)), float(threshold)


# -- 1. relu ------------------------------------------------------------------------


@pytest.mark.parametrize("case", list(relu_cases()), ids=lambda c: f"slope{c[1]}-max{c[2]}-thr{c[3]}")
def test_relu_arguments_match_keras(case):
    i, slope, max_value, threshold = case
    out = activations.relu(REF["relu_x"], negative_slope=slope, max_value=max_value, threshold=threshold)
    np.testing.assert_array_equal(out.numpy(), REF[f"relu_{i}"])  # NaN positions included
    if f"relu_layer_{i}" in REF:
        layer = layers.ReLU(max_value=max_value, negative_slope=slope, threshold=threshold)
        np.testing.assert_array_equal(layer(REF["relu_x"]).numpy(), REF[f"relu_layer_{i}"])


@pytest.mark.parametrize("kwargs", [{"threshold": -1.0}, {"max_value": -1.0}, {"negative_slope": -0.1},
                                    {"threshold": None}])
def test_relu_layer_rejects_negative_arguments(kwargs):
    with pytest.raises(ValueError, match="ReLU"):
        layers.ReLU(**kwargs)


def test_relu_layer_config_round_trip():
    layer = layers.ReLU(max_value=4.0, negative_slope=0.2, threshold=0.5)
    config = layer.get_config()
    assert (config["max_value"], config["negative_slope"], config["threshold"]) == (4.0, 0.2, 0.5)
    again = layers.ReLU.from_config(config)
    x = REF["relu_x"][:, :10]
    np.testing.assert_array_equal(again(x).numpy(), layer(x).numpy())


@pytest.mark.parametrize("name", ["relu", "sign", "relu6", "leaky_relu"])
def test_nan_propagates_like_keras(name):
    np.testing.assert_array_equal(getattr(ops, name)(REF["relu_x"]).numpy(), REF[f"ops_{name}"])


@pytest.mark.parametrize("case", list(relu_cases()), ids=lambda c: f"case{c[0]}")
def test_relu_arguments_gradients(case):
    _, slope, max_value, threshold = case
    # away from the kinks (0, threshold, max_value), where the derivative jumps
    x = np.array([-2.7, -1.3, -0.55, 0.3, 0.8, 1.7, 2.2, 3.4, 5.3, 7.9])
    gradcheck(lambda t: activations.relu(t, negative_slope=slope, max_value=max_value, threshold=threshold), [x])


def test_relu_and_sign_gradient_at_nan_is_finite():
    x = kcore.Variable(np.array([np.nan, 1.0, -1.0]), dtype="float64")
    with kcore.GradientTape() as tape:
        y = ops.sum(ops.add(ops.relu(x), ops.sign(x)))
    g = tape.gradient(y, x).numpy()
    np.testing.assert_array_equal(g, [0.0, 1.0, 0.0])


# -- 2. softmax ---------------------------------------------------------------------

AXES = {"12": (1, 2), "23": (2, 3), "13": (1, 3), "0": 0, "1t": (1,), "all": (0, 1, 2, 3)}


@pytest.mark.parametrize("name", sorted(AXES))
def test_softmax_over_axis_tuples_matches_keras(name):
    x = REF["sm_x"]
    np.testing.assert_allclose(ops.softmax(x, axis=AXES[name]).numpy(), REF[f"softmax_{name}"], rtol=1e-5,
                               atol=1e-7)
    np.testing.assert_allclose(ops.log_softmax(x, axis=AXES[name]).numpy(), REF[f"log_softmax_{name}"], rtol=1e-5,
                               atol=1e-6)


def test_softmax_negative_and_list_axes_equal_positive_ones():
    x = REF["sm_x"]
    np.testing.assert_allclose(ops.softmax(x, axis=(-1, -2)).numpy(), REF["softmax_23"], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(activations.softmax(x, axis=[2, 1]).numpy(), REF["act_softmax_12"], rtol=1e-5,
                               atol=1e-7)
    np.testing.assert_allclose(activations.log_softmax(x, axis=(-3, -1)).numpy(), REF["log_softmax_13"], rtol=1e-5,
                               atol=1e-6)


def test_softmax_with_infinities_matches_keras():
    x = REF["inf_x"]
    np.testing.assert_allclose(ops.softmax(x).numpy(), REF["softmax_inf"], rtol=1e-6, equal_nan=True)
    np.testing.assert_allclose(activations.softmax(x).numpy(), REF["act_softmax_inf"], rtol=1e-6, equal_nan=True)
    np.testing.assert_allclose(ops.log_softmax(x).numpy(), REF["log_softmax_inf"], rtol=1e-6, equal_nan=True)
    out = ops.softmax(x).numpy()
    assert out[0, 2] == 0.0 and out[4, 0] == 0.0 and out[4, 1] == 1.0  # -inf entries are exact zeros
    # along a non-last axis too
    np.testing.assert_allclose(ops.softmax(x.T, axis=0).numpy(), REF["softmax_inf"].T, rtol=1e-6, equal_nan=True)


# -- 4. layer.activation = None -------------------------------------------------------


def test_setting_activation_to_none_means_linear():
    x = R.standard_normal((2, 4)).astype(np.float32)
    dense = layers.Dense(3, activation="relu")
    dense(x)
    dense.activation = None
    expected = x @ dense.kernel.numpy() + dense.bias.numpy()
    np.testing.assert_allclose(dense(x).numpy(), expected, rtol=1e-5, atol=1e-6)
    assert dense.get_config()["activation"] == "linear"
    dense.activation = "tanh"
    np.testing.assert_allclose(dense(x).numpy(), np.tanh(expected), rtol=1e-5, atol=1e-6)
    conv = layers.Conv1D(2, 3, activation="relu")
    conv(x[:, :, None])
    conv.activation = None
    assert conv.activation is activations.linear
    assert (conv(x[:, :, None]).numpy() < 0).any()
    act = layers.Activation("relu")
    act.activation = None
    np.testing.assert_array_equal(act(x).numpy(), x)
    with pytest.raises(ValueError, match="Could not interpret activation"):
        dense.activation = "nope"


# -- 8. comparisons, logical ops, where ---------------------------------------------

COMPARE = ["greater", "greater_equal", "less", "less_equal", "equal", "not_equal"]
OPERATORS = {"greater": lambda a, b: a > b, "greater_equal": lambda a, b: a >= b, "less": lambda a, b: a < b,
             "less_equal": lambda a, b: a <= b, "equal": lambda a, b: a == b, "not_equal": lambda a, b: a != b}


@pytest.mark.parametrize("name", COMPARE)
def test_comparisons_match_keras_and_return_bool(name):
    a, b = REF["cmp_a"], REF["cmp_b"]
    out = getattr(ops, name)(a, b)
    assert out.dtype == "bool" and out.numpy().dtype == np.bool_
    np.testing.assert_array_equal(out.numpy(), REF[f"cmp_{name}"])
    ta, tb = kcore.convert_to_tensor(a), kcore.convert_to_tensor(b)
    np.testing.assert_array_equal(OPERATORS[name](ta, tb).numpy(), REF[f"cmp_{name}"])
    np.testing.assert_array_equal(OPERATORS[name](ta, b).numpy(), REF[f"cmp_{name}"])  # NumPy operand
    np.testing.assert_array_equal(OPERATORS[name](a, tb).numpy(), REF[f"cmp_{name}"])  # reflected


def test_scalar_comparison_and_logical_ops_match_keras():
    a, b = kcore.convert_to_tensor(REF["cmp_a"]), kcore.convert_to_tensor(REF["cmp_b"])
    np.testing.assert_array_equal((a > 0.5).numpy(), REF["cmp_gt_scalar"])
    np.testing.assert_array_equal((0.5 < a).numpy(), REF["cmp_gt_scalar"])
    ba, bb = ops.greater(a, 0.4), ops.less(b, 0.6)
    for name in ("logical_and", "logical_or", "logical_xor"):
        np.testing.assert_array_equal(getattr(ops, name)(ba, bb).numpy(), REF[name])
    np.testing.assert_array_equal(ops.logical_not(ba).numpy(), REF["logical_not"])
    np.testing.assert_array_equal((ba & bb).numpy(), REF["logical_and"])
    np.testing.assert_array_equal((ba | bb).numpy(), REF["logical_or"])
    np.testing.assert_array_equal((ba ^ bb).numpy(), REF["logical_xor"])
    np.testing.assert_array_equal((~ba).numpy(), REF["logical_not"])
    np.testing.assert_array_equal(ops.logical_and(a, b).numpy(), REF["logical_and_float"])  # NaN counts as true


def test_where_matches_keras():
    a, b = REF["cmp_a"], REF["cmp_b"]
    cond = ops.greater(a, 0.4)
    np.testing.assert_array_equal(ops.where(cond, a, -b).numpy(), REF["where"])
    np.testing.assert_array_equal(ops.where(cond, a, 0.0).numpy(), REF["where_scalar"])
    assert ops.where(cond, a, 0.0).dtype == "float32"
    rows, cols = ops.where(np.array([[True, False], [False, True]]))
    assert rows.numpy().tolist() == [0, 1] and cols.numpy().tolist() == [0, 1]
    np.testing.assert_array_equal(ops.where([1, 0, 2], np.float32(1.0), np.float32(-1.0)).numpy(), [1, -1, 1])
    with pytest.raises(ValueError, match="where"):
        ops.where(cond, np.ones((3, 3), np.float32), 0.0)
    with pytest.raises(ValueError, match="where"):
        ops.where(cond, a)


def test_bool_tensors_cast_and_round_trip():
    ba = ops.greater(REF["cmp_a"], 0.4)
    out = ops.add(ba, np.float32(1.5))
    assert out.dtype == "float32"
    np.testing.assert_array_equal(out.numpy(), REF["bool_plus_float"])
    np.testing.assert_array_equal(ops.cast(ba, "float32").numpy(), REF["bool_cast_float"])
    np.testing.assert_array_equal((ba * 2.0).numpy(), 2.0 * REF["bool_cast_float"])
    np.testing.assert_array_equal(ops.cast(np.array([0.0, -0.0, 2.0, np.nan], np.float32), "bool").numpy(),
                                  REF["float_cast_bool"])
    total = ops.sum(ba)
    assert total.dtype == "int32" and int(total) == int(REF["bool_sum"])
    t = kcore.convert_to_tensor(np.array([[True, False, True]]))
    assert t.dtype == "bool" and t.numpy().dtype == np.bool_ and t.numpy().tolist() == [[True, False, True]]
    assert kcore.convert_to_tensor(True).dtype == "bool"
    assert ops.cast(t, "int64").numpy().tolist() == [[1, 0, 1]]
    assert ops.cast(np.array([0, 3, -1], np.int32), "bool").numpy().tolist() == [False, True, True]
    np.testing.assert_array_equal(np.asarray(t), [[True, False, True]])
    np.testing.assert_array_equal(ops.equal(t, t).numpy(), [[True, True, True]])
    np.testing.assert_array_equal(ops.not_equal(t, 1).numpy(), [[False, True, False]])


def test_int_comparisons_and_nan_helpers():
    i = kcore.convert_to_tensor(np.array([1, 2, 3], np.int32))
    np.testing.assert_array_equal((i >= 2).numpy(), [False, True, True])
    np.testing.assert_array_equal((i > 1.5).numpy(), [False, True, True])
    x = np.array([1.0, np.nan, np.inf, -np.inf], np.float32)
    np.testing.assert_array_equal(ops.isnan(x).numpy(), np.isnan(x))
    np.testing.assert_array_equal(ops.isinf(x).numpy(), np.isinf(x))
    np.testing.assert_array_equal(ops.isfinite(x).numpy(), np.isfinite(x))
    with pytest.raises(ValueError, match="greater"):
        ops.greater(np.ones((2, 3)), np.ones((4,)))


def test_comparisons_are_not_differentiable_and_where_routes_gradients():
    x = kcore.Variable(np.array([0.2, 0.7, -1.0, 2.0]), dtype="float64")
    y = kcore.Variable(np.array([1.0, 1.0, 1.0, 1.0]), dtype="float64")
    with kcore.GradientTape(persistent=True) as tape:
        mask = x > 0.5
        masked = ops.multiply(ops.cast(mask, "float64"), x)
        chosen = ops.where(mask, x, ops.multiply(y, 3.0))
        total = ops.add(ops.sum(masked), ops.sum(chosen))
    assert mask.node is None and not mask.requires_grad
    np.testing.assert_array_equal(tape.gradient(total, x).numpy(), [0.0, 2.0, 0.0, 2.0])
    np.testing.assert_array_equal(tape.gradient(total, y).numpy(), [3.0, 0.0, 3.0, 0.0])
    cond = R.standard_normal((3, 1, 4)) > 0
    gradcheck(lambda a, b: ops.where(cond, a, b), [R.standard_normal((2, 4)), R.standard_normal((3, 1, 1))])


def test_bool_tensors_through_dlpack_and_none_comparisons():
    t = ops.greater(np.array([0.1, 0.9, 0.7], np.float32), 0.5)
    np.testing.assert_array_equal(np.from_dlpack(t), [False, True, True])
    back = kcore.backend.tensor.from_dlpack(np.array([True, False]))
    assert back.dtype == "bool" and back.numpy().tolist() == [True, False]
    assert (t == None) is False and (t != None) is True  # noqa: E711 (Python's identity fallback, as Keras)


def test_tensors_still_hash_by_identity():
    a = kcore.convert_to_tensor(np.ones(3, np.float32))
    b = kcore.convert_to_tensor(np.ones(3, np.float32))
    seen = {a: 1, b: 2}
    assert seen[a] == 1 and seen[b] == 2 and len({a, b, a}) == 2
