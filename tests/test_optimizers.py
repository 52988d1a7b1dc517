"""Every optimizer's first steps against a NumPy reference of Keras 3's update rule."""
import numpy as np
import pytest

import kcore
from kcore import optimizers


def f32(rate):
    """A learning rate as Keras 3 (and kcore) hold it: in a float32 variable, also when the weights are float64."""
    return float(np.float32(rate))


LR_001, LR_05 = f32(0.01), f32(0.5)


def ref_rmsprop(w, grads, lr=LR_001, rho=0.9, momentum=0.0, eps=1e-7, centered=False):
    v, a, mom = (np.zeros_like(w) for _ in range(3))
    for g in grads:
        v = rho * v + (1 - rho) * g * g
        denom = v
        if centered:
            a = rho * a + (1 - rho) * g
            denom = v - a * a
        inc = lr * g / np.sqrt(denom + eps)
        if momentum:
            mom = momentum * mom + inc
            w = w - mom
        else:
            w = w - inc
    return w


def ref_adagrad(w, grads, lr=LR_001, init=0.1, eps=1e-7):
    acc = np.full_like(w, init)
    for g in grads:
        acc = acc + g * g
        w = w - lr * g / np.sqrt(acc + eps)
    return w


def ref_adadelta(w, grads, lr=LR_05, rho=0.95, eps=1e-7):
    eg, edx = np.zeros_like(w), np.zeros_like(w)
    for g in grads:
        eg = rho * eg + (1 - rho) * g * g
        d = -np.sqrt(edx + eps) / np.sqrt(eg + eps) * g
        edx = rho * edx + (1 - rho) * d * d
        w = w + lr * d
    return w


def ref_nadam(w, grads, lr=LR_001, b1=0.9, b2=0.999, eps=1e-7):
    m, v, prod = np.zeros_like(w), np.zeros_like(w), 1.0
    for t, g in enumerate(grads, start=1):
        u_t = b1 * (1 - 0.5 * 0.96**t)
        u_next = b1 * (1 - 0.5 * 0.96 ** (t + 1))
        prod = prod * u_t
        m = m + (g - m) * (1 - b1)
        v = v + (g * g - v) * (1 - b2)
        m_hat = u_next * m / (1 - prod * u_next) + (1 - u_t) * g / (1 - prod)
        v_hat = v / (1 - b2**t)
        w = w - lr * m_hat / (np.sqrt(v_hat) + eps)
    return w


def ref_adamax(w, grads, lr=LR_001, b1=0.9, b2=0.999, eps=1e-7):
    m, u = np.zeros_like(w), np.zeros_like(w)
    for t, g in enumerate(grads, start=1):
        m = m + (g - m) * (1 - b1)
        u = np.maximum(b2 * u, np.abs(g))
        w = w - lr * m / ((1 - b1**t) * (u + eps))
    return w


def ref_adamw(w, grads, lr=LR_001, wd=0.004, b1=0.9, b2=0.999, eps=1e-7):
    m, v = np.zeros_like(w), np.zeros_like(w)
    for t, g in enumerate(grads, start=1):
        w = w - lr * wd * w
        m = m + (g - m) * (1 - b1)
        v = v + (g * g - v) * (1 - b2)
        w = w - lr * np.sqrt(1 - b2**t) / (1 - b1**t) * m / (np.sqrt(v) + eps)
    return w


def ref_lion(w, grads, lr=LR_001, b1=0.9, b2=0.99):
    m = np.zeros_like(w)
    for g in grads:
        w = w - lr * np.sign(b1 * m + (1 - b1) * g)
        m = b2 * m + (1 - b2) * g
    return w


