"""Keras parity of layers: Dot over every axes form, Embedding(weights=...), LayerNormalization
axes, UpSampling2D interpolation modes and UpSampling3D.

Expected values come from real Keras 3 (TensorFlow backend): tests/data/gen/gen_keras_parity_ops.py
wrote tests/data/keras_parity_ops.npz.
"""
import os

import numpy as np
import pytest

import kcore
from kcore import layers, models, ops
from kcore.ops.image import RESIZE_METHODS, resize_axes
from kcore.testing import gradcheck

REF = np.load(os.path.join(os.path.dirname(__file__), "data", "keras_parity_ops.npz"))
R = np.random.default_rng(5)

# -- 3. Dot -------------------------------------------------------------------------



def dot_case(i):
    """(shape of a, shape of b, axes as Keras got them, normalize) of reference case i."""
    axes = REF[f"dot_{i}_axes"]
    axes = int(axes) if axes.ndim == 0 else tuple(int(a) for a in axes)
    return REF[f"dot_{i}_a"].shape, REF[f"dot_{i}_b"].shape, axes, bool(REF[f"dot_{i}_normalize"])


DOT_CASES = [dot_case(i) for i in range(len([k for k in REF.files if k.startswith("dot_") and k.endswith("_axes")]))]


@pytest.mark.parametrize("i", range(len(DOT_CASES)), ids=lambda i: f"{DOT_CASES[i][:3]}-norm{DOT_CASES[i][3]}")
def test_dot_matches_keras(i):
    shape_a, shape_b, axes, normalize = DOT_CASES[i]
    a, b = REF[f"dot_{i}_a"], REF[f"dot_{i}_b"]
    layer = layers.Dot(axes=axes, normalize=normalize)
    out = layer([a, b]).numpy()
    expected = REF[f"dot_{i}_out"]
    assert out.shape == expected.shape
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)
    assert layer.compute_output_shape([(None,) + shape_a[1:], (None,) + shape_b[1:]]) == (None,) + expected.shape[1:]
    # functional model over symbolic inputs
    xa, xb = layers.Input(shape_a[1:]), layers.Input(shape_b[1:])
    model = models.Model([xa, xb], layers.dot([xa, xb], axes=axes, normalize=normalize))
    np.testing.assert_allclose(model.predict([a, b], verbose=0), expected, rtol=1e-5, atol=1e-5)


