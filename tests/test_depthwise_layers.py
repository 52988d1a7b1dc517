"""Grouped Conv1D/2D/3D, DepthwiseConv1D/2D and SeparableConv1D/2D layers against real Keras 3.

The reference values (outputs and gradients of sum(y * r) w.r.t. the input and every weight, in
float64) and the .keras archive were written by Keras 3.15 with the TensorFlow backend:
tests/data/make_keras_groupconv_reference.py.
"""
import json
from pathlib import Path

import numpy as np
import pytest

import kcore
from kcore import layers as L
from kcore import ops
from kcore.backend.autodiff import GradientTape
from kcore.backend.tensor import Variable
from kcore.saving.serialization import deserialize_layer, serialize_layer

DATA = Path(__file__).resolve().parent / "data"
REF = np.load(DATA / "keras3_groupconv_reference.npz")
CASES = range(int(REF["cases"]))


def _case(i):
    spec = json.loads(str(REF[f"case{i}_layer"]))
    weights = [REF[f"case{i}_w{j}"] for j in range(3) if f"case{i}_w{j}" in REF.files]
    return spec, REF[f"case{i}_x"], weights


def _case_id(i):
    spec = json.loads(str(REF[f"case{i}_layer"]))
    return f"{i}-{spec['class_name']}"


@pytest.mark.parametrize("i", CASES, ids=_case_id)
def test_matches_keras_outputs_and_gradients(i):
    spec, x, weights = _case(i)
    layer = deserialize_layer({"class_name": spec["class_name"], "config": spec["config"]})
    assert layer.compute_output_shape(x.shape) == REF[f"case{i}_y"].shape
    layer.build(x.shape)
    assert [tuple(w.shape) for w in layer.weights] == [w.shape for w in weights]
    layer.set_weights(weights)
    xv = Variable(x, dtype="float64")
    with GradientTape() as tape:
        y = layer(xv)
        total = ops.sum(ops.multiply(y, REF[f"case{i}_r"]))
    grads = tape.gradient(total, [xv] + list(layer.weights))
    np.testing.assert_allclose(y.numpy(), REF[f"case{i}_y"], rtol=1e-10, atol=1e-12)
    names = ["gx"] + [f"gw{j}" for j in range(len(weights))]
    for g, name in zip(grads, names):
        np.testing.assert_allclose(ops.convert_to_numpy(g), REF[f"case{i}_{name}"], rtol=1e-10, atol=1e-12,
                                   err_msg=name)


@pytest.mark.parametrize("i", CASES, ids=_case_id)
def test_config_has_keras_keys_and_round_trips(i):
    spec, x, weights = _case(i)
    layer = deserialize_layer({"class_name": spec["class_name"], "config": spec["config"]})
    config = layer.get_config()
    assert set(config) >= set(spec["config"]) - {"dtype"}
    for key in ("kernel_size", "strides", "dilation_rate", "padding", "depth_multiplier", "filters", "groups"):
        if key in spec["config"]:
            assert config[key] == (tuple(spec["config"][key]) if isinstance(spec["config"][key], list)
                                   else spec["config"][key]), key
    layer.build(x.shape)
    layer.set_weights(weights)
    again = deserialize_layer(json.loads(json.dumps(serialize_layer(layer))))
    again.build(x.shape)
    again.set_weights(weights)
    np.testing.assert_array_equal(again(x).numpy(), layer(x).numpy())


def test_weight_names_shapes_and_defaults():
    dw = L.DepthwiseConv2D(3, depth_multiplier=2)
    dw.build((None, 8, 8, 3))
    assert [(w.name, tuple(w.shape)) for w in dw.weights] == [("kernel", (3, 3, 3, 2)), ("bias", (6,))]
    assert dw.depthwise_kernel is dw.kernel  # Keras 2's attribute name
    assert (dw.strides, dw.padding, dw.dilation_rate, dw.use_bias) == ((1, 1), "valid", (1, 1), True)
    sep = L.SeparableConv1D(5, 3, depth_multiplier=2, use_bias=False)
    sep.build((None, 10, 4))
    assert [(w.name, tuple(w.shape)) for w in sep.weights] == [("depthwise_kernel", (3, 4, 2)),
                                                              ("pointwise_kernel", (1, 8, 5))]
    conv = L.Conv2D(6, 3, groups=3)
    conv.build((None, 5, 5, 9))
    assert tuple(conv.kernel.shape) == (3, 3, 3, 6) and conv.get_config()["groups"] == 3
    assert L.SeparableConvolution2D is L.SeparableConv2D


@pytest.mark.parametrize("layer, in_shape, out_shape, params", [
    (lambda: L.DepthwiseConv2D(3, depth_multiplier=2), (None, 8, 7, 3), (None, 6, 5, 6), 9 * 3 * 2 + 6),
    (lambda: L.DepthwiseConv2D(3, 2, "same", data_format="channels_first"), (2, 3, 7, 8), (2, 3, 4, 4), 30),
    (lambda: L.DepthwiseConv1D(4, padding="same", use_bias=False), (None, None, 5), (None, None, 5), 20),
    (lambda: L.SeparableConv2D(4, 3, strides=2), (1, 9, 9, 2), (1, 4, 4, 4), 18 + 8 + 4),
    (lambda: L.SeparableConv1D(4, 2, dilation_rate=3, depth_multiplier=3), (2, 10, 2), (2, 7, 4), 12 + 24 + 4),
    (lambda: L.Conv1D(6, 3, groups=2, padding="causal"), (None, 12, 4), (None, 12, 6), 3 * 2 * 6 + 6),
    (lambda: L.Conv3D(4, 2, groups=4), (1, 4, 4, 4, 8), (1, 3, 3, 3, 4), 8 * 2 * 4 + 4),
])
def test_output_shapes_and_params(layer, in_shape, out_shape, params):
    lyr = layer()
    assert lyr.compute_output_shape(in_shape) == out_shape
    lyr.build(in_shape)
    assert lyr.count_params() == params
    if None not in in_shape:
        assert tuple(lyr(np.zeros(in_shape, np.float32)).shape) == out_shape


