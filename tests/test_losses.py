"""Losses: values against NumPy references of Keras's formulas, float64 gradients, reduction, names."""
import numpy as np
import pytest

import kcore
from kcore import layers, losses
from kcore.testing import gradcheck

EPS = 1e-7


# -- NumPy references (per-sample values, Keras 3 formulas) --------------------------------------------
def ref_mape(y, p):
    return 100.0 * np.mean(np.abs(y - p) / np.maximum(np.abs(y), EPS), axis=-1)


def ref_msle(y, p):
    return np.mean((np.log(np.maximum(p, EPS) + 1) - np.log(np.maximum(y, EPS) + 1)) ** 2, axis=-1)


def ref_huber(y, p, delta=1.0):
    e = np.abs(p - y)
    return np.mean(np.where(e <= delta, 0.5 * e ** 2, delta * e - 0.5 * delta ** 2), axis=-1)


def ref_log_cosh(y, p):
    return np.mean(np.log(np.cosh(p - y)), axis=-1)


def ref_kld(y, p):
    y, p = np.clip(y, EPS, 1), np.clip(p, EPS, 1)
    return np.sum(y * np.log(y / p), axis=-1)


def ref_poisson(y, p):
    return np.mean(p - y * np.log(p + EPS), axis=-1)


def ref_cosine(y, p, axis=-1):
    def unit(v):
        return v / np.maximum(np.sqrt(np.sum(v ** 2, axis=axis, keepdims=True)), EPS)
    return -np.sum(unit(y) * unit(p), axis=axis)


def _signed(y):
    return 2 * y - 1 if np.all((y == 0) | (y == 1)) else y


def ref_hinge(y, p):
    return np.mean(np.maximum(1 - _signed(y) * p, 0), axis=-1)


def ref_squared_hinge(y, p):
    return np.mean(np.maximum(1 - _signed(y) * p, 0) ** 2, axis=-1)


def ref_categorical_hinge(y, p):
    return np.maximum(np.max((1 - y) * p, axis=-1) - np.sum(y * p, axis=-1) + 1, 0)


def ref_mse(y, p):
    return np.mean((y - p) ** 2, axis=-1)


def ref_mae(y, p):
    return np.mean(np.abs(y - p), axis=-1)


def ref_bce(y, p):
    p = np.clip(p, EPS, 1 - EPS)
    return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p), axis=-1)


def ref_cce(y, p):
    p = np.clip(p / p.sum(-1, keepdims=True), EPS, 1 - EPS)
    return -np.sum(y * np.log(p), axis=-1)


def ref_binary_focal(y, p, gamma=2.0):
    q = np.clip(p, EPS, 1 - EPS)
    bce = -(y * np.log(q) + (1 - y) * np.log(1 - q))
    p_t = y * p + (1 - y) * (1 - p)
    return np.mean((1 - p_t) ** gamma * bce, axis=-1)


def ref_categorical_focal(y, p, alpha=0.25, gamma=2.0):
    q = np.clip(p / p.sum(-1, keepdims=True), EPS, 1 - EPS)
    return np.sum(alpha * (1 - q) ** gamma * -y * np.log(q), axis=-1)


def _regression_data(rng, shape=(4, 5)):
    return rng.uniform(0.1, 2.0, shape), rng.uniform(0.1, 2.0, shape)


def _probability_data(rng, shape=(4, 5)):
    y = rng.dirichlet(np.ones(shape[-1]), size=shape[0])
    p = rng.dirichlet(np.ones(shape[-1]), size=shape[0])
    return y, p


def _one_hot(rng, n=4, c=5):
    return np.eye(c)[rng.integers(0, c, n)]


def _signed_data(rng, shape=(4, 5)):
    return rng.integers(0, 2, shape).astype(np.float64), rng.normal(0, 1.5, shape)


