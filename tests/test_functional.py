"""Functional graphs, shared layers, nested models, subclassing, and the seeds' functional examples."""
import numpy as np
import pytest

import kcore
from kcore import layers, ops


def _two_in_two_out():
    a, b = kcore.Input((6,), name="a"), kcore.Input((4,), name="b")
    h = layers.Concatenate()([layers.Dense(8, activation="relu")(a), layers.Dense(8, activation="relu")(b)])
    cls = layers.Dense(3, activation="softmax", name="cls")(h)
    reg = layers.Dense(1, name="reg")(h)
    return kcore.Model(inputs=[a, b], outputs=[cls, reg])


def _two_in_two_out_data(rng, n=256):
    xa = rng.standard_normal((n, 6)).astype(np.float32)
    xb = rng.standard_normal((n, 4)).astype(np.float32)
    y_cls = (xa[:, 0] > 0).astype(np.int64) + (xb[:, 0] > 0)
    y_reg = (xa[:, :2].sum(1) - xb[:, 1])[:, None].astype(np.float32)
    return [xa, xb], [y_cls, y_reg]


def test_two_input_two_output_model_trains_with_per_output_losses(rng):
    model = _two_in_two_out()
    model.compile(optimizer=kcore.optimizers.Adam(0.01), loss={"cls": "sparse_categorical_crossentropy", "reg": "mse"},
                  loss_weights={"cls": 1.0, "reg": 0.5}, metrics={"cls": ["accuracy"], "reg": ["mae"]})
    x, y = _two_in_two_out_data(rng)
    history = model.fit(x, y, epochs=30, batch_size=32, validation_split=0.2, verbose=0)
    assert list(history.history) == ["loss", "cls_loss", "reg_loss", "cls_accuracy", "reg_mae", "val_loss",
                                     "val_cls_loss", "val_reg_loss", "val_cls_accuracy", "val_reg_mae"]
    h = history.history
    # per-output losses are averaged over batches unweighted (as Keras 3 does), "loss" by sample: they only agree
    # approximately when the last batch is smaller (tests/test_keras_parity_training.py checks Keras's numbers)
    np.testing.assert_allclose(h["loss"][-1], h["cls_loss"][-1] + 0.5 * h["reg_loss"][-1], rtol=5e-2)
    assert h["cls_accuracy"][-1] > 0.85 and h["reg_loss"][-1] < 0.1
    preds = model.predict(x, verbose=0)
    assert isinstance(preds, list) and preds[0].shape == (256, 3) and preds[1].shape == (256, 1)
    assert model.output_names == ["cls", "reg"]
    results = model.evaluate(x, y, verbose=0, return_dict=True)
    assert set(results) == {"loss", "cls_loss", "reg_loss", "cls_accuracy", "reg_mae"}


def test_list_losses_and_dict_inputs(rng):
    model = _two_in_two_out()
    model.compile("adam", ["sparse_categorical_crossentropy", "mse"], loss_weights=[1.0, 1.0])
    x, y = _two_in_two_out_data(rng, 64)
    model.fit({"a": x[0], "b": x[1]}, {"cls": y[0], "reg": y[1]}, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="2 entries but the model has 2|has 3 entries"):
        model.compile("adam", ["mse", "mse", "mse"])
        model.fit(x, y, verbose=0)


def test_shared_layer_shares_weights(rng):
    shared = layers.Dense(4)
    a, b = kcore.Input((3,)), kcore.Input((3,))
    model = kcore.Model([a, b], layers.Add()([shared(a), shared(b)]))
    assert model.count_params() == 16 and len(model.trainable_weights) == 2
    x = rng.standard_normal((2, 3)).astype(np.float32)
    k, bias = shared.get_weights()
    np.testing.assert_allclose(model.predict([x, x], verbose=0), 2 * (x @ k + bias), rtol=1e-5)


def test_model_used_as_a_layer(rng):
    inner = kcore.Sequential([layers.Dense(5, activation="relu", input_shape=(3,)), layers.Dense(2)])
    inp = kcore.Input((3,))
    outer = kcore.Model(inp, layers.Activation("softmax")(inner(inp)))
    x = rng.standard_normal((4, 3)).astype(np.float32)
    np.testing.assert_allclose(outer.predict(x, verbose=0), ops.softmax(inner.predict(x, verbose=0)).numpy(),
                               rtol=1e-5)
    assert outer.count_params() == inner.count_params()


