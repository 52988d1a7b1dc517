"""Functional models list layers and weights in Keras 3's order, and compile's per-output losses/metrics behave
as in Keras 3. Expected values: tests/data/keras3_training_parity.json, written by real Keras 3.15
(tests/data/gen/gen_training_parity.py)."""
import json
import os
import re

import numpy as np
import pytest
import training_parity_models as tpm

import kcore

REF = json.load(open(os.path.join(os.path.dirname(__file__), "data", "keras3_training_parity.json")))


def _short(v):
    return "/".join(v.path.split("/")[-2:])


def _arrays(values):
    return [np.asarray(v, dtype=np.float32) for v in values]


@pytest.mark.parametrize("name", sorted(tpm.TOPOLOGIES))
def test_layer_and_weight_order_match_keras(name):
    ref = REF["topologies"][name]
    model = tpm.TOPOLOGIES[name](kcore)
    # for an intermediate tensor given as input Keras adds an InputLayer ("<tensor>CLONE"); kcore reads the
    # tensor directly and has no such layer (the layers after it are listed in the same order)
    assert [layer.name for layer in model.layers] == [n for n in ref["layers"] if not n.endswith("CLONE")]
    assert [_short(w) for w in model.weights] == ref["weights"]
    assert [list(w.shape) for w in model.weights] == ref["shapes"]
    assert [_short(w) for w in model.trainable_weights] == ref["trainable"]
    assert [_short(w) for w in model.non_trainable_weights] == ref["non_trainable"]
    assert [_short(w) for w in model.variables] == ref["weights"]
    model.set_weights(_arrays(ref["values"]))
    x = _arrays(ref["x"]) if isinstance(ref["x"][0][0], list) else np.asarray(ref["x"], dtype=np.float32)
    preds = model.predict(x, verbose=0)
    expected = ref["pred"]
    if isinstance(preds, list):
        for p, e in zip(preds, expected):
            np.testing.assert_allclose(p, np.asarray(e), rtol=1e-5, atol=1e-6)
    else:
        np.testing.assert_allclose(preds, np.asarray(expected), rtol=1e-5, atol=1e-6)
    for got, want in zip(model.get_weights(), ref["values"]):
        np.testing.assert_array_equal(got, np.asarray(want, dtype=np.float32))


def test_shared_weights_listed_once():
    layer = kcore.layers.Dense(2)
    a, b = kcore.Input((2,)), kcore.Input((2,))
    model = kcore.Model([a, b], kcore.layers.Add()([layer(a), layer(b)]))
    outer = kcore.Sequential([kcore.Input((2,)), layer])
    assert len(model.weights) == 2 and len(outer.weights) == 2


def _two_output_model(initial):
    model = tpm.two_outputs(kcore)
    model.set_weights(_arrays(initial))
    return model