CASES = [  # (function name, NumPy reference, data maker)
    ("mean_squared_error", ref_mse, _regression_data),
    ("mean_absolute_error", ref_mae, _regression_data),
    ("mean_absolute_percentage_error", ref_mape, _regression_data),
    ("mean_squared_logarithmic_error", ref_msle, _regression_data),
    ("huber", ref_huber, lambda rng: (rng.normal(0, 1, (4, 5)), rng.normal(0, 1.5, (4, 5)))),
    ("log_cosh", ref_log_cosh, lambda rng: (rng.normal(0, 2, (4, 5)), rng.normal(0, 2, (4, 5)))),
    ("kl_divergence", ref_kld, _probability_data),
    ("poisson", ref_poisson, _regression_data),
    ("cosine_similarity", ref_cosine, lambda rng: (rng.normal(size=(4, 5)), rng.normal(size=(4, 5)))),
    ("hinge", ref_hinge, _signed_data),
    ("squared_hinge", ref_squared_hinge, _signed_data),
    ("categorical_hinge", ref_categorical_hinge, lambda rng: (_one_hot(rng), rng.normal(0, 1, (4, 5)))),
    ("binary_crossentropy", ref_bce, lambda rng: (rng.integers(0, 2, (4, 5)) * 1.0, rng.uniform(0.05, 0.95, (4, 5)))),
    ("categorical_crossentropy", ref_cce, lambda rng: (_one_hot(rng), rng.uniform(0.05, 1.0, (4, 5)))),
    ("binary_focal_crossentropy", ref_binary_focal,
     lambda rng: (rng.integers(0, 2, (4, 5)) * 1.0, rng.uniform(0.05, 0.95, (4, 5)))),
    ("categorical_focal_crossentropy", ref_categorical_focal,
     lambda rng: (_one_hot(rng), rng.uniform(0.05, 1.0, (4, 5)))),
]


@pytest.mark.parametrize("name, reference, make", CASES, ids=[c[0] for c in CASES])
def test_per_sample_values_match_numpy_reference(name, reference, make, rng):
    y, p = make(rng)
    got = getattr(losses, name)(y.astype(np.float32), p.astype(np.float32)).numpy()
    assert got.shape == (4,)
    np.testing.assert_allclose(got, reference(y, p), rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("name, reference, make", CASES, ids=[c[0] for c in CASES])
def test_float64_gradient_wrt_prediction(name, reference, make, rng):
    y, p = make(rng)
    fn = getattr(losses, name)
    assert gradcheck(lambda pred: fn(y, pred), [p], atol=1e-6, rtol=1e-5)


def test_keras_known_values():
    # The same inputs through real Keras 3.15 (TF backend) gave these means (float32).
    y = np.array([[0, 1, 0], [1, 0, 0.]], np.float32)
    p = np.array([[0.2, 0.7, 0.1], [0.5, 0.3, 0.2]], np.float32)
    keras_values = {"mape": 133333344.0, "msle": 0.0422624312, "huber": 0.0433333330, "log_cosh": 0.0422539711,
                    "kld": 0.5249081850, "poisson": 0.5083036423, "cosine_similarity": -0.8818432689,
                    "hinge": 0.9333332777, "squared_hinge": 1.0199999809, "categorical_hinge": 0.6499999762}
    for name, expected in keras_values.items():
        assert float(losses.for_compile(name)(y, p).numpy()) == pytest.approx(expected, rel=1e-6), name
    assert float(losses.Huber(delta=0.1)(y, p).numpy()) == pytest.approx(0.0216666665, rel=1e-6)


def test_huber_delta_and_cosine_axis(rng):
    y, p = rng.normal(size=(3, 4)), rng.normal(0, 3, size=(3, 4))
    np.testing.assert_allclose(losses.huber(y, p, delta=0.3).numpy(), ref_huber(y, p, 0.3), rtol=1e-6)
    y3, p3 = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 3, 4))
    np.testing.assert_allclose(losses.cosine_similarity(y3, p3, axis=1).numpy(), ref_cosine(y3, p3, axis=1),
                               rtol=1e-5)
    assert losses.CosineSimilarity(axis=1)(y3, p3).numpy() == pytest.approx(ref_cosine(y3, p3, axis=1).mean(),
                                                                              rel=1e-5)