def test_merge_layers_match_numpy(rng):
    a, b = rng.standard_normal((3, 4)).astype(np.float32), rng.standard_normal((3, 4)).astype(np.float32)
    cases = {layers.Add: a + b, layers.Subtract: a - b, layers.Multiply: a * b, layers.Average: (a + b) / 2,
             layers.Maximum: np.maximum(a, b), layers.Minimum: np.minimum(a, b)}
    for cls, ref in cases.items():
        np.testing.assert_allclose(cls()([a, b]).numpy(), ref, rtol=1e-6)
    np.testing.assert_allclose(layers.Concatenate(axis=0)([a, b]).numpy(), np.concatenate([a, b], 0))
    np.testing.assert_allclose(layers.Dot(axes=1)([a, b]).numpy(), (a * b).sum(1, keepdims=True), rtol=1e-5)
    an, bn = a / np.linalg.norm(a, axis=1, keepdims=True), b / np.linalg.norm(b, axis=1, keepdims=True)
    np.testing.assert_allclose(layers.Dot(axes=1, normalize=True)([a, b]).numpy(), (an * bn).sum(1, keepdims=True),
                               rtol=1e-5)
    with pytest.raises(ValueError, match="list of at least 2 inputs"):
        layers.Add()(a)


def test_lambda_layer(rng):
    inp = kcore.Input((4,))
    out = layers.Lambda(lambda t: ops.multiply(t, 2.0))(inp)
    model = kcore.Model(inp, out)
    assert model.output_shape == (None, 4)
    x = rng.standard_normal((2, 4)).astype(np.float32)
    np.testing.assert_allclose(model.predict(x, verbose=0), 2 * x)


def test_disconnected_graphs_are_clear_errors():
    a, b = kcore.Input((3,), name="in_a"), kcore.Input((3,), name="in_b")
    out = layers.Dense(2)(b)
    with pytest.raises(ValueError, match="Graph disconnected.*in_b"):
        kcore.Model(a, out)
    with pytest.raises(ValueError, match="not connected to the outputs"):
        kcore.Model([a, b], out)
    with pytest.raises(TypeError, match="symbolic tensors"):
        kcore.Model(np.zeros(3), out)


def test_intermediate_tensor_as_inputs_builds_the_sub_model(rng):
    """Seed 003's functional example: Model(inputs=x, outputs=y) where x is a hidden layer's output."""
    inp = kcore.Input(shape=(784,))
    x = layers.Dense(units=64, activation="relu")(inp)
    x = layers.Dense(units=64, activation="relu")(x)
    y = layers.Dense(units=10, activation="softmax")(x)
    model = kcore.Model(inputs=x, outputs=y)
    assert model.count_params() == 650
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    data = rng.standard_normal((32, 64)).astype(np.float32)
    labels = kcore.utils.to_categorical(rng.integers(0, 10, 32), 10)
    model.fit(x=data, y=labels, verbose=0)
    with pytest.raises(ValueError, match="incompatible"):
        model.fit(x=rng.standard_normal((32, 784)).astype(np.float32), y=labels, verbose=0)


def test_seed_002_functional_example_with_builtin_input_is_a_type_error():
    input1 = kcore.Input(shape=(1000,))
    input2 = kcore.Input(shape=(100,))
    with pytest.raises(TypeError, match="builtin_function_or_method"):
        layers.Dense(units=32, activation="relu")(input)  # the seed passes Python's builtin `input`
    assert input1.shape == (None, 1000) and input2.shape == (None, 100)


def test_seed_001_functional_model():
    x_input = kcore.layers.Input(shape=(784,))
    output = kcore.layers.Dense(10, activation="softmax")(kcore.layers.Dense(32, activation="relu")(x_input))
    model = kcore.models.Model(inputs=x_input, outputs=output)
    assert model.count_params() == 784 * 32 + 32 + 330


def test_functional_summary_has_connected_to_column():
    a, b = kcore.Input((4,)), kcore.Input((3,))
    merged = layers.Concatenate()([layers.Dense(5)(a), b])
    model = kcore.Model([a, b], layers.Dense(2)(merged))
    lines = []
    model.summary(print_fn=lines.append)
    assert lines[1].startswith("Layer (type)") and "Connected to" in lines[1] and len(lines[0]) == 98
    assert lines[3].startswith("input_1 (InputLayer)")
    row = [line for line in lines if line.startswith("concatenate_1 (Concatenate)")][0]
    assert row.rstrip().endswith("dense_1[0][0]")
    assert lines[lines.index(row) + 1].strip() == "input_2[0][0]"


