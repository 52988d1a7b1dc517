"""TimeDistributed, RepeatVector, Permute, activation layers, attention and noise layers against real Keras 3
(tests/data/gen/make_keras_layers_reference.py): outputs and gradients with Keras's weights, configs, errors."""
import os
import sys

import numpy as np
import pytest

import kcore
from kcore import layers as L
from kcore import ops
from kcore.backend.autodiff import GradientTape
from kcore.backend.tensor import convert_to_tensor

sys.path.insert(0, os.path.dirname(__file__))
from issue13_cases import layer_cases, series  # noqa: E402

DATA = os.path.join(os.path.dirname(__file__), "data")

CASES = {name: (make, kwargs) for name, (make, _, kwargs, _) in layer_cases(L).items()}


@pytest.fixture(scope="module")
def ref():
    return dict(np.load(os.path.join(DATA, "keras3_layers_reference.npz")))


@pytest.mark.parametrize("name", sorted(CASES))
def test_layer_matches_keras_outputs_and_gradients(ref, name):
    make, kwargs = CASES[name]
    layer = make()
    xs = [convert_to_tensor(x) for x in series(ref, f"{name}|x")]
    for x in xs:
        x.requires_grad = True
    masks = series(ref, f"{name}|m")
    args = xs if len(xs) > 1 else xs[0]
    if masks:
        kwargs = dict(kwargs, mask=masks if len(masks) > 1 else masks[0])
    try:
        layer(args, **kwargs)
    except NotImplementedError as e:  # ReLU's negative_slope / threshold come with the extended relu op
        pytest.skip(f"kcore.activations.relu: {e}")
    layer.set_weights(series(ref, f"{name}|w"))
    with GradientTape() as tape:
        res = layer(args, **kwargs)
        flat = list(res) if isinstance(res, (list, tuple)) else [res]
        loss = ops.sum(ops.multiply(flat[0], ref[f"{name}|r"]))
    grads = tape.gradient(loss, layer.trainable_weights + xs)
    want = series(ref, f"{name}|o")
    assert len(flat) == len(want)
    for got, w in zip(flat, want):
        np.testing.assert_allclose(got.numpy(), w, atol=2e-6, rtol=1e-5, err_msg=name)
    for got, w in zip(grads, series(ref, f"{name}|g")):
        np.testing.assert_allclose(got.numpy(), w, atol=1e-5, rtol=1e-5, err_msg=name)


def test_weights_names_shapes_and_paths():
    td = L.TimeDistributed(L.Dense(3))
    td(np.zeros((2, 4, 5), np.float32))
    assert [w.path for w in td.weights] == [f"{td.name}/{td.layer.name}/kernel", f"{td.name}/{td.layer.name}/bias"]
    prelu = L.PReLU(shared_axes=[1, 2])
    prelu(np.zeros((2, 3, 4, 5), np.float32))
    assert [(w.name, w.shape) for w in prelu.weights] == [("alpha", (1, 1, 5))]
    att, add = L.Attention(use_scale=True, score_mode="concat"), L.AdditiveAttention()
    att([np.zeros((1, 2, 3), np.float32)] * 2)
    add([np.zeros((1, 2, 3), np.float32)] * 2)
    assert [(w.name, w.shape) for w in att.weights] == [("scale", ()), ("concat_score_weight", ())]
    assert [(w.name, w.shape) for w in add.weights] == [("scale", (3,))]
    assert L.Attention()([np.zeros((1, 2, 3), np.float32)] * 2).shape == (1, 2, 3) and not L.Attention().weights


def test_activity_regularization_adds_keras_loss(ref):
    layer = L.ActivityRegularization(l1=0.01, l2=0.02)
    x = ref["actreg|x0"]
    with GradientTape():
        out = layer(x)
    np.testing.assert_array_equal(out.numpy(), x)
    assert len(layer.losses) == 1
    np.testing.assert_allclose(float(layer.losses[0].numpy()), float(ref["actreg|loss"]), rtol=1e-6)
    assert layer.get_config()["l1"] == 0.01 and "activity_regularizer" not in layer.get_config()


@pytest.mark.parametrize("layer", [L.SpatialDropout1D(0.5, seed=1), L.GaussianNoise(0.5, seed=1),
                                   L.GaussianDropout(0.5, seed=1), L.AlphaDropout(0.5, seed=1)])
def test_noise_layers_are_identity_at_inference(layer):
    x = np.random.default_rng(0).standard_normal((4, 6, 8)).astype(np.float32)
    np.testing.assert_array_equal(layer(x).numpy(), x)
    assert not np.allclose(layer(x, training=True).numpy(), x)