def test_cosine_similarity_of_zero_vector_is_zero_with_finite_gradient():
    assert float(losses.cosine_similarity(np.zeros((1, 3)), np.ones((1, 3))).numpy()[0]) == 0.0
    pred = kcore.Variable(np.zeros((2, 3)), dtype="float64")
    with kcore.GradientTape() as tape:
        value = kcore.ops.sum(losses.cosine_similarity(np.array([[1.0, 2, 3], [0, 0, 1]]), pred))
    grad = tape.gradient(value, [pred])[0].numpy()
    assert np.all(np.isfinite(grad))
    # at p = 0 the norm is floored at eps, so the gradient is -unit(y) / eps
    np.testing.assert_allclose(grad[1], [0, 0, -1e7], rtol=1e-6)


def test_hinge_keeps_signed_labels_as_given(rng):
    y = np.array([[-1.0, 1.0, 1.0]])
    p = np.array([[0.3, -0.2, 2.0]])
    # -1/1 labels are used directly: max(1 - y p, 0) = [1.3, 1.2, 0]
    assert float(losses.hinge(y, p).numpy()[0]) == pytest.approx(2.5 / 3)
    # {0, 1} labels become {-1, 1}: y = [0, 1, 1] gives the same value
    assert float(losses.hinge(np.array([[0.0, 1.0, 1.0]]), p).numpy()[0]) == pytest.approx(2.5 / 3)


def test_kld_and_poisson_clip_at_epsilon():
    # p = 0 is clipped to 1e-7 for KLD: y log(y / 1e-7)
    assert float(losses.kl_divergence(np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]])).numpy()[0]) == \
        pytest.approx(np.log(1e7), rel=1e-6)
    assert float(losses.poisson(np.array([[2.0]]), np.array([[0.0]])).numpy()[0]) == \
        pytest.approx(-2 * np.log(1e-7), rel=1e-6)


@pytest.mark.parametrize("cls, fn, kwargs", [
    (losses.Huber, losses.huber, {"delta": 0.5}),
    (losses.LogCosh, losses.log_cosh, {}),
    (losses.KLDivergence, losses.kl_divergence, {}),
    (losses.Poisson, losses.poisson, {}),
    (losses.Hinge, losses.hinge, {}),
    (losses.SquaredHinge, losses.squared_hinge, {}),
    (losses.CategoricalHinge, losses.categorical_hinge, {}),
    (losses.MeanAbsolutePercentageError, losses.mean_absolute_percentage_error, {}),
    (losses.MeanSquaredLogarithmicError, losses.mean_squared_logarithmic_error, {}),
    (losses.CosineSimilarity, losses.cosine_similarity, {"axis": -1}),
])
def test_class_reductions_and_sample_weight(cls, fn, kwargs, rng):
    y, p = rng.uniform(0.1, 1, (6, 3)), rng.uniform(0.1, 1, (6, 3))
    w = rng.uniform(0, 2, 6)
    per_sample = fn(y, p, **kwargs).numpy()
    assert float(cls(**kwargs)(y, p).numpy()) == pytest.approx(per_sample.mean(), rel=1e-5)
    assert float(cls(reduction="sum", **kwargs)(y, p).numpy()) == pytest.approx(per_sample.sum(), rel=1e-5)
    np.testing.assert_allclose(cls(reduction="none", **kwargs)(y, p).numpy(), per_sample, rtol=1e-6)
    # sum_over_batch_size with weights: sum(loss * w) / N, not / sum(w)
    assert float(cls(**kwargs)(y, p, sample_weight=w).numpy()) == pytest.approx((per_sample * w).sum() / 6,
                                                                                rel=1e-5)


