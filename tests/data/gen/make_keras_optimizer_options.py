"""Writes tests/data/keras3_optimizer_options.npz (+ keras3_accumulating_adam.keras): training with the Keras 3
optimizer options gradient_accumulation_steps, loss_scale_factor and use_ema, in real Keras 3 (TensorFlow).

Each case trains the same small model (weights set from the npz) for 7 batches with fit(shuffle=False) and records
the weights after training, the optimizer's iteration count and its variables (in Keras's order). The .keras file
is a model compiled with an accumulating, EMA-tracking Adam after those 7 batches (optimizer state saved).

Not part of the test run. Run with the reference environment:
    KERAS_BACKEND=tensorflow /work/refenv/bin/python tests/data/gen/make_keras_optimizer_options.py
"""
import json
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
CASES = {
    "sgd_accumulate3": ("SGD", {"learning_rate": 0.1, "momentum": 0.5, "gradient_accumulation_steps": 3}),
    "adam_accumulate2": ("Adam", {"learning_rate": 0.01, "gradient_accumulation_steps": 2}),
    "adam_loss_scale": ("Adam", {"learning_rate": 0.01, "loss_scale_factor": 128.0}),
    "sgd_accumulate_clip": ("SGD", {"learning_rate": 0.1, "gradient_accumulation_steps": 2, "clipnorm": 0.05}),
    "adamw_accumulate_ema": ("AdamW", {"learning_rate": 0.01, "gradient_accumulation_steps": 3, "use_ema": True,
                                       "ema_momentum": 0.9}),
    "nadam_accumulate2": ("Nadam", {"learning_rate": 0.01, "gradient_accumulation_steps": 2}),
    "lion": ("Lion", {"learning_rate": 0.01, "beta_2": 0.95}),
    "lion_accumulate2_ema": ("Lion", {"learning_rate": 0.01, "gradient_accumulation_steps": 2, "use_ema": True}),
}


# Embedding models: TensorFlow hands the optimizer IndexedSlices, which square each read of a row separately.
EMBEDDING_CASES = {
    "emb_adam": ("Adam", {"learning_rate": 0.05}),
    "emb_adam_amsgrad": ("Adam", {"learning_rate": 0.05, "amsgrad": True}),
    "emb_adamw": ("AdamW", {"learning_rate": 0.05, "weight_decay": 0.1}),
    "emb_rmsprop_centered": ("RMSprop", {"learning_rate": 0.01, "centered": True, "momentum": 0.5}),
    "emb_adagrad": ("Adagrad", {"learning_rate": 0.1}),
    "emb_nadam": ("Nadam", {"learning_rate": 0.05}),
    "emb_sgd_momentum": ("SGD", {"learning_rate": 0.1, "momentum": 0.9}),
    "emb_adam_accumulate": ("Adam", {"learning_rate": 0.05, "gradient_accumulation_steps": 2}),
    "emb_lion": ("Lion", {"learning_rate": 0.05}),
    "emb_adadelta": ("Adadelta", {"learning_rate": 1.0}),
    "emb_adamax": ("Adamax", {"learning_rate": 0.05}),
}


def embedding_model(weights):
    m = keras.Sequential([keras.Input((7,)), keras.layers.Embedding(10, 4, mask_zero=True),
                          keras.layers.GlobalAveragePooling1D(), keras.layers.Dense(1, activation="sigmoid")])
    m.set_weights(weights)
    return m


def model(weights):
    m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="tanh"), keras.layers.Dense(2)])
    m.set_weights(weights)
    return m


def main():
    rng = np.random.default_rng(11)
    x = rng.normal(size=(28, 4)).astype("float32")
    y = rng.normal(size=(28, 2)).astype("float32")
    w0 = [rng.normal(0, 0.5, s).astype("float32") for s in [(4, 3), (3,), (3, 2), (2,)]]
    out = {"x": x, "y": y, **{f"w0_{i}": w for i, w in enumerate(w0)}}
    for name, (cls, kwargs) in CASES.items():
        m = model(w0)
        opt = getattr(keras.optimizers, cls)(**kwargs)
        m.compile(optimizer=opt, loss="mse")
        m.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
        for i, w in enumerate(m.get_weights()):
            out[f"{name}_w{i}"] = w
        out[f"{name}_iterations"] = np.array(int(opt.iterations.numpy()))
        out[f"{name}_nvars"] = np.array(len(opt.variables))
        if name == "adamw_accumulate_ema":
            for i, v in enumerate(opt.variables):
                out[f"{name}_var{i}"] = np.asarray(v.numpy())
            m.save(os.path.join(HERE, "keras3_accumulating_adam.keras"))
    tokens = rng.integers(1, 10, (12, 7))
    tokens[::3, 4:] = 0  # padding, masked
    labels = rng.integers(0, 2, (12, 1)).astype("float32")
    e0 = [rng.normal(0, 0.5, s).astype("float32") for s in [(10, 4), (4, 1), (1,)]]
    out.update(tokens=tokens, labels=labels, **{f"e0_{i}": w for i, w in enumerate(e0)})
    for name, (cls, kwargs) in EMBEDDING_CASES.items():
        m = embedding_model(e0)
        m.compile(optimizer=getattr(keras.optimizers, cls)(**kwargs), loss="binary_crossentropy")
        m.fit(tokens, labels, batch_size=4, epochs=2, shuffle=False, verbose=0)
        for i, w in enumerate(m.get_weights()):
            out[f"{name}_w{i}"] = w
    out.update(cases=json.dumps(CASES), embedding_cases=json.dumps(EMBEDDING_CASES))
    np.savez(os.path.join(HERE, "keras3_optimizer_options.npz"), **out)
    print("wrote", len(CASES), "cases")


if __name__ == "__main__":
    main()
