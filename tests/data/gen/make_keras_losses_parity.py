"""Writes tests/data/keras_losses_parity.json: loss reductions, ignore_class, crossentropy `axis` and a custom
Loss subclass trained with fit, all from real Keras 3.

    KERAS_BACKEND=tensorflow /work/refenv/bin/python tests/data/gen/make_keras_losses_parity.py
"""
import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import ops  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))
from custom_objects import weighted_abs_error  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "keras_losses_parity.json")
rng = np.random.default_rng(99)
N, C, T = 6, 4, 3


def f32(x):
    return np.asarray(x, np.float32)


inputs = {
    "reg": (f32(rng.normal(size=(N, 3))), f32(rng.normal(size=(N, 3)))),
    "bin": (f32(rng.integers(0, 2, (N, 3))), f32(rng.uniform(0.05, 0.95, (N, 3)))),
    "cat": (f32(np.eye(C)[rng.integers(0, C, N)]), f32(rng.dirichlet(np.ones(C), N))),
    "sparse": (f32(rng.integers(0, C, N)), f32(rng.dirichlet(np.ones(C), N))),
    "seq_cat": (f32(np.eye(C)[rng.integers(0, C, (N, T))]), f32(rng.dirichlet(np.ones(C), (N, T)))),
    "seq_sparse": (f32(rng.integers(0, C, (N, T))), f32(rng.dirichlet(np.ones(C), (N, T)))),
    # class axis 1: (N, C, T)
    "cat_axis1": (f32(np.eye(C)[rng.integers(0, C, (N, T))].transpose(0, 2, 1)),
                  f32(rng.dirichlet(np.ones(C), (N, T)).transpose(0, 2, 1))),
    "logits_axis1": (f32(np.eye(C)[rng.integers(0, C, (N, T))].transpose(0, 2, 1)), f32(rng.normal(size=(N, C, T)))),
    "bin_3d": (f32(rng.integers(0, 2, (N, 3, 2))), f32(rng.uniform(0.05, 0.95, (N, 3, 2)))),
}
inputs["sparse_ignore"] = (f32(np.array([0, 2, 1, 3, 2, 2])), inputs["sparse"][1])
inputs["seq_sparse_ignore"] = (f32(np.where(rng.uniform(size=(N, T)) < 0.3, 0, rng.integers(1, C, (N, T)))),
                               inputs["seq_sparse"][1])
weights = {"none": None, "n": f32(rng.uniform(0.2, 2, N)), "n1": None, "nt": f32(rng.uniform(0.2, 2, (N, T))),
           "zeros": f32(np.zeros(N))}
weights["n1"] = weights["n"][:, None]

REDUCTIONS = ["sum_over_batch_size", "sum", "none", None, "mean", "mean_with_sample_weight"]
LOSS_CASES = [  # (class, kwargs, inputs, weight kinds)
    ("MeanSquaredError", {}, "reg", ["none", "n", "n1", "zeros"]),
    ("Huber", {"delta": 0.5}, "reg", ["none", "n", "n1"]),
    ("BinaryCrossentropy", {}, "bin", ["none", "n", "n1"]),
    ("CategoricalCrossentropy", {}, "cat", ["none", "n", "n1"]),
    ("CategoricalCrossentropy", {}, "seq_cat", ["none", "nt"]),
    ("SparseCategoricalCrossentropy", {}, "sparse", ["none", "n", "n1"]),
    ("SparseCategoricalCrossentropy", {}, "seq_sparse", ["none", "nt"]),
    ("SparseCategoricalCrossentropy", {"ignore_class": 2}, "sparse_ignore", ["none", "n", "n1"]),
    ("SparseCategoricalCrossentropy", {"ignore_class": 0}, "seq_sparse_ignore", ["none", "nt"]),
]
reductions = []
for name, kwargs, kind, wkinds in LOSS_CASES:
    y, p = inputs[kind]
    for reduction in REDUCTIONS:
        for wkind in wkinds:
            loss = getattr(keras.losses, name)(reduction=reduction, **kwargs)
            value = loss(y, p, sample_weight=weights[wkind])
            reductions.append({"loss": name, "kwargs": kwargs, "inputs": kind, "reduction": reduction,
                               "weights": wkind, "result": np.asarray(value).tolist()})

AXIS_CASES = [  # (function, kwargs, inputs)
    ("categorical_crossentropy", {"axis": 1}, "cat_axis1"),
    ("categorical_crossentropy", {"axis": 1, "label_smoothing": 0.1}, "cat_axis1"),
    ("categorical_crossentropy", {"axis": 1, "from_logits": True}, "logits_axis1"),
    ("categorical_crossentropy", {"axis": -2}, "cat_axis1"),
    ("categorical_focal_crossentropy", {"axis": 1}, "cat_axis1"),
    ("categorical_focal_crossentropy", {"axis": 1, "from_logits": True, "gamma": 1.0}, "logits_axis1"),
    ("binary_crossentropy", {"axis": 1}, "bin_3d"),
    ("binary_crossentropy", {"axis": 0}, "bin_3d"),
    ("binary_focal_crossentropy", {"axis": 1, "apply_class_balancing": True}, "bin_3d"),
]
axis = []
for name, kwargs, kind in AXIS_CASES:
    y, p = inputs[kind]
    axis.append({"fn": name, "kwargs": kwargs, "inputs": kind,
                 "result": np.asarray(getattr(keras.losses, name)(y, p, **kwargs)).tolist()})