def test_spatial_dropout_drops_whole_channels():
    x = np.ones((8, 5, 6, 16), np.float32)
    out = L.SpatialDropout2D(0.5, seed=3)(x, training=True).numpy()
    per_map = out.reshape(8, 30, 16)
    assert np.all(per_map == per_map[:, :1])  # one draw per (sample, channel)
    assert set(np.unique(per_map)) <= {0.0, 2.0} and 0 < (per_map == 0).mean() < 1
    first = L.SpatialDropout2D(0.5, data_format="channels_first", seed=3)(x, training=True).numpy()
    assert np.all(first == first[:, :, :1, :1])
    out1 = L.SpatialDropout1D(0.5, seed=2)(np.ones((4, 7, 9), np.float32), training=True).numpy()
    assert np.all(out1 == out1[:, :1])
    out3 = L.SpatialDropout3D(0.5, seed=2)(np.ones((2, 3, 3, 3, 4), np.float32), training=True).numpy()
    assert np.all(out3 == out3[:, :1, :1, :1])


def test_gaussian_layers_have_keras_statistics():
    x = np.ones((200, 500), np.float32)
    noise = L.GaussianNoise(0.3, seed=5)(x, training=True).numpy() - 1
    assert abs(noise.mean()) < 0.01 and abs(noise.std() - 0.3) < 0.01
    drop = L.GaussianDropout(0.2, seed=5)(x, training=True).numpy()
    assert abs(drop.mean() - 1) < 0.01 and abs(drop.std() - np.sqrt(0.2 / 0.8)) < 0.01


def test_alpha_dropout_keeps_selu_statistics_and_maps_as_keras():
    rate, alpha_p = 0.2, -1.6732632423543772 * 1.0507009873554805
    a = ((1 - rate) * (1 + rate * alpha_p ** 2)) ** -0.5
    b = -a * alpha_p * rate
    x = L.Activation("selu")(np.random.default_rng(1).standard_normal((400, 500)).astype(np.float32)).numpy()
    out = L.AlphaDropout(rate, seed=4)(x, training=True).numpy()
    kept = np.isclose(out, a * x + b, atol=1e-5)
    assert np.all(kept | np.isclose(out, a * alpha_p + b, atol=1e-5))
    assert abs((~kept).mean() - rate) < 0.01
    assert abs(out.mean() - x.mean()) < 0.02 and abs(out.std() - x.std()) < 0.02


def test_time_distributed_in_a_model_trains_and_masks_pass_through(rng):
    x = rng.standard_normal((8, 4, 3)).astype(np.float32)
    model = kcore.Sequential([L.Input((4, 3)), L.TimeDistributed(L.Dense(2)), L.LSTM(3), L.Dense(1)])
    assert model.layers[0].output_shape == (None, 4, 2)
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(x, np.ones((8, 1), np.float32), epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    emb = L.Embedding(5, 3, mask_zero=True)
    out = L.TimeDistributed(L.Dense(2))(emb(np.array([[1, 2, 0]])))
    assert out._keras_mask is not None


def test_time_distributed_batchnorm_runs_per_step_in_training(rng):
    x = rng.standard_normal((6, 3, 4)).astype(np.float32) * np.array([1, 5, 20], np.float32)[None, :, None]
    td = L.TimeDistributed(L.BatchNormalization())
    out = td(x, training=True).numpy()
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-4)  # every step normalised by its own statistics


def test_configs_round_trip_with_keras_keys():
    layers = [L.TimeDistributed(L.Dense(3)), L.RepeatVector(3), L.Permute((2, 1)), L.LeakyReLU(0.1),
              L.PReLU(shared_axes=[1]), L.ReLU(max_value=6.0), L.ELU(0.5), L.Softmax(axis=[1, 2]),
              L.SpatialDropout1D(0.2), L.SpatialDropout2D(0.3, data_format="channels_first"),
              L.SpatialDropout3D(0.1), L.GaussianNoise(0.1, seed=2), L.GaussianDropout(0.2), L.AlphaDropout(0.3),
              L.ActivityRegularization(l2=0.1), L.Attention(use_scale=True, score_mode="concat", dropout=0.1),
              L.AdditiveAttention(use_scale=False)]
    for layer in layers:
        config = layer.get_config()
        clone = type(layer).from_config(config)
        assert clone.get_config() | {"name": None} == config | {"name": None}, type(layer).__name__
    assert set(L.SpatialDropout1D(0.2).get_config()) == {"rate", "seed", "name", "dtype"}
    assert "score_mode" not in L.AdditiveAttention().get_config()
    assert L.LeakyReLU().negative_slope == 0.3
    with pytest.warns(UserWarning, match="alpha"):
        assert L.LeakyReLU(alpha=0.2).negative_slope == 0.2