def test_regularizers_and_constraints_for_each_kernel():
    sep = L.SeparableConv2D(3, 3, depthwise_regularizer="l2", pointwise_regularizer="l1", bias_regularizer="l2",
                            depthwise_constraint="non_neg", pointwise_constraint="non_neg",
                            bias_initializer="ones")
    sep.build((None, 6, 6, 2))
    d, p = sep.depthwise_kernel.numpy().astype(np.float64), sep.pointwise_kernel.numpy().astype(np.float64)
    penalties = [float(v) for v in sep.losses]
    np.testing.assert_allclose(penalties, [0.01 * np.sum(d ** 2), 0.01 * np.abs(p).sum(), 0.01 * 3], rtol=1e-5)
    dw = L.DepthwiseConv2D(3, depthwise_regularizer="l1", depthwise_constraint="non_neg", input_shape=(6, 6, 2))
    model = kcore.Sequential([dw, L.SeparableConv2D(2, 2, pointwise_constraint="non_neg", depthwise_constraint=None),
                              L.Flatten(), L.Dense(1)])
    model.compile("sgd", "mse")
    assert len(dw.losses) == 1 and not model.layers[1].losses
    model.fit(np.random.default_rng(0).random((8, 6, 6, 2)), -np.ones((8, 1)), epochs=2, verbose=0)
    assert dw.kernel.numpy().min() >= 0 and model.layers[1].pointwise_kernel.numpy().min() >= 0


def test_real_keras_file_loads_predicts_and_round_trips(tmp_path):
    model = kcore.models.load_model(DATA / "keras3_depthwise.keras")
    io = np.load(DATA / "keras3_depthwise_io.npz")
    kinds = [type(lyr).__name__ for lyr in model.layers]
    assert {"DepthwiseConv2D", "SeparableConv2D", "DepthwiseConv1D", "SeparableConv1D"} <= set(kinds)
    assert model.layers[0].groups == 2 and model.layers[2].pointwise_constraint is not None
    np.testing.assert_allclose(model.predict(io["x0"], verbose=0), io["y0"], rtol=1e-5, atol=1e-5)
    model.save(tmp_path / "again.keras")
    again = kcore.models.load_model(tmp_path / "again.keras")
    np.testing.assert_array_equal(again.predict(io["x0"], verbose=0), model.predict(io["x0"], verbose=0))


@pytest.mark.parametrize("make, shape, match", [
    (lambda: L.Conv2D(4, 3, groups=2, name="g"), (1, 6, 6, 3),
     r"'g' \(Conv2D\).*groups=2.*3 channels.*\(1, 6, 6, 3\)"),
    (lambda: L.Conv1D(8, 3, groups=4, data_format="channels_first"), (2, 6, 9), r"groups=4.*6 channels.*\(2, 6, 9\)"),
    (lambda: L.DepthwiseConv2D(3), (1, 6, 6), "expected ndim=4"),
    (lambda: L.SeparableConv1D(2, 5), (1, 3, 2), "negative or zero"),
    (lambda: L.DepthwiseConv2D(3), (1, 6, 6, None), "channel dimension"),
])
def test_bad_inputs_raise_clear_errors(make, shape, match):
    with pytest.raises(ValueError, match=match):
        make().build(shape)


@pytest.mark.parametrize("make, match", [
    (lambda: L.Conv2D(6, 3, groups=4), "divisible"),
    (lambda: L.Conv2D(6, 3, groups=0), "groups"),
    (lambda: L.DepthwiseConv2D(3, depth_multiplier=0), "depth_multiplier"),
    (lambda: L.DepthwiseConv2D(3, depth_multiplier=1.5), "depth_multiplier"),
    (lambda: L.SeparableConv2D(0, 3), "filters"),
    (lambda: L.DepthwiseConv1D(3, padding="causal"), "padding"),
    (lambda: L.Conv2D(2, 3, strides=2, dilation_rate=2), "dilation_rate"),
    (lambda: L.DepthwiseConv2D((3, 3, 3)), "tuple of 2"),
    (lambda: L.SeparableConv1D(2, 0), "kernel_size"),
])
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_grouped_conv_trains():
    """A grouped and a separable conv learn a simple task end to end (gradients reach every weight)."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((64, 8, 8, 4)).astype(np.float32)
    y = (x[..., :2].mean(axis=(1, 2, 3)) > 0).astype(np.float32)[:, None]
    model = kcore.Sequential([L.Input((8, 8, 4)), L.Conv2D(8, 3, groups=2, activation="relu"),
                              L.SeparableConv2D(4, 3, depth_multiplier=2), L.GlobalAveragePooling2D(),
                              L.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy")
    before = [w.copy() for w in model.get_weights()]
    hist = model.fit(x, y, epochs=15, batch_size=16, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    assert all(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