for cls, kwargs, kind in [("CategoricalCrossentropy", {"axis": 1}, "cat_axis1"),
                          ("CategoricalFocalCrossentropy", {"axis": 1}, "cat_axis1"),
                          ("BinaryCrossentropy", {"axis": 1}, "bin_3d")]:
    y, p = inputs[kind]
    axis.append({"cls": cls, "kwargs": kwargs, "inputs": kind,
                 "result": float(getattr(keras.losses, cls)(**kwargs)(y, p))})


# -- a user-written Loss subclass trained with fit -------------------------------------------------------
class ScaledError(keras.losses.Loss):
    def __init__(self, scale=2.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale

    def call(self, y_true, y_pred):
        err = y_pred - y_true
        return ops.mean(self.scale * ops.square(err) + ops.abs(err), axis=-1)


x = f32(rng.normal(size=(32, 3)))
y = f32(x @ np.array([[1.0], [-2.0], [0.5]], np.float32) + 0.3)
sw = f32(rng.uniform(0.5, 1.5, 32))
init = [f32(rng.normal(0, 0.5, (3, 4))), f32(np.zeros(4)), f32(rng.normal(0, 0.5, (4, 1))), f32(np.zeros(1))]
train = {"x": x.tolist(), "y": y.tolist(), "sample_weight": sw.tolist(), "init": [w.tolist() for w in init]}
for reduction in ("sum_over_batch_size", "mean_with_sample_weight", "sum"):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="tanh"), keras.layers.Dense(1)])
    model.set_weights(init)
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss=ScaledError(scale=1.5, reduction=reduction))
    history = model.fit(x, y, sample_weight=sw, epochs=3, batch_size=8, shuffle=False, verbose=0)
    train[reduction] = {"history": history.history["loss"], "weights": [w.tolist() for w in model.get_weights()],
                        "direct": float(ScaledError(1.5, reduction=reduction)(y, model.predict(x, verbose=0), sw))}



WeightedAbsError = weighted_abs_error(keras)


model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="tanh"), keras.layers.Dense(1)])
model.set_weights(init)
model.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse", metrics=["mae", WeightedAbsError()],
              weighted_metrics=["mae", WeightedAbsError(name="wae")])
history = model.fit(x, y, sample_weight=sw, epochs=2, batch_size=8, shuffle=False, verbose=0)
train["metrics_in_fit"] = history.history

# -- a masked sequence model: padded timesteps leave the loss and the metrics ---------------------------
xs = rng.integers(1, 10, (6, 5))
xs[0, 3:], xs[1, 1:], xs[4, 4:] = 0, 0, 0
ys = f32(rng.normal(size=(6, 5, 3)))
sws = f32(rng.uniform(0.5, 1.5, (6, 5)))
model = keras.Sequential([keras.Input((5,)), keras.layers.Embedding(10, 4, mask_zero=True),
                          keras.layers.LSTM(3, return_sequences=True)])
masked = {"x": xs.tolist(), "y": ys.tolist(), "sample_weight": sws.tolist(),
          "init": [w.tolist() for w in model.get_weights()]}
model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse", metrics=["mae"], weighted_metrics=["mae"])
masked["evaluate"] = model.evaluate(xs, ys, verbose=0, return_dict=True)
masked["evaluate_weighted"] = model.evaluate(xs, ys, sample_weight=sws, verbose=0, return_dict=True)
masked["fit"] = model.fit(xs, ys, sample_weight=sws, epochs=2, batch_size=3, shuffle=False, verbose=0).history
masked["weights"] = [w.tolist() for w in model.get_weights()]

CONFIG_CASES = [
    ("MeanSquaredError", {"reduction": "sum"}), ("MeanAbsoluteError", {}), ("MeanAbsolutePercentageError", {}),
    ("MeanSquaredLogarithmicError", {}), ("Huber", {"delta": 0.3, "name": "h"}), ("LogCosh", {}),
    ("KLDivergence", {}), ("Poisson", {}), ("CosineSimilarity", {"axis": 0}), ("Hinge", {}), ("SquaredHinge", {}),
    ("CategoricalHinge", {}), ("CategoricalCrossentropy", {"from_logits": True, "label_smoothing": 0.1, "axis": 1}),
    ("SparseCategoricalCrossentropy", {"from_logits": True, "ignore_class": 3,
                                       "reduction": "mean_with_sample_weight"}),
    ("BinaryCrossentropy", {"label_smoothing": 0.2, "reduction": None}),
    ("BinaryFocalCrossentropy", {"apply_class_balancing": True, "alpha": 0.4, "gamma": 1.0}),
    ("CategoricalFocalCrossentropy", {"alpha": 0.5, "gamma": 3.0, "from_logits": True}),
]
configs = [{"cls": name, "kwargs": kwargs, "config": getattr(keras.losses, name)(**kwargs).get_config()}
           for name, kwargs in CONFIG_CASES]

with open(OUT, "w") as f:
    json.dump({"keras_version": keras.__version__,
               "inputs": {k: [a.tolist(), b.tolist()] for k, (a, b) in inputs.items()},
               "weights": {k: (None if v is None else v.tolist()) for k, v in weights.items()},
               "reductions": reductions, "axis": axis, "custom_loss_training": train, "configs": configs,
               "masked_sequence": masked}, f)
print("wrote", OUT, len(reductions), "reduction cases", len(axis), "axis cases")
