"""Writes tests/data/keras_metrics_parity.json: metric values, metric configs and `get` results from real Keras 3.

Run with the reference environment (Keras 3 + TensorFlow):
    KERAS_BACKEND=tensorflow /work/refenv/bin/python tests/data/gen/make_keras_metrics_parity.py
"""
import json
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import keras  # noqa: E402
import numpy as np  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "keras_metrics_parity.json")
rng = np.random.default_rng(1234)


def arr(x):
    return np.asarray(x, dtype=np.float32).tolist()


# inputs shared by the value cases
N, C = 12, 4
bin_true = rng.integers(0, 2, (N, 1)).astype("float32")
bin_pred = np.clip(0.3 * bin_true + rng.uniform(0, 0.7, (N, 1)), 0, 1).astype("float32")
ml_true = rng.integers(0, 2, (N, 3)).astype("float32")
ml_pred = np.clip(0.3 * ml_true + rng.uniform(0, 0.7, (N, 3)), 0, 1).astype("float32")
labels = rng.integers(0, C, (N,))
cat_true = np.eye(C, dtype="float32")[labels]
cat_pred = (rng.dirichlet(np.ones(C), N) * 0.7 + 0.3 * cat_true).astype("float32")
reg_true = rng.normal(size=(N, 3)).astype("float32")
reg_pred = (reg_true + 0.5 * rng.normal(size=(N, 3))).astype("float32")
pos_true = rng.uniform(0.1, 3, (N, 3)).astype("float32")
pos_pred = rng.uniform(0.1, 3, (N, 3)).astype("float32")
w_n = rng.uniform(0, 2, (N,)).astype("float32")
inputs = {
    "bin": (bin_true, bin_pred), "ml": (ml_true, ml_pred), "cat": (cat_true, cat_pred),
    "sparse": (labels.astype("float32"), cat_pred), "sparse_col": (labels[:, None].astype("float32"), cat_pred),
    "reg": (reg_true, reg_pred), "pos": (pos_true, pos_pred),
    "bin_flat": (bin_true[:, 0], bin_pred[:, 0]),
}
weights = {"none": None, "n": w_n, "n1": w_n[:, None], "elem3": rng.uniform(0, 2, (N, 3)).astype("float32")}

# (metric class, kwargs, input kind, weight kinds)
CASES = [
    ("MeanSquaredError", {}, "reg", ["none", "n", "n1", "elem3"]),
    ("MeanAbsoluteError", {}, "reg", ["none", "n", "n1", "elem3"]),
    ("RootMeanSquaredError", {}, "reg", ["none", "n", "n1", "elem3"]),
    ("MeanAbsolutePercentageError", {}, "pos", ["none", "n", "n1"]),
    ("MeanSquaredLogarithmicError", {}, "pos", ["none", "n", "n1"]),
    ("LogCoshError", {}, "reg", ["none", "n", "n1"]),
    ("CosineSimilarity", {}, "reg", ["none", "n", "n1"]),
    ("KLDivergence", {}, "cat", ["none", "n", "n1"]),
    ("Poisson", {}, "pos", ["none", "n", "n1"]),
    ("Hinge", {}, "ml", ["none", "n", "n1"]),
    ("SquaredHinge", {}, "ml", ["none", "n", "n1"]),
    ("CategoricalHinge", {}, "cat", ["none", "n", "n1"]),
    ("BinaryCrossentropy", {}, "ml", ["none", "n", "n1"]),
    ("BinaryCrossentropy", {"label_smoothing": 0.1}, "bin", ["none", "n"]),
    ("CategoricalCrossentropy", {}, "cat", ["none", "n", "n1"]),
    ("CategoricalCrossentropy", {"label_smoothing": 0.2}, "cat", ["none", "n"]),
    ("SparseCategoricalCrossentropy", {}, "sparse", ["none", "n", "n1"]),
    ("SparseCategoricalCrossentropy", {"ignore_class": 1}, "sparse", ["none", "n", "n1"]),
    ("BinaryAccuracy", {}, "bin", ["none", "n", "n1"]),
    ("BinaryAccuracy", {}, "bin_flat", ["none", "n"]),
    ("BinaryAccuracy", {"threshold": 0.7}, "ml", ["none", "n", "n1", "elem3"]),
    ("CategoricalAccuracy", {}, "cat", ["none", "n", "n1"]),
    ("SparseCategoricalAccuracy", {}, "sparse", ["none", "n", "n1"]),
    ("SparseCategoricalAccuracy", {}, "sparse_col", ["none", "n"]),
    ("TopKCategoricalAccuracy", {"k": 2}, "cat", ["none", "n", "n1"]),
    ("SparseTopKCategoricalAccuracy", {"k": 2}, "sparse", ["none", "n", "n1"]),
    ("Precision", {}, "ml", ["none", "n", "n1", "elem3"]),
    ("Recall", {"thresholds": [0.3, 0.6]}, "ml", ["none", "n", "elem3"]),
    ("Precision", {"top_k": 2}, "cat", ["none", "n"]),
    ("Recall", {"class_id": 2}, "cat", ["none", "n"]),
    ("TruePositives", {}, "ml", ["none", "n", "elem3"]),
    ("FalsePositives", {"thresholds": 0.4}, "ml", ["none", "n"]),
    ("TrueNegatives", {"thresholds": [0.2, 0.8]}, "ml", ["none", "n"]),
    ("FalseNegatives", {}, "ml", ["none", "n", "n1"]),
    ("AUC", {}, "bin", ["none", "n", "n1"]),
    ("AUC", {"curve": "PR"}, "ml", ["none", "n"]),
    ("AUC", {"label_weights": [0.2, 1.0, 3.0]}, "ml", ["none", "n"]),
    ("AUC", {"multi_label": True, "label_weights": [0.2, 1.0, 3.0]}, "ml", ["none", "n"]),
    ("AUC", {"thresholds": [0.25, 0.5, 0.75]}, "ml", ["none", "n"]),
    ("AUC", {"num_thresholds": 7, "summation_method": "minoring"}, "ml", ["none"]),
    ("F1Score", {"average": "macro", "threshold": 0.5}, "ml", ["none", "n", "n1"]),
    ("FBetaScore", {"average": "weighted", "beta": 2.0}, "cat", ["none", "n"]),
]