def test_linear_functional_summary_is_sequential_style():
    inp = kcore.Input((4,))
    model = kcore.Model(inp, layers.Dense(2)(layers.Dense(3)(inp)))
    lines = []
    model.summary(print_fn=lines.append)
    assert len(lines[0]) == 65 and "Connected to" not in lines[1]
    assert lines[3].startswith("input_1 (InputLayer)")


class Residual(layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight("w", (input_shape[-1], self.units), "glorot_uniform")
        self.scale = self.add_weight("scale", (), "ones", trainable=False)

    def call(self, x):
        return ops.add(x, ops.multiply(ops.tanh(ops.matmul(x, self.w)), self.scale))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "units": self.units}


class TwoTower(kcore.Model):
    def __init__(self):
        super().__init__()
        self.block = Residual(8)
        self.head = layers.Dense(1, activation="sigmoid")

    def call(self, x, training=None):
        return self.head(self.block(x))


def test_custom_layer_and_subclassed_model_train(rng):
    x = rng.standard_normal((200, 8)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.float32)[:, None]
    model = TwoTower()
    model.compile(kcore.optimizers.Adam(0.01), "binary_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=40, batch_size=20, verbose=0)
    assert model.evaluate(x, y, verbose=0)[1] > 0.9
    assert [w.name for w in model.block.weights] == ["w", "scale"]
    assert len(model.trainable_weights) == 3 and len(model.non_trainable_weights) == 1
    model.summary(print_fn=lambda line: None)


def test_freezing_a_layer_stops_its_updates(rng):
    model = kcore.Sequential([layers.Dense(4, input_shape=(3,)), layers.Dense(1)])
    model.layers[0].trainable = False
    frozen = model.layers[0].get_weights()
    model.compile("sgd", "mse")
    model.fit(rng.standard_normal((32, 3)).astype(np.float32), rng.standard_normal((32, 1)).astype(np.float32),
              epochs=2, verbose=0)
    for a, b in zip(frozen, model.layers[0].get_weights()):
        np.testing.assert_array_equal(a, b)
    assert len(model.trainable_weights) == 2 and len(model.non_trainable_weights) == 2
    lines = []
    model.summary(print_fn=lines.append)
    assert "Non-trainable params: 16" in lines


def test_regularizers_add_to_the_loss(rng):
    from kcore import regularizers

    x = rng.standard_normal((8, 3)).astype(np.float32)
    y = np.zeros((8, 2), np.float32)
    model = kcore.Sequential([layers.Dense(2, input_shape=(3,), kernel_initializer="ones", use_bias=False,
                                           kernel_regularizer=regularizers.L2(0.1))])
    model.compile(kcore.optimizers.SGD(0.0), "mse")
    loss = model.evaluate(x, y, verbose=0)
    pred = x @ np.ones((3, 2))
    assert loss == pytest.approx(np.mean(pred**2) + 0.1 * 6, rel=1e-5)


def test_sample_weight_and_class_weight(rng):
    model = kcore.Sequential([layers.Dense(1, input_shape=(1,), kernel_initializer="zeros")])
    model.compile(kcore.optimizers.SGD(0.0), "mse")
    x = np.ones((4, 1), np.float32)
    y = np.array([[1.0], [1.0], [2.0], [2.0]], np.float32)
    assert model.evaluate(x, y, sample_weight=np.array([1, 1, 0, 0.0]), verbose=0) == pytest.approx(0.5)
    h = model.fit(x, y, class_weight={1: 0.0, 2: 1.0}, verbose=0, shuffle=False)
    assert h.history["loss"][0] == pytest.approx(2.0)


def test_generators_sequences_steps_and_initial_epoch(rng):
    x = rng.standard_normal((64, 3)).astype(np.float32)
    y = x.sum(1, keepdims=True)

    class Batches(kcore.utils.Sequence):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return x[i * 16:(i + 1) * 16], y[i * 16:(i + 1) * 16]

    def gen():
        while True:
            for i in range(4):
                yield x[i * 16:(i + 1) * 16], y[i * 16:(i + 1) * 16]

    model = kcore.Sequential([layers.Dense(1, input_shape=(3,))])
    model.compile("adam", "mse")
    h = model.fit(Batches(), epochs=2, verbose=0)
    assert h.params["steps"] == 4
    h = model.fit(gen(), steps_per_epoch=3, epochs=5, initial_epoch=3, verbose=0)
    assert h.epoch == [3, 4]
    h = model.fit(x, y, epochs=4, validation_data=(x, y), validation_freq=2, verbose=0)
    assert len(h.history["loss"]) == 4 and len(h.history["val_loss"]) == 2