def test_class_default_names_follow_keras():
    expected = {losses.Huber: "huber_loss", losses.LogCosh: "log_cosh", losses.KLDivergence: "kl_divergence",
                losses.Poisson: "poisson", losses.Hinge: "hinge", losses.SquaredHinge: "squared_hinge",
                losses.CategoricalHinge: "categorical_hinge", losses.CosineSimilarity: "cosine_similarity",
                losses.MeanAbsolutePercentageError: "mean_absolute_percentage_error",
                losses.MeanSquaredLogarithmicError: "mean_squared_logarithmic_error"}
    for cls, name in expected.items():
        assert cls().name == name
    assert losses.Huber(name="h").name == "h"
    with pytest.raises(ValueError, match="Invalid value for argument `reduction`"):
        losses.Huber(reduction="avg")


@pytest.mark.parametrize("alias, fn", [
    ("mape", losses.mean_absolute_percentage_error), ("MAPE", losses.mean_absolute_percentage_error),
    ("msle", losses.mean_squared_logarithmic_error), ("kld", losses.kl_divergence),
    ("KLD", losses.kl_divergence), ("huber", losses.huber), ("log_cosh", losses.log_cosh),
    ("logcosh", losses.log_cosh), ("poisson", losses.poisson), ("hinge", losses.hinge),
    ("squared_hinge", losses.squared_hinge), ("categorical_hinge", losses.categorical_hinge),
    ("cosine_similarity", losses.cosine_similarity), ("bce", losses.binary_crossentropy),
    ("kl_divergence", losses.kl_divergence),
])
def test_string_aliases_resolve(alias, fn, rng):
    loss = losses.for_compile(alias)  # what compile() uses: a Loss object named as given
    assert loss.fn is fn and loss.name == alias
    if alias != "logcosh":  # keras.losses.get gives the function itself (and rejects the tf.keras 'logcosh')
        assert losses.get(alias) is fn


def test_class_names_and_configs_resolve():
    assert isinstance(losses.get("Huber"), losses.Huber)
    loss = losses.get({"class_name": "Huber", "config": {"delta": 2.0, "name": "hh"}})
    assert isinstance(loss, losses.Huber) and loss.fn_kwargs == {"delta": 2.0} and loss.name == "hh"
    assert losses.get(losses.KLDivergence).name == "kl_divergence"


@pytest.mark.parametrize("loss", ["huber", "log_cosh", "mape", "msle", "poisson", "kld", "hinge",
                                  "squared_hinge", "cosine_similarity", "categorical_hinge"])
def test_compile_with_string_loss_trains(loss, rng):
    x = rng.uniform(0, 1, (32, 3)).astype(np.float32)
    y = np.eye(2, dtype=np.float32)[(x.sum(1) > 1.5).astype(int)]
    if loss == "mape":  # percentage errors need targets away from zero
        y = y + 1.0
    activation = "softmax" if loss in ("kld", "poisson", "msle") else None
    model = kcore.Sequential([layers.Dense(2, activation=activation, input_shape=(3,))])
    model.compile(optimizer="sgd", loss=loss)
    history = model.fit(x, y, epochs=3, batch_size=32, verbose=0, shuffle=False)
    values = history.history["loss"]
    assert all(np.isfinite(values)) and values[-1] < values[0]
    direct = float(losses.for_compile(loss)(y, model.predict(x, verbose=0)).numpy())
    assert model.evaluate(x, y, verbose=0) == pytest.approx(direct, rel=1e-4, abs=1e-6)


def test_shape_mismatch_message():
    with pytest.raises(ValueError, match=r"huber: y_true of shape \(2, 3\) is incompatible"):
        losses.huber(np.zeros((2, 3)), np.zeros((2, 4)))


def test_sparse_crossentropy_ignore_class_masks_and_rescales():
    y = np.array([0, 2, -1, 1, -1])
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8], [0.3, 0.3, 0.4], [0.25, 0.5, 0.25], [0.9, 0.05, 0.05]],
                 np.float32)
    w = np.array([1, 2, 3, 4, 5], np.float32)
    per_sample = losses.sparse_categorical_crossentropy(y, p, ignore_class=-1).numpy()
    np.testing.assert_allclose(per_sample, [-np.log(0.7), -np.log(0.8), 0, -np.log(0.5), 0], rtol=1e-6)
    loss = losses.SparseCategoricalCrossentropy(ignore_class=-1)
    # mean over the 3 valid samples; Keras 3.15.1 gives 0.42432189 and 1.19185030 (weighted)
    assert float(loss(y, p).numpy()) == pytest.approx(per_sample.sum() / 3, rel=1e-6)
    assert float(loss(y, p).numpy()) == pytest.approx(0.42432189, rel=1e-6)
    assert float(loss(y, p, sample_weight=w).numpy()) == pytest.approx(1.1918503, rel=1e-6)
    assert gradcheck(lambda pred: losses.sparse_categorical_crossentropy(y, pred, ignore_class=-1), [p])


