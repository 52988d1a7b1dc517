"""compile / fit / evaluate / predict: learning, Keras semantics, optimizer rules, errors."""
import gc
import io
from contextlib import redirect_stdout

import numpy as np
import pytest

import kcore
from kcore import layers, optimizers


def _digits():
    (xt, yt), (xs, ys) = kcore.datasets.digits.load_data()
    return (xt.reshape(-1, 64).astype("float32") / 16, yt), (xs.reshape(-1, 64).astype("float32") / 16, ys)


def _mlp(out_activation="softmax"):
    return kcore.Sequential([layers.Dense(64, activation="relu", input_shape=(64,)),
                             layers.Dense(32, activation="relu"), layers.Dense(10, activation=out_activation)])


def test_digits_dataset_split():
    (xt, yt), (xs, ys) = kcore.datasets.digits.load_data()
    assert xt.shape == (1437, 8, 8) and xs.shape == (360, 8, 8)
    assert xt.dtype == np.uint8 and yt.dtype == np.uint8 and xt.max() == 16
    assert sorted(set(yt.tolist())) == list(range(10))


def test_mlp_reaches_95_percent_on_digits():
    (xt, yt), (xs, ys) = _digits()
    model = _mlp()
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(xt, kcore.utils.to_categorical(yt, 10), epochs=30, batch_size=32, verbose=0)
    loss, acc = model.evaluate(xs, kcore.utils.to_categorical(ys, 10), verbose=0)
    assert acc >= 0.95
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_sparse_labels_and_sgd_momentum_learn():
    (xt, yt), (xs, ys) = _digits()
    model = _mlp()
    model.compile(optimizer=optimizers.SGD(0.05, momentum=0.9, nesterov=True),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(xt, yt, epochs=15, batch_size=32, verbose=0)
    assert model.evaluate(xs, ys, verbose=0)[1] >= 0.93


def test_history_keys_params_and_validation_split():
    (xt, yt), _ = _digits()
    model = _mlp()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    h = model.fit(xt[:200], yt[:200], epochs=2, batch_size=50, validation_split=0.25, verbose=0)
    assert list(h.history) == ["loss", "accuracy", "val_loss", "val_accuracy"]
    assert h.params == {"verbose": 0, "epochs": 2, "steps": 3}  # 150 training samples / 50
    assert h.epoch == [0, 1]


def test_validation_split_takes_the_last_samples_before_shuffling():
    model = kcore.Sequential([layers.Dense(1, input_shape=(1,), kernel_initializer="zeros")])
    model.compile(optimizers.SGD(0.0), "mse")
    x = np.arange(10, dtype=np.float32).reshape(-1, 1)
    y = np.where(x >= 8, 100.0, 0.0).astype(np.float32)  # only the last 20% are non-zero
    h = model.fit(x, y, validation_split=0.2, epochs=1, verbose=0)
    assert h.history["loss"][0] == 0.0 and h.history["val_loss"][0] == 10000.0


def test_progress_bar_and_verbose_2_format():
    (xt, yt), _ = _digits()
    model = _mlp()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    buf = io.StringIO()
    with redirect_stdout(buf):
        model.fit(xt[:64], yt[:64], epochs=1, batch_size=32, verbose=1)
        model.fit(xt[:64], yt[:64], epochs=1, batch_size=32, verbose=2)
    lines = buf.getvalue().splitlines()
    assert lines[0] == "Epoch 1/1"
    final = [line for line in lines if line.startswith("2/2 [")][0]
    assert final.startswith("2/2 [==============================] - ")
    assert " - loss: " in final and " - accuracy: " in final and "/step" in final
    v2 = [line for line in lines if line.startswith("2/2 - ")][0]
    assert v2.endswith("/step") and "/epoch" in v2


def test_evaluate_return_types_and_predict_batches():
    (xt, yt), _ = _digits()
    model = _mlp()
    model.compile("adam", "sparse_categorical_crossentropy")
    assert isinstance(model.evaluate(xt[:40], yt[:40], verbose=0), float)
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    values = model.evaluate(xt[:40], yt[:40], verbose=0)
    assert isinstance(values, list) and len(values) == 2
    assert set(model.evaluate(xt[:40], yt[:40], verbose=0, return_dict=True)) == {"loss", "accuracy"}
    pred = model.predict(xt[:70], batch_size=32, verbose=0)
    assert pred.shape == (70, 10) and isinstance(pred, np.ndarray)
    np.testing.assert_allclose(pred.sum(1), 1, rtol=1e-5)
    np.testing.assert_allclose(model.predict_on_batch(xt[:5]), pred[:5], rtol=1e-5)


def test_accuracy_resolves_by_shapes():
    from kcore.metrics import binary_accuracy, categorical_accuracy, resolve_accuracy, sparse_categorical_accuracy

    assert resolve_accuracy((8, 1), (8, 1)) is binary_accuracy
    assert resolve_accuracy((8,), (8, 10)) is sparse_categorical_accuracy
    assert resolve_accuracy((8, 1), (8, 10)) is sparse_categorical_accuracy
    assert resolve_accuracy((8, 10), (8, 10)) is categorical_accuracy


def test_binary_classification_with_mse_and_mae():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((400, 5)).astype(np.float32)
    y = (x.sum(1, keepdims=True) > 0).astype(np.float32)
    for loss in ("binary_crossentropy", "mse", "mae"):
        model = kcore.Sequential([layers.Dense(8, activation="tanh", input_dim=5),
                                  layers.Dense(1, activation="sigmoid")])
        model.compile("adam", loss, metrics=["accuracy"])
        model.fit(x, y, epochs=40, batch_size=32, verbose=0)
        assert model.evaluate(x, y, verbose=0)[1] > 0.9, loss


def test_fused_softmax_crossentropy_matches_probability_formula(rng):
    from kcore import losses

    logits = rng.standard_normal((6, 4)).astype(np.float32)
    y = np.eye(4, dtype=np.float32)[[0, 1, 2, 3, 0, 1]]
    p = kcore.ops.softmax(logits)
    fused = losses.categorical_crossentropy(y, p).numpy()
    plain = -np.sum(y * np.log(np.clip(p.numpy(), 1e-7, 1 - 1e-7)), axis=1)
    np.testing.assert_allclose(fused, plain, rtol=1e-5)
    saturated = losses.categorical_crossentropy(np.array([[0, 1.0]], np.float32), np.array([[1.0, 0.0]], np.float32))
    np.testing.assert_allclose(saturated.numpy(), [16.118095], rtol=1e-5)
    assert abs(float(losses.categorical_crossentropy(np.array([[1.0, 0]]), np.array([[2.0, 2.0]])).numpy()[0])
               - np.log(2)) < 1e-6


def test_seed_002_legacy_adam_arguments():
    from kcore.optimizers import Adam

    opt = Adam(lr=0.001, beta_1=0.9, beta_2=0.999, epsilon=None, decay=0.0, amsgrad=False)
    assert opt.learning_rate == pytest.approx(0.001) and opt.epsilon == 1e-7
    decayed = Adam(lr=0.1, decay=0.5)
    decayed.iterations = 2
    assert decayed.learning_rate == pytest.approx(0.1 / 2)


def test_unknown_names_raise_clear_errors():
    model = _mlp()
    with pytest.raises(ValueError, match="Could not interpret loss identifier: crossentropy_x"):
        model.compile("adam", "crossentropy_x")
        model.fit(np.zeros((2, 64), np.float32), np.zeros(2), verbose=0)
    with pytest.raises(ValueError, match="Could not interpret optimizer identifier: adamz"):
        model.compile("adamz", "mse")
    with pytest.raises(ValueError, match="Could not interpret metric identifier: acuracy"):
        model.compile("adam", "mse", metrics=["acuracy"])
        model.fit(np.zeros((2, 64), np.float32), np.zeros((2, 10), np.float32), verbose=0)


def test_targets_that_do_not_fit_the_loss():
    model = _mlp()
    model.compile("adam", "categorical_crossentropy")
    with pytest.raises(ValueError, match="sparse_categorical_crossentropy"):
        model.fit(np.zeros((4, 64), np.float32), np.array([1, 2, 3, 4]), verbose=0)
    model.compile("adam", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="out of range for 10 classes"):
        model.fit(np.zeros((4, 64), np.float32), np.array([1, 2, 3, 12]), verbose=0)
    with pytest.raises(ValueError, match="same number of samples"):
        model.fit(np.zeros((4, 64), np.float32), np.array([1, 2, 3]), verbose=0)


def test_object_and_string_arrays_are_rejected():
    model = _mlp()
    model.compile("adam", "sparse_categorical_crossentropy")
    with pytest.raises(TypeError, match="dtype object"):
        model.fit(np.array([[object()] * 64] * 2), np.array([0, 1]), verbose=0)
    with pytest.raises(TypeError, match="numeric"):
        model.fit(np.array([["a"] * 64] * 2), np.array([0, 1]), verbose=0)


def test_predict_with_wrong_feature_count():
    model = _mlp()
    with pytest.raises(ValueError, match=r"dense_1.*expected axis -1 of input shape to have value 64.*\(3, 60\)"):
        model.predict(np.zeros((3, 60), np.float32), verbose=0)


def test_nan_inputs_warn():
    model = _mlp()
    model.compile("adam", "sparse_categorical_crossentropy")
    x = np.zeros((4, 64), np.float32)
    x[1, 3] = np.nan
    with pytest.warns(RuntimeWarning, match="NaN"):
        model.fit(x, np.array([0, 1, 2, 3]), verbose=0)


def test_fit_without_compile_and_summary_of_unbuilt_model():
    model = kcore.Sequential([layers.Dense(2)])
    with pytest.raises(RuntimeError, match="compile"):
        model.fit(np.zeros((2, 3)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="not yet been built"):
        model.summary()
    model.compile("sgd", "mse")
    model.fit(np.zeros((2, 3), np.float32), np.zeros((2, 2), np.float32), verbose=0)
    assert model.built and model.count_params() == 8


def test_training_is_reproducible_with_set_random_seed():
    (xt, yt), _ = _digits()

    def run():
        kcore.backend.clear_session()
        kcore.utils.set_random_seed(5)
        model = kcore.Sequential([layers.Dense(32, activation="relu", input_shape=(64,)), layers.Dropout(0.3),
                                  layers.Dense(10, activation="softmax")])
        model.compile("adam", "sparse_categorical_crossentropy")
        model.fit(xt[:300], yt[:300], epochs=2, batch_size=32, verbose=0)
        return model.get_weights()

    for a, b in zip(run(), run()):
        np.testing.assert_array_equal(a, b)


def test_no_graph_survives_a_training_step():
    (xt, yt), _ = _digits()
    model = _mlp()
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(xt[:64], yt[:64], epochs=1, batch_size=32, verbose=0)
    gc.collect()
    from kcore.backend.autodiff import Node

    assert not [o for o in gc.get_objects() if isinstance(o, Node)]
    out = model(xt[:4])
    assert out.node is None  # plain calls outside a tape record nothing


def test_pop_and_layers():
    model = _mlp()
    assert [layer.name for layer in model.layers] == ["dense_1", "dense_2", "dense_3"]
    model.pop()
    assert len(model.layers) == 2
    with pytest.raises(TypeError):
        model.add("not a layer")


def test_train_on_batch_and_test_on_batch():
    (xt, yt), _ = _digits()
    model = _mlp()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    first = model.train_on_batch(xt[:64], yt[:64])
    for _ in range(20):
        last = model.train_on_batch(xt[:64], yt[:64])
    assert last[0] < first[0]
    assert len(model.test_on_batch(xt[:64], yt[:64])) == 2


def test_custom_training_loop_with_gradient_tape():
    (xt, yt), _ = _digits()
    model = _mlp()
    opt = optimizers.Adam(0.01)
    loss_fn = kcore.losses.SparseCategoricalCrossentropy()
    losses = []
    for _ in range(30):
        with kcore.GradientTape() as tape:
            loss = loss_fn(yt[:128], model(xt[:128], training=True))
        grads = tape.gradient(loss, model.trainable_weights)
        opt.apply_gradients(zip(grads, model.trainable_weights))
        losses.append(float(loss))
    assert losses[-1] < 0.5 * losses[0]


def test_repeated_calls_keep_memory_flat():
    from kcore import regularizers

    model = kcore.Sequential([layers.Dense(4, input_shape=(3,), activity_regularizer=regularizers.L2(0.01)),
                              layers.Dense(1)])
    model.compile("sgd", "mse")
    x = np.ones((5, 3), np.float32)
    for _ in range(200):
        model.predict(x, verbose=0)
        model(x)
    # each outermost call replaces the previous call's activity penalty (Keras 3): nothing accumulates
    assert [len(layer._losses) for layer in model.layers] == [1, 0]
    assert all(not layer._inbound_nodes for layer in model.layers)
    loss_with_penalty = model.evaluate(x, np.zeros((5, 1), np.float32), verbose=0)
    model.fit(x, np.zeros((5, 1), np.float32), epochs=3, verbose=0)
    assert len(model.layers[0]._losses) <= 1 and loss_with_penalty >= 0


def test_model_metrics_follow_metrics_names_and_evaluate():
    inp = kcore.Input((4,))
    hidden = layers.Dense(3)(inp)
    model = kcore.Model(inp, [layers.Dense(2, activation="softmax", name="cls")(hidden),
                              layers.Dense(1, name="reg")(hidden)])
    assert model.metrics == [] and model.metrics_names == ["loss"]
    model.compile("sgd", ["sparse_categorical_crossentropy", "mse"], metrics=[["accuracy"], ["mae"]])
    x = np.random.default_rng(0).random((8, 4)).astype("float32")
    y = [np.arange(8) % 2, x[:, :1]]
    results = model.evaluate(x, y, verbose=0)
    assert [m.name for m in model.metrics] == model.metrics_names == [
        "loss", "cls_loss", "reg_loss", "cls_accuracy", "reg_mae"]
    assert [m.result() for m in model.metrics] == pytest.approx(results)