CASES = {
    "rmsprop": (lambda: optimizers.RMSprop(0.01), ref_rmsprop),
    "rmsprop_centered_momentum": (lambda: optimizers.RMSprop(0.01, momentum=0.5, centered=True),
                                  lambda w, g: ref_rmsprop(w, g, momentum=0.5, centered=True)),
    "adagrad": (lambda: optimizers.Adagrad(0.01), ref_adagrad),
    "adadelta": (lambda: optimizers.Adadelta(0.5), ref_adadelta),
    "nadam": (lambda: optimizers.Nadam(0.01), ref_nadam),
    "adamax": (lambda: optimizers.Adamax(0.01), ref_adamax),
    "adamw": (lambda: optimizers.AdamW(0.01), ref_adamw),
    "lion": (lambda: optimizers.Lion(0.01), ref_lion),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_optimizer_matches_keras_rule(name, rng):
    make, ref = CASES[name]
    w0 = rng.standard_normal((4, 3))
    grads = [rng.standard_normal((4, 3)) for _ in range(6)]
    np.testing.assert_allclose(_steps(make(), w0, grads), ref(w0, grads), rtol=1e-10, atol=1e-12)


def _steps(opt, w0, grads):
    """The float64 weight after `opt` applies each gradient in turn, starting from w0."""
    var = kcore.Variable(w0, dtype="float64")
    for g in grads:
        opt.apply_gradients([(kcore.convert_to_tensor(g), var)])
    return var.numpy()


def test_defaults_follow_keras_3():
    assert optimizers.get("rmsprop").learning_rate == pytest.approx(0.001)
    assert optimizers.get("sgd").learning_rate == pytest.approx(0.01)
    assert optimizers.AdamW().weight_decay == 0.004
    assert optimizers.Adagrad().initial_accumulator_value == 0.1


@pytest.mark.parametrize("kwargs,expected", [
    ({"clipvalue": 0.5}, lambda g: np.clip(g, -0.5, 0.5)),
    ({"clipnorm": 1.0}, lambda g: g / max(1.0, np.linalg.norm(g))),
])
def test_gradient_clipping(kwargs, expected, rng):
    g = rng.standard_normal((3, 3)) * 3
    var = kcore.Variable(np.zeros((3, 3)), dtype="float64")
    optimizers.SGD(1.0, **kwargs).apply_gradients([(kcore.convert_to_tensor(g), var)])
    np.testing.assert_allclose(-var.numpy(), expected(g), rtol=1e-12)


def test_global_clipnorm_scales_all_gradients_together(rng):
    g1, g2 = rng.standard_normal(4) * 3, rng.standard_normal(2) * 3
    v1, v2 = kcore.Variable(np.zeros(4), dtype="float64"), kcore.Variable(np.zeros(2), dtype="float64")
    optimizers.SGD(1.0, global_clipnorm=1.0).apply_gradients(
        [(kcore.convert_to_tensor(g1), v1), (kcore.convert_to_tensor(g2), v2)])
    total = np.sqrt(np.sum(g1**2) + np.sum(g2**2))
    np.testing.assert_allclose(-v1.numpy(), g1 / total, rtol=1e-12)
    np.testing.assert_allclose(-v2.numpy(), g2 / total, rtol=1e-12)
    with pytest.raises(ValueError, match="Only one of"):
        optimizers.SGD(clipnorm=1.0, clipvalue=1.0)


def test_schedules():
    from kcore.optimizers import schedules

    exp = schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    assert exp(0) == pytest.approx(0.1) and exp(10) == pytest.approx(0.05) and exp(5) == pytest.approx(0.1 * 0.5**0.5)
    stair = schedules.ExponentialDecay(0.1, 10, 0.5, staircase=True)
    assert stair(19) == pytest.approx(0.05)
    pw = schedules.PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1])
    assert [pw(5), pw(10), pw(15), pw(25)] == [1.0, 1.0, 0.5, 0.1]
    cos = schedules.CosineDecay(1.0, 100, alpha=0.1)
    assert cos(0) == pytest.approx(1.0) and cos(100) == pytest.approx(0.1) and cos(50) == pytest.approx(0.55)
    opt = optimizers.SGD(learning_rate=pw)
    var = kcore.Variable(np.zeros(1), dtype="float64")
    for _ in range(12):
        opt.apply_gradients([(kcore.convert_to_tensor(np.ones(1)), var)])
    assert var.numpy()[0] == pytest.approx(-(11 * 1.0 + 1 * 0.5))


def test_legacy_lr_and_decay_arguments():
    opt = optimizers.SGD(lr=0.1, decay=0.1)
    var = kcore.Variable(np.zeros(1), dtype="float64")
    for _ in range(3):
        opt.apply_gradients([(kcore.convert_to_tensor(np.ones(1)), var)])
    assert var.numpy()[0] == pytest.approx(-(0.1 + 0.1 / 1.1 + 0.1 / 1.2))
    with pytest.raises(ValueError, match="not recognized"):
        optimizers.Adam(learning_rat=0.1)


def test_constraints_apply_after_each_update():
    from kcore import constraints

    var = kcore.Variable(np.array([0.5, -0.5]), dtype="float64", constraint=constraints.NonNeg())
    optimizers.SGD(1.0).apply_gradients([(kcore.convert_to_tensor(np.array([1.0, -1.0])), var)])
    np.testing.assert_allclose(var.numpy(), [0.0, 0.5])


def _numpy_adam(w, grads, lr=LR_001, b1=0.9, b2=0.999, eps=1e-7, amsgrad=False):
    m, v, vhat = np.zeros_like(w), np.zeros_like(w), np.zeros_like(w)
    for t, g in enumerate(grads, start=1):
        m = m + (g - m) * (1 - b1)
        v = v + (g * g - v) * (1 - b2)
        alpha = lr * np.sqrt(1 - b2**t) / (1 - b1**t)
        vhat = np.maximum(vhat, v)
        w = w - alpha * m / (np.sqrt(vhat if amsgrad else v) + eps)
    return w


def _numpy_sgd(w, grads, lr=LR_001, momentum=0.0, nesterov=False):
    m = np.zeros_like(w)
    for g in grads:
        if momentum == 0:
            w = w - lr * g
        else:
            m = momentum * m - lr * g
            w = w + (momentum * m - lr * g if nesterov else m)
    return w


@pytest.mark.parametrize("make,ref", [
    (lambda: optimizers.SGD(0.1), lambda w, gs: _numpy_sgd(w, gs, f32(0.1))),
    (lambda: optimizers.SGD(0.1, momentum=0.9), lambda w, gs: _numpy_sgd(w, gs, f32(0.1), 0.9)),
    (lambda: optimizers.SGD(0.1, momentum=0.9, nesterov=True), lambda w, gs: _numpy_sgd(w, gs, f32(0.1), 0.9, True)),
    (lambda: optimizers.Adam(0.01), lambda w, gs: _numpy_adam(w, gs, f32(0.01))),
    (lambda: optimizers.Adam(0.01, amsgrad=True), lambda w, gs: _numpy_adam(w, gs, f32(0.01), amsgrad=True)),
])
def test_optimizer_steps_match_numpy_reference(make, ref, rng):
    w0 = rng.standard_normal((3, 4))
    grads = [rng.standard_normal((3, 4)) for _ in range(5)]
    opt = make()
    np.testing.assert_allclose(_steps(opt, w0, grads), ref(w0, grads), rtol=1e-12, atol=1e-12)
    assert opt.iterations == 5
