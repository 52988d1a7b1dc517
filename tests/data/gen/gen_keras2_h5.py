"""Writes Keras 2 (tf_keras) .h5 model and weight files plus predictions for tests/test_legacy_h5.py.

Run with the reference venv: KERAS_BACKEND=tensorflow /work/refenv/bin/python tests/data/gen/gen_keras2_h5.py
Each model is small so its fixture stays a few KB."""
import json
import os

import h5py
import numpy as np
import tf_keras as keras
from tf_keras import layers

OUT = os.path.join(os.path.dirname(__file__), "..", "keras2")
rng = np.random.default_rng(7)


def mlp():
    m = keras.Sequential([layers.Dense(8, activation="relu", input_dim=5), layers.Dropout(0.2),
                          layers.Dense(3, activation="softmax")], name="mlp")
    m.compile(optimizer=keras.optimizers.Adam(learning_rate=0.003), loss="categorical_crossentropy",
              metrics=["accuracy"])
    x = rng.normal(size=(4, 5)).astype("float32")
    m.fit(x, np.eye(3)[[0, 1, 2, 0]].astype("float32"), epochs=1, verbose=0)
    return m, x


def cnn():
    m = keras.Sequential([layers.Conv2D(4, 3, padding="same", input_shape=(6, 6, 2)), layers.BatchNormalization(),
                          layers.Activation("relu"), layers.MaxPooling2D(), layers.Flatten(), layers.Dense(2)])
    x = rng.normal(size=(3, 6, 6, 2)).astype("float32")
    m.compile(optimizer="sgd", loss="mse")
    m.fit(x, rng.normal(size=(3, 2)).astype("float32"), epochs=2, verbose=0)  # moves the BN statistics
    return m, x


def rnn():
    m = keras.Sequential([layers.Embedding(20, 4, input_length=6, mask_zero=True),
                          layers.LSTM(5, return_sequences=True), layers.GRU(3, reset_after=False),
                          layers.Dense(2)])
    x = rng.integers(1, 20, size=(3, 6)).astype("int32")
    x[0, 4:] = 0
    return m, x


def gru_v2():
    m = keras.Sequential([layers.GRU(3, input_shape=(4, 2), return_sequences=True), layers.SimpleRNN(2)])
    return m, rng.normal(size=(2, 4, 2)).astype("float32")


def two_branch():
    a = keras.Input((4,), name="a")
    b = keras.Input((3,), name="b")
    ha = layers.Dense(5, activation="tanh", name="branch_a")(a)
    hb = layers.Dense(5, activation="relu", name="branch_b")(b)
    h = layers.Concatenate()([ha, hb])
    out = layers.Dense(2, name="head")(h)
    m = keras.Model([a, b], out, name="two_branch")
    return m, [rng.normal(size=(3, 4)).astype("float32"), rng.normal(size=(3, 3)).astype("float32")]


def bidir():
    m = keras.Sequential([layers.Bidirectional(layers.LSTM(3, return_sequences=True), input_shape=(5, 2)),
                          layers.Bidirectional(layers.GRU(2), merge_mode="sum"), layers.Dense(1)])
    return m, rng.normal(size=(2, 5, 2)).astype("float32")


def nested(lib=keras):
    """A Sequential inside a functional model; its frozen first layer and BatchNormalization statistics put
    trainable weights before non-trainable ones in the file, as Keras orders a nested model's weights."""
    inner = lib.Sequential([lib.Input((3,)), lib.layers.Dense(4, activation="relu"),
                            lib.layers.BatchNormalization(), lib.layers.Dense(2)], name="inner")
    inner.layers[0].trainable = False
    x_in = lib.Input((3,))
    h = inner(x_in)
    out = lib.layers.Dense(1)(lib.layers.Concatenate()([h, x_in]))
    m = lib.Model(x_in, out)
    x = np.random.default_rng(3).normal(size=(3, 3)).astype("float32")
    m.compile(optimizer="sgd", loss="mse")
    m.fit(x, np.ones((3, 1), "float32"), epochs=2, verbose=0)  # moves the BN statistics
    return m, x


def compiled():
    """Loss and metric objects with non-default settings in the training config."""
    m = keras.Sequential([layers.Dense(3, input_shape=(4,))])
    m.compile(optimizer=keras.optimizers.RMSprop(learning_rate=0.01),
              loss=keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1),
              metrics=["mae", keras.metrics.AUC(curve="PR", from_logits=True, name="pr_auc")])
    return m, rng.normal(size=(6, 4)).astype("float32")