@pytest.mark.parametrize("case", sorted(tpm.COMPILE_CASES))
def test_compile_per_output_losses_and_metrics_match_keras(case):
    ref, data = REF["compile"][case], REF["compile"]["data"]
    kwargs = tpm.COMPILE_CASES[case]
    model = _two_output_model(ref["initial"])
    model.compile(optimizer=kcore.optimizers.SGD(0.1), **kwargs)
    x = np.asarray(data["x"], dtype=np.float32)
    y = [np.asarray(data["y_cls"]), np.asarray(data["y_reg"], dtype=np.float32)]
    logs = model.evaluate(x, y, batch_size=5, verbose=0, return_dict=True)
    assert set(logs) == set(ref["evaluate"])
    for key, want in ref["evaluate"].items():
        np.testing.assert_allclose(logs[key], want, rtol=1e-5, err_msg=key)
    history = model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0).history
    assert set(history) == set(ref["history"])
    for key, want in ref["history"].items():
        np.testing.assert_allclose(history[key], want, rtol=1e-4, err_msg=key)
    for got, want in zip(model.get_weights(), ref["final"]):
        np.testing.assert_allclose(got, np.asarray(want), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("kwargs, needle", [(dict(loss="no_such_loss"), "no_such_loss"),
                                            (dict(metrics=["no_such_metric"]), "no_such_metric"),
                                            (dict(metrics={"cls": ["accuracy", "nope"]}), "nope"),
                                            (dict(loss={"cls": "mse", "reg": "bad_loss"}), "bad_loss"),
                                            (dict(optimizer="no_such_optimizer"), "no_such_optimizer")])
def test_unknown_names_fail_in_compile(kwargs, needle):
    # Keras 3 raises ValueError for these too, but only once fit() starts (the optimizer at compile)
    assert REF["compile_errors"]["loss"]["fit"]["type"] == "ValueError"
    assert REF["compile_errors"]["optimizer"]["compile"]["type"] == "ValueError"
    model = tpm.two_outputs(kcore)
    with pytest.raises(ValueError, match=needle):
        model.compile(**{"optimizer": "sgd", "loss": "mse", **kwargs})


def _regularized_model():
    inp = kcore.Input((4,))
    h = kcore.layers.Dense(3, kernel_regularizer=kcore.regularizers.L2(0.1),
                           bias_regularizer=kcore.regularizers.L1(0.2), name="reg_h")(inp)
    out = kcore.layers.Dense(2, activity_regularizer=kcore.regularizers.L2(0.05), name="act")(h)
    return kcore.Model(inp, out)


def test_losses_hold_weight_penalties_and_evaluate_adds_activity_penalties_like_keras():
    ref = REF["regularizers"]
    model = _regularized_model()
    model.set_weights(_arrays(ref["weights"]))
    x, y = np.asarray(ref["x"], np.float32), np.asarray(ref["y"], np.float32)
    np.testing.assert_allclose([float(v.numpy()) for v in model.losses], ref["model_losses"], rtol=1e-5)
    np.testing.assert_allclose([float(v.numpy()) for v in model.get_layer("reg_h").losses], ref["layer_losses"],
                               rtol=1e-5)
    model(x)
    np.testing.assert_allclose([float(v.numpy()) for v in model.losses], ref["losses_after_call"], rtol=1e-5)
    model(x)  # a new call replaces the previous call's activity penalty
    assert len(model.losses) == len(ref["losses_after_call"])
    model.compile(optimizer="sgd", loss="mse")
    np.testing.assert_allclose(model.evaluate(x, y, batch_size=3, verbose=0), ref["evaluate"], rtol=1e-5)


def test_custom_training_loop_gets_the_l2_term_from_model_losses():
    inp = kcore.Input((4,))
    layer = kcore.layers.Dense(3, kernel_regularizer=kcore.regularizers.L2(0.1))
    model = kcore.Model(inp, layer(inp))
    x = np.ones((2, 4), np.float32)

    def kernel_grad(with_penalties):
        with kcore.GradientTape() as tape:
            loss = kcore.ops.mean(kcore.ops.square(model(x)))
            if with_penalties:
                for penalty in model.losses:
                    loss = kcore.ops.add(loss, penalty)
        return np.asarray(tape.gradient(loss, [layer.kernel])[0].numpy())

    assert len(model.losses) == 1 and len(layer.losses) == 1
    # the L2 penalty 0.1 * sum(w^2) adds 0.2 * w to the kernel's gradient
    np.testing.assert_allclose(kernel_grad(True) - kernel_grad(False), 0.2 * layer.kernel.numpy(), rtol=1e-4,
                               atol=1e-6)
    layer.trainable = False  # frozen weights' penalties are left out, as in Keras
    assert model.losses == []


def test_outputs_without_a_loss_like_keras():
    data, ref = REF["compile"]["data"], REF["compile"]["loss_none"]
    x = np.asarray(data["x"], dtype=np.float32)
    y = [np.asarray(data["y_cls"]), np.asarray(data["y_reg"], dtype=np.float32)]
    model = _two_output_model(ref["initial"])
    # Keras 3: a loss dict names every output
    model.compile(optimizer="sgd", loss={"cls": "sparse_categorical_crossentropy"})
    with pytest.raises(ValueError, match=re.escape(REF["compile"]["loss_dict_partial"]["message"])):
        model.evaluate(x, y, verbose=0)
    for loss in (["sparse_categorical_crossentropy", None], {"cls": "sparse_categorical_crossentropy", "reg": None}):
        model.set_weights(_arrays(ref["initial"]))
        model.compile(optimizer=kcore.optimizers.SGD(0.1, use_ema=True), loss=loss)
        logs = model.evaluate(x, y, batch_size=12, verbose=0, return_dict=True)
        # only one output has a loss: Keras logs just "loss" (= that output's loss)
        assert list(logs) == list(ref["evaluate"]) and model.metrics_names == ["loss"]
        np.testing.assert_allclose(logs["loss"], ref["evaluate"]["loss"], rtol=1e-5)
        reg_before = model.get_layer("reg").get_weights()
        model.fit(x, y, epochs=1, verbose=0)  # the branch without a loss gets no gradient and stays as it was
        for got, want in zip(model.get_layer("reg").get_weights(), reg_before):
            np.testing.assert_array_equal(got, want)


def test_activity_penalty_of_a_layer_shared_by_two_sub_models_counts_once():
    shared_layer = kcore.layers.Dense(2, activity_regularizer=kcore.regularizers.L1(0.5), kernel_initializer="ones")
    a = kcore.Sequential([kcore.Input((2,)), shared_layer], name="a")
    b = kcore.Sequential([kcore.Input((2,)), shared_layer], name="b")
    inp = kcore.Input((2,))
    model = kcore.Model(inp, kcore.layers.Add()([a(inp), b(inp)]))
    x, y = np.ones((1, 2), np.float32), np.zeros((1, 2), np.float32)
    model.compile(optimizer="sgd", loss="mse")
    # output 2 * [2, 2] = [4, 4]: mse 16; the shared layer ran twice: two penalties of 0.5 * (2 + 2) = 2
    # (real Keras 3.15 gives 20.0 and 2 losses for this model)
    np.testing.assert_allclose(model.evaluate(x, y, verbose=0), 16 + 2 * 2, rtol=1e-6)
    assert len(model.losses) == 2