def test_loss_classes_take_keras_positional_arguments():
    y = np.eye(3)[[0, 2, 1, 1, 0]]
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8], [0.3, 0.3, 0.4], [0.25, 0.5, 0.25], [0.9, 0.05, 0.05]])
    # CategoricalCrossentropy(from_logits) and Huber(delta, reduction), as in Keras (values from Keras 3.15.1)
    assert float(losses.CategoricalCrossentropy(True)(y, p).numpy()) == pytest.approx(0.82952154, rel=1e-6)
    assert float(losses.Huber(0.1, "sum")(y, p).numpy()) == pytest.approx(0.0958333, rel=1e-5)
    assert losses.BinaryCrossentropy(from_logits=True, dtype="float32").fn_kwargs == {
        "from_logits": True, "label_smoothing": 0.0, "axis": -1}
    with pytest.raises(TypeError, match="unexpected arguments"):
        losses.Huber(deltaa=1.0)
    with pytest.raises(TypeError, match="multiple values"):
        losses.Huber(1.0, delta=2.0)
    with pytest.raises(ValueError, match=r"categorical_crossentropy: axis must be an integer in \[-2, 2\)"):
        losses.categorical_crossentropy(y, p, axis=2)


def test_loss_config_round_trip():
    loss = losses.Huber(delta=0.5, reduction="sum", name="my_huber")
    again = losses.Huber.from_config(loss.get_config())
    assert (again.name, again.reduction, again.fn_kwargs) == ("my_huber", "sum", {"delta": 0.5})


def test_focal_crossentropies_match_keras():
    r = np.random.default_rng(0)
    y = np.eye(4)[r.integers(0, 4, 6)].astype("float32")
    p = r.dirichlet(np.ones(4), 6).astype("float32")
    z = r.normal(size=(6, 4)).astype("float32")
    # Keras 3.15.1 per-sample values for the same inputs
    checks = [
        (losses.binary_focal_crossentropy(y, p), [0.281725, 0.0611, 1.052539, 0.012138, 1.122258, 0.267481]),
        (losses.binary_focal_crossentropy(y, z, from_logits=True, apply_class_balancing=True, gamma=1.5,
                                          label_smoothing=0.1),
         [0.123274, 0.17215, 0.157138, 0.382587, 0.560585, 0.123779]),
        (losses.categorical_focal_crossentropy(y, p), [0.210894, 0.053371, 0.922414, 0.010281, 1.042768, 0.21838]),
        (losses.categorical_focal_crossentropy(y, z, alpha=0.5, gamma=3.0, from_logits=True, label_smoothing=0.2),
         [0.290448, 0.248662, 0.143031, 0.216071, 0.357698, 0.130198]),
        (losses.BinaryFocalCrossentropy(True, 0.3)(y, p), 0.162471),
        (losses.CategoricalFocalCrossentropy(0.4, 1.0)(y, p), 0.717704),
    ]
    for got, expected in checks:
        np.testing.assert_allclose(got.numpy(), expected, atol=2e-6)
    assert gradcheck(lambda logits: losses.binary_focal_crossentropy(y, logits, from_logits=True,
                                                                     apply_class_balancing=True), [z])
    assert gradcheck(lambda logits: losses.categorical_focal_crossentropy(y, logits, from_logits=True), [z])
    assert isinstance(losses.get("CategoricalFocalCrossentropy"), losses.CategoricalFocalCrossentropy)
    assert losses.get("binary_focal_crossentropy") is losses.binary_focal_crossentropy