def resume(slots_for):
    """A model mid-training (Adam or RMSprop state in optimizer_weights); `after` is its kernel one more
    full-batch step later, which only matches when that state is restored."""
    m = keras.Sequential([layers.Dense(3, input_shape=(4,))])
    m.compile(optimizer=slots_for, loss="mse")
    x = rng.normal(size=(5, 4)).astype("float32")
    y = rng.normal(size=(5, 3)).astype("float32")
    m.fit(x, y, epochs=3, batch_size=5, verbose=0)
    return m, x, y


def as_list(x):
    return x if isinstance(x, list) else [x]


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, make in [("mlp", mlp), ("cnn", cnn), ("rnn", rnn), ("gru_v2", gru_v2), ("two_branch", two_branch),
                       ("bidir", bidir), ("nested", nested), ("compiled", compiled)]:
        keras.utils.set_random_seed(1)
        model, x = make()
        model.save(os.path.join(OUT, f"{name}.h5"), save_format="h5", include_optimizer=name in ("mlp", "compiled"))
        if name in ("mlp", "cnn", "rnn"):
            model.save_weights(os.path.join(OUT, f"{name}_weights.h5"))
        y = model.predict(x, verbose=0)
        arrays = {f"x{i}": v for i, v in enumerate(as_list(x))}
        if name == "compiled":  # what evaluate reports: loss, mae, pr_auc
            labels = np.eye(3, dtype="float32")[[0, 1, 2, 0, 1, 2]]
            arrays.update(labels=labels, evaluate=np.array(model.evaluate(x, labels, verbose=0)))
        np.savez(os.path.join(OUT, f"{name}_io.npz"), y=y, **arrays)
    for name, opt in (("resume_adam", keras.optimizers.Adam(0.05, amsgrad=True)),
                      ("resume_rmsprop", keras.optimizers.RMSprop(0.05, momentum=0.5, centered=True))):
        keras.utils.set_random_seed(1)
        model, x, y = resume(opt)
        model.save(os.path.join(OUT, f"{name}.h5"), save_format="h5")
        model.fit(x, y, epochs=1, batch_size=5, shuffle=False, verbose=0)
        np.savez(os.path.join(OUT, f"{name}_io.npz"), x=x, y=y, after=model.layers[0].kernel.numpy())
    import keras as keras3  # Keras 3 writes the same legacy layout with its own config details

    keras3.utils.set_random_seed(1)
    model, x = nested(keras3)
    model.save(os.path.join(OUT, "keras3_nested.h5"), include_optimizer=False)
    np.savez(os.path.join(OUT, "keras3_nested_io.npz"), x0=x, y=model.predict(x, verbose=0))
    _legacy_copy("mlp.h5", "mlp_legacy_adam.h5", _old_adam)
    _legacy_copy("rnn.h5", "rnn_legacy.h5", _old_sequential)


def _old_adam(f):
    """A training config as Keras 2.2 wrote it: Adam(lr=...) instead of learning_rate."""
    tc = json.loads(f.attrs["training_config"])
    tc["optimizer_config"] = {"class_name": "Adam", "config": {"lr": 0.003, "beta_1": 0.9, "beta_2": 0.999,
                                                               "decay": 0.0, "epsilon": 1e-7, "amsgrad": False}}
    f.attrs["training_config"] = json.dumps(tc)


def _old_sequential(f):
    """A model config as Keras 2.0 wrote it: Sequential's config a bare list without an InputLayer, the
    first layer with batch_input_shape, GRU without reset_after."""
    mc = json.loads(f.attrs["model_config"])
    old = [layer for layer in mc["config"]["layers"] if layer["class_name"] != "InputLayer"]
    for layer in old:
        layer["config"].pop("reset_after", None)
        layer["config"].pop("time_major", None)
    mc["config"] = old
    f.attrs["model_config"] = json.dumps(mc)
    f.attrs["keras_version"] = "2.0.8"


def _legacy_copy(src_name, dst_name, edit):
    with h5py.File(os.path.join(OUT, dst_name), "w") as dst, h5py.File(os.path.join(OUT, src_name), "r") as src:
        for k, v in src.attrs.items():
            dst.attrs[k] = v
        src.copy("model_weights", dst)
        edit(dst)


if __name__ == "__main__":
    main()