def run_metric(name, kwargs, kind, wkind):
    y, p = inputs[kind]
    w = weights[wkind]
    m = getattr(keras.metrics, name)(**kwargs)
    half = N // 2
    for sl in (slice(0, half), slice(half, N)):  # two batches: the result accumulates over both
        m.update_state(y[sl], p[sl], None if w is None else w[sl])
    return np.asarray(m.result()).tolist()


values = []
for name, kwargs, kind, wkinds in CASES:
    for wkind in wkinds:
        try:
            result = run_metric(name, kwargs, kind, wkind)
        except Exception as e:  # noqa: BLE001 - Keras rejects this weight shape; kcore must raise too
            result = f"error:{type(e).__name__}"
        values.append({"metric": name, "kwargs": kwargs, "inputs": kind, "weights": wkind, "result": result})

# configs of instances built with non-default arguments
CONFIG_CASES = [
    ("BinaryAccuracy", {"threshold": 0.3, "name": "ba"}), ("TopKCategoricalAccuracy", {"k": 3}),
    ("SparseTopKCategoricalAccuracy", {"k": 2}), ("Accuracy", {}), ("CategoricalAccuracy", {}),
    ("SparseCategoricalAccuracy", {}), ("MeanSquaredError", {}), ("MeanAbsoluteError", {}),
    ("RootMeanSquaredError", {}), ("MeanAbsolutePercentageError", {}), ("MeanSquaredLogarithmicError", {}),
    ("LogCoshError", {}), ("CosineSimilarity", {}), ("KLDivergence", {}), ("Poisson", {}), ("Hinge", {}),
    ("SquaredHinge", {}), ("CategoricalHinge", {}),
    ("BinaryCrossentropy", {"from_logits": True, "label_smoothing": 0.1}),
    ("CategoricalCrossentropy", {"from_logits": True, "label_smoothing": 0.2}),
    ("SparseCategoricalCrossentropy", {"from_logits": True, "ignore_class": 0}),
    ("Precision", {"thresholds": [0.2, 0.7], "top_k": 2, "class_id": 1}), ("Recall", {"thresholds": 0.4}),
    ("TruePositives", {"thresholds": [0.3, 0.6]}), ("FalsePositives", {"thresholds": 0.2}),
    ("TrueNegatives", {}), ("FalseNegatives", {"thresholds": [0.1]}),
    ("AUC", {"num_thresholds": 50, "curve": "PR", "summation_method": "majoring", "multi_label": True,
             "num_labels": 3, "label_weights": [1.0, 2.0, 3.0], "from_logits": True}),
    ("AUC", {"thresholds": [0.2, 0.5, 0.8]}),
    ("F1Score", {"average": "micro", "threshold": 0.4}), ("FBetaScore", {"average": "macro", "beta": 0.5}),
    ("Mean", {}), ("Sum", {}),
]
configs = []
for name, kwargs in CONFIG_CASES:
    m = getattr(keras.metrics, name)(**kwargs)
    cfg = json.loads(json.dumps(m.get_config(), default=lambda o: np.asarray(o).tolist()))
    configs.append({"metric": name, "kwargs": kwargs, "config": cfg})


def describe(obj):
    if obj is None:
        return "None"
    if isinstance(obj, keras.metrics.Metric):
        return f"metric:{type(obj).__name__}:{obj.name}"
    if isinstance(obj, keras.losses.Loss):
        return f"loss:{type(obj).__name__}:{obj.name}"
    if isinstance(obj, (keras.initializers.Initializer, keras.regularizers.Regularizer,
                        keras.constraints.Constraint)):
        return f"object:{type(obj).__name__}:{json.dumps(obj.get_config(), sort_keys=True)}"
    if callable(obj):
        return f"function:{obj.__name__}"
    return f"other:{obj!r}"


