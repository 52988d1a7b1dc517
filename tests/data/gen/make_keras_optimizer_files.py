"""Writes tests/data/keras3_optimizer_files/<name>.keras and .npz with real Keras 3 (TensorFlow): a small model
trained 5 batches with each optimizer setup and saved with its optimizer state; the npz holds the data, the
optimizer's variables at save time, and the weights after one more batch in Keras.

Not part of the test run. Run with the reference environment:
    KERAS_BACKEND=tensorflow /work/refenv/bin/python tests/data/gen/make_keras_optimizer_files.py
"""
import json
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "keras3_optimizer_files")
SETUPS = {
    "sgd_nesterov": ("SGD", {"learning_rate": 0.05, "momentum": 0.9, "nesterov": True}),
    "adam_amsgrad_ema": ("Adam", {"learning_rate": 0.01, "amsgrad": True, "use_ema": True}),
    "adamw_schedule": ("AdamW", {"learning_rate": {"ExponentialDecay": [0.01, 3, 0.5]}, "weight_decay": 0.05}),
    "rmsprop_centered": ("RMSprop", {"learning_rate": 0.01, "centered": True, "momentum": 0.3}),
    "adagrad_accumulate": ("Adagrad", {"learning_rate": 0.05, "gradient_accumulation_steps": 2}),
    "adadelta": ("Adadelta", {"learning_rate": 1.0}),
    "adamax_cosine": ("Adamax", {"learning_rate": {"CosineDecay": [0.01, 20]}}),
    "nadam": ("Nadam", {"learning_rate": 0.01}),
    "lion_ema_accumulate": ("Lion", {"learning_rate": 0.01, "use_ema": True, "gradient_accumulation_steps": 2}),
}


def optimizer(cls, kwargs):
    kwargs = dict(kwargs)
    rate = kwargs.get("learning_rate")
    if isinstance(rate, dict):
        (schedule, args), = rate.items()
        kwargs["learning_rate"] = getattr(keras.optimizers.schedules, schedule)(*args)
    return getattr(keras.optimizers, cls)(**kwargs)


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(21)
    x = rng.normal(size=(24, 5)).astype("float32")
    y = rng.integers(0, 3, 24)
    for name, (cls, kwargs) in SETUPS.items():
        keras.utils.set_random_seed(4)
        model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(4, activation="tanh"),
                                  keras.layers.BatchNormalization(), keras.layers.Dense(3, activation="softmax")])
        model.compile(optimizer=optimizer(cls, kwargs), loss="sparse_categorical_crossentropy")
        model.fit(x[:20], y[:20], batch_size=4, epochs=1, shuffle=False, verbose=0)
        model.save(os.path.join(OUT, f"{name}.keras"))
        state = [np.asarray(v.numpy()) for v in model.optimizer.variables]
        model.train_on_batch(x[20:], y[20:])
        np.savez(os.path.join(OUT, f"{name}.npz"), x=x, y=y, n_state=len(state),
                 **{f"state{i}": v for i, v in enumerate(state)},
                 **{f"after{i}": w for i, w in enumerate(model.get_weights())})
    with open(os.path.join(OUT, "setups.json"), "w") as f:
        json.dump(SETUPS, f)
    print("wrote", len(SETUPS), "files")


if __name__ == "__main__":
    main()