def test_bad_arguments_and_inputs_are_clear_errors():
    with pytest.raises(ValueError, match="negative_slope"):
        L.LeakyReLU(-1)
    with pytest.raises(ValueError, match="max_value"):
        L.ReLU(max_value=-1)
    with pytest.raises(ValueError, match="dims"):
        L.Permute((1, 3))
    with pytest.raises(TypeError, match="integer"):
        L.RepeatVector(2.5)
    with pytest.raises(ValueError, match="score_mode"):
        L.Attention(score_mode="dotty")
    with pytest.raises(ValueError, match="rate"):
        L.SpatialDropout1D(1.5)
    with pytest.raises(ValueError, match="stddev"):
        L.GaussianNoise(-0.1)
    with pytest.raises(ValueError, match="list of inputs"):
        L.Attention()(np.zeros((1, 2, 3), np.float32))
    with pytest.raises(ValueError, match="same last dimension"):
        L.Attention()([np.zeros((1, 2, 3), np.float32), np.zeros((1, 2, 4), np.float32)])
    with pytest.raises(ValueError, match=r"ndim=2.*\(2, 3, 4\)"):
        L.RepeatVector(2)(np.zeros((2, 3, 4), np.float32))
    with pytest.raises(ValueError, match="at least 3 dimensions"):
        L.TimeDistributed(L.Dense(2))(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match=r"wrapped layer 'conv.*\(Conv2D\) cannot take the per-step input shape "
                                         r"\(None, 5\) \(TimeDistributed input shape \(None, 4, 5\)\)"):
        L.TimeDistributed(L.Conv2D(2, 3))(np.zeros((2, 4, 5), np.float32))
    with pytest.raises(ValueError, match="Layer` instance"):
        L.TimeDistributed("dense")
    with pytest.raises(ValueError, match="broadcastable"):
        L.Softmax()(np.zeros((2, 3), np.float32), mask=np.ones((2, 4), bool))


def test_models_with_the_new_layers_save_and_load(tmp_path, rng):
    """.keras round trip in kcore (tools/ref/check_keras_loads.py checks the same files load in real Keras 3)."""
    seq = kcore.Sequential([
        L.Input((6, 5)), L.TimeDistributed(L.Dense(4)), L.PReLU(shared_axes=[1]), L.LeakyReLU(0.1),
        L.Permute((2, 1)), L.ELU(0.5), L.SpatialDropout1D(0.2), L.GaussianNoise(0.1), L.GaussianDropout(0.1),
        L.AlphaDropout(0.1), L.ActivityRegularization(l1=0.01), L.ReLU(max_value=6.0), L.Softmax(axis=1),
        L.Flatten(), L.RepeatVector(2), L.GRU(3)])
    inp, val = L.Input((4, 3)), L.Input((5, 3))
    a = L.Attention(use_scale=True, score_mode="concat")([inp, val])
    b = L.AdditiveAttention()([inp, val, val])
    functional = kcore.Model([inp, val], L.Add()([a, L.Attention()([a, b])]))
    cases = [(seq, rng.standard_normal((3, 6, 5)).astype(np.float32)),
             (functional, [rng.standard_normal((3, 4, 3)).astype(np.float32),
                           rng.standard_normal((3, 5, 3)).astype(np.float32)])]
    for i, (model, x) in enumerate(cases):
        for w in model.weights:
            w.assign(rng.uniform(-0.5, 0.5, w.shape).astype(np.float32))
        model.save(tmp_path / f"m{i}.keras")
        again = kcore.models.load_model(tmp_path / f"m{i}.keras")
        np.testing.assert_array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))
        assert [w.shape for w in again.weights] == [w.shape for w in model.weights]


def test_attention_scores_in_a_functional_model(rng):
    q, v = L.Input((3, 4)), L.Input((5, 4))
    out, scores = L.Attention()([q, v], return_attention_scores=True)
    assert tuple(out.shape) == (None, 3, 4) and tuple(scores.shape) == (None, 3, 5)
    model = kcore.Model([q, v], [out, scores])
    got = model.predict([rng.standard_normal((2, 3, 4)).astype(np.float32),
                         rng.standard_normal((2, 5, 4)).astype(np.float32)], verbose=0)
    np.testing.assert_allclose(got[1].sum(-1), 1, atol=1e-6)


def test_real_keras3_file_with_the_new_layers_loads_predicts_and_round_trips(tmp_path):
    """keras3_layers.keras (tests/data/gen/make_keras_layers_reference.py): TimeDistributed, ConvLSTM1D/2D, PReLU,
    attention, noise layers, Permute, RepeatVector, activations, ActivityRegularization, written by Keras 3."""
    model = kcore.models.load_model(os.path.join(DATA, "keras3_layers.keras"))
    io = np.load(os.path.join(DATA, "keras3_layers_io.npz"))
    got = model.predict([io["x0"], io["x1"]], verbose=0)
    np.testing.assert_allclose(got, io["y"], rtol=1e-5, atol=1e-6)
    model.save(tmp_path / "again.keras")
    again = kcore.models.load_model(tmp_path / "again.keras")
    np.testing.assert_array_equal(again.predict([io["x0"], io["x1"]], verbose=0), got)