def test_dot_normalize_zero_sample_matches_keras():
    out = layers.Dot(axes=1, normalize=True)([REF["dot_zero_a"], REF["dot_zero_b"]]).numpy()
    np.testing.assert_allclose(out, REF["dot_zero_out"], rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("i", [3, 4, 5, 8])
def test_dot_gradients(i):
    _, _, axes, normalize = DOT_CASES[i]
    a, b = REF[f"dot_{i}_a"].astype(np.float64), REF[f"dot_{i}_b"].astype(np.float64)
    layer = layers.Dot(axes=axes, normalize=normalize, dtype="float64")
    gradcheck(lambda x, y: layer([x, y]), [a, b])


@pytest.mark.parametrize("axes, shapes, error", [
    ((1, 2), ((3, 4, 5), (3, 2, 6, 4)), "incompatible input shapes"),
    (0, ((3, 4), (3, 4)), "batch axis"),
    ((1, 4), ((3, 4, 5), (3, 4, 5)), "out of range"),
    (1, ((3, 4), (2, 4)), "batch sizes"),
    (1, ((3,), (3,)), "rank >= 2"),
])
def test_dot_raises_where_keras_raises(axes, shapes, error):
    with pytest.raises(ValueError, match=error):
        layers.Dot(axes=axes)([np.ones(shapes[0], np.float32), np.ones(shapes[1], np.float32)])


def test_dot_rejects_bad_axes_arguments():
    with pytest.raises(ValueError, match="two ints"):
        layers.Dot(axes=(1, 2, 3))
    with pytest.raises(ValueError, match="integers"):
        layers.Dot(axes=(1, 2.0))
    with pytest.raises(TypeError, match="axes"):
        layers.Dot(axes="1")
    with pytest.raises(ValueError, match="exactly 2 inputs"):
        layers.Dot(axes=1)([np.ones((2, 3))] * 3)


# -- 5. Embedding(weights=...) ------------------------------------------------------


def test_embedding_weights_apply_at_construction():
    table = R.standard_normal((6, 3)).astype(np.float32)
    emb = layers.Embedding(6, 3, weights=[table], input_length=4)
    assert emb.built
    np.testing.assert_array_equal(emb.get_weights()[0], table)
    np.testing.assert_array_equal(layers.Embedding(6, 3, weights=table).get_weights()[0], table)  # a bare array
    model = models.Sequential([layers.Embedding(6, 3, weights=[table], input_length=4), layers.Flatten(),
                               layers.Dense(2)])
    np.testing.assert_array_equal(model.get_weights()[0], table)
    ids = np.array([[0, 5, 2, 2]])
    np.testing.assert_allclose(model.layers[0](ids).numpy(), table[ids], rtol=0, atol=0)
    np.testing.assert_array_equal(model.layers[0].get_weights()[0], table)  # not re-initialised by the call
    assert len(model.layers[0].weights) == 1


def test_embedding_weights_shape_is_checked():
    with pytest.raises(ValueError, match=r"\(4, 3\)"):
        layers.Embedding(4, 3, weights=[np.zeros((3, 3), np.float32)])


# -- 6. LayerNormalization axes ----------------------------------------------------

LN_AXES = {"m1": -1, "3": 3, "2": 2, "12": [1, 2], "m1m2": (-1, -2), "123": [1, 2, 3], "13": (1, 3), "1": 1,
           "m3": -3, "1m1": (1, -1)}


@pytest.mark.parametrize("name", sorted(LN_AXES))
def test_layer_normalization_axes_match_keras(name):
    x = REF["ln_x"]
    layer = layers.LayerNormalization(axis=LN_AXES[name])
    layer.build(x.shape)
    gamma, beta = REF[f"ln_{name}_gamma"], REF[f"ln_{name}_beta"]
    assert [w.shape for w in layer.get_weights()] == [gamma.shape, beta.shape]
    layer.set_weights([gamma, beta])
    np.testing.assert_allclose(layer(x).numpy(), REF[f"ln_{name}_out"], rtol=1e-5, atol=2e-5)


@pytest.mark.parametrize("axis", [4, -5, (1, 4), [1, -3]])
def test_layer_normalization_out_of_range_axes_raise(axis):
    x = REF["ln_x"]
    with pytest.raises(ValueError, match="axis"):
        layers.LayerNormalization(axis=axis)(x)
    with pytest.raises(ValueError, match="axis"):
        layers.LayerNormalization(axis=axis).compute_output_shape((None,) + x.shape[1:])


def test_layer_normalization_axis_type_checked():
    with pytest.raises(TypeError, match="axis"):
        layers.LayerNormalization(axis="last")


@pytest.mark.parametrize("axis", [(1, 2), 1, (1, 3)])
def test_layer_normalization_non_trailing_gradients(axis):
    layer = layers.LayerNormalization(axis=axis, dtype="float64")
    x = R.standard_normal((2, 3, 2, 4))
    layer.build(x.shape)
    layer.set_weights([R.standard_normal(w.shape) for w in layer.get_weights()])
    gradcheck(lambda t: layer(t), [x])
    with kcore.GradientTape() as tape:
        y = ops.sum(ops.multiply(layer(x), R.standard_normal(x.shape)))
    assert all(g is not None and g.shape == w.shape for g, w in zip(tape.gradient(y, layer.weights),
                                                                     layer.weights))


# -- 7. UpSampling ------------------------------------------------------------------


@pytest.mark.parametrize("mode", RESIZE_METHODS)
@pytest.mark.parametrize("size", [(2, 2), (3, 2), (1, 4)])
def test_upsampling2d_interpolations_match_keras(mode, size):
    out = layers.UpSampling2D(size=size, interpolation=mode)(REF["up_x"]).numpy()
    np.testing.assert_allclose(out, REF[f"up_{mode}_{size[0]}{size[1]}"], rtol=1e-5, atol=2e-6)


@pytest.mark.parametrize("mode", [m for m in RESIZE_METHODS if m != "nearest"])
def test_upsampling2d_larger_image_matches_keras(mode):
    out = layers.UpSampling2D(size=(3, 2), interpolation=mode.upper())(REF["up_big_x"]).numpy()
    np.testing.assert_allclose(out, REF[f"up_big_{mode}"], rtol=1e-5, atol=5e-6)


def test_upsampling2d_channels_first_bilinear_matches_keras():
    layer = layers.UpSampling2D(size=(2, 3), data_format="channels_first", interpolation="bilinear")
    np.testing.assert_allclose(layer(REF["up_cf_x"]).numpy(), REF["up_cf_bilinear"], rtol=1e-5, atol=1e-6)
    assert layer.compute_output_shape((None, 2, 5, 3)) == (None, 2, 10, 9)
    assert layer.get_config()["interpolation"] == "bilinear"


def test_upsampling2d_rejects_unknown_interpolation():
    with pytest.raises(ValueError, match="bilinear"):
        layers.UpSampling2D(interpolation="cubic")


@pytest.mark.parametrize("mode", ["bilinear", "bicubic", "lanczos3", "area"])
def test_resize_gradients(mode):
    gradcheck(lambda t: resize_axes(t, [5, 6], [1, 2], mode), [R.standard_normal((1, 2, 3, 2))])


@pytest.mark.parametrize("mode", RESIZE_METHODS)
@pytest.mark.parametrize("hw", [(3, 4), (10, 5), (7, 20)])
def test_image_resize_up_and_down_matches_keras(mode, hw):
    out = ops.image.resize(REF["resize_x"], hw, interpolation=mode).numpy()
    np.testing.assert_allclose(out, REF[f"resize_{mode}_{hw[0]}x{hw[1]}"], rtol=1e-5, atol=5e-6)


def test_image_resize_layouts_and_errors():
    x = REF["resize_x"]
    out = ops.image.resize(np.transpose(x, (0, 3, 1, 2)), (5, 6), data_format="channels_first").numpy()
    np.testing.assert_allclose(out, REF["resize_cf"], rtol=1e-5, atol=2e-6)
    np.testing.assert_allclose(ops.image.resize(x[0], (4, 11), interpolation="bicubic").numpy(), REF["resize_3d"],
                               rtol=1e-5, atol=2e-6)
    with pytest.raises(ValueError, match="size"):
        ops.image.resize(x, (3,))
    with pytest.raises(ValueError, match="rank"):
        ops.image.resize(x[0, 0], (3, 3))
    with pytest.raises(ValueError, match="interpolation"):
        ops.image.resize(x, (3, 3), interpolation="cubic")
    with pytest.raises(NotImplementedError, match="antialias"):
        ops.image.resize(x, (3, 3), antialias=True)


def test_upsampling3d_matches_keras():
    np.testing.assert_array_equal(layers.UpSampling3D(size=(2, 1, 3))(REF["up3_x"]).numpy(), REF["up3_out"])
    layer = layers.UpSampling3D(size=2, data_format="channels_first")
    np.testing.assert_array_equal(layer(REF["up3_x"]).numpy(), REF["up3_cf_out"])
    assert layer.compute_output_shape((None, 2, 3, 2, 2)) == (None, 2, 6, 4, 4)
    config = layers.UpSampling3D(size=(2, 1, 3)).get_config()
    assert config["size"] == (2, 1, 3) and config["data_format"] == "channels_last"
    with pytest.raises(ValueError):
        layers.UpSampling3D()(np.ones((2, 3, 3, 3), np.float32))