GET_CASES = {
    "metrics": [None, "accuracy", "acc", "mse", "MSE", "mae", "mape", "msle", "bce", "kld", "logcosh",
                "mean_squared_error", "MeanSquaredError", "binary_accuracy", "categorical_accuracy",
                "sparse_categorical_accuracy", "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy",
                "auc", "AUC", "precision", "Precision", "recall", "f1_score", "fbeta_score", "FBetaScore",
                "true_positives", "TruePositives", "root_mean_squared_error", "cosine_similarity",
                "log_cosh_error", "LogCoshError", "binary_crossentropy", "categorical_crossentropy",
                "sparse_categorical_crossentropy", "hinge", "squared_hinge", "categorical_hinge", "poisson",
                "kl_divergence", "KLDivergence", "crossentropy", "rmse", "nonexistent_metric"],
    "losses": [None, "mse", "MSE", "mae", "MAE", "mape", "MAPE", "msle", "MSLE", "kld", "KLD", "bce", "BCE",
               "logcosh", "log_cosh", "huber", "huber_loss", "Huber", "mean_squared_error", "MeanSquaredError",
               "binary_crossentropy", "BinaryCrossentropy", "categorical_crossentropy", "CategoricalCrossentropy",
               "sparse_categorical_crossentropy", "SparseCategoricalCrossentropy", "kl_divergence",
               "KLDivergence", "poisson", "Poisson", "cosine_similarity", "CosineSimilarity", "hinge",
               "squared_hinge", "categorical_hinge", "binary_focal_crossentropy", "categorical_focal_crossentropy",
               "BinaryFocalCrossentropy", "CategoricalFocalCrossentropy", "LogCosh", "nonexistent_loss"],
    "initializers": [None, "zeros", "zero", "Zeros", "ones", "one", "Ones", "constant", "Constant", "normal",
                     "random_normal", "RandomNormal", "uniform", "random_uniform", "RandomUniform",
                     "truncated_normal", "TruncatedNormal", "variance_scaling", "VarianceScaling",
                     "glorot_uniform", "GlorotUniform", "glorot_normal", "GlorotNormal", "he_normal", "HeNormal",
                     "he_uniform", "HeUniform", "lecun_normal", "LecunNormal", "lecun_uniform", "LecunUniform",
                     "orthogonal", "Orthogonal", "identity", "Identity", "xavier_uniform", "nonexistent_init"],
    "regularizers": [None, "l1", "l2", "l1_l2", "L1", "L2", "L1L2", "nonexistent_reg"],
    "constraints": [None, "max_norm", "non_neg", "unit_norm", "min_max_norm", "MaxNorm", "NonNeg", "UnitNorm",
                    "MinMaxNorm", "maxnorm", "nonneg", "unitnorm", "nonexistent_constraint"],
    "activations": [None, "relu", "linear", "softmax", "nonexistent_activation"],
}
gets = []
for module, idents in GET_CASES.items():
    for ident in idents:
        try:
            got = describe(getattr(keras, module).get(ident))
        except Exception as e:  # noqa: BLE001 - the error itself is the reference
            got = f"error:{type(e).__name__}:{e}"
        gets.append({"module": module, "identifier": ident, "result": got})

INIT_CASES = [  # initializers built with non-default arguments (Keras normalises some of them)
    ("VarianceScaling", {"scale": 2.0, "mode": "fan_out", "distribution": "normal", "seed": 3,
                         "input_axes": [0, 1], "output_axes": [2]}),
    ("VarianceScaling", {"distribution": "Uniform"}), ("RandomNormal", {"mean": 1.0, "stddev": 0.2, "seed": 1}),
    ("RandomUniform", {"minval": -1.0, "maxval": 2.0}), ("TruncatedNormal", {"stddev": 0.3}),
    ("GlorotUniform", {"seed": 5}), ("HeNormal", {"input_axes": [0], "output_axes": [1]}),
    ("Orthogonal", {"gain": 2.0, "seed": 2}), ("Constant", {"value": 3.0}),
]
from keras.src.losses.losses import LossFunctionWrapper  # noqa: E402

wrapper_configs = {
    "loss": LossFunctionWrapper(keras.losses.mean_squared_error, name="x").get_config(),
    "metric": keras.metrics.MeanMetricWrapper(keras.metrics.binary_accuracy, name="y", threshold=0.3).get_config(),
}
init_configs = [{"cls": name, "kwargs": kwargs,
                 "config": getattr(keras.initializers, name)(**kwargs).get_config()} for name, kwargs in INIT_CASES]

with open(OUT, "w") as f:
    json.dump({"keras_version": keras.__version__, "inputs": {k: [arr(a), arr(b)] for k, (a, b) in inputs.items()},
               "weights": {k: (None if v is None else arr(v)) for k, v in weights.items()},
               "values": values, "configs": configs, "get": gets, "initializer_configs": init_configs,
               "wrapper_configs": wrapper_configs}, f, indent=0)
print("wrote", OUT, len(values), "values", len(configs), "configs", len(gets), "get cases")
