"""Reference results of Keras 3 ops and losses on bfloat16 inputs (values and result dtypes).

Run with the reference venv:
    KERAS_BACKEND=tensorflow /work/refenv/bin/python tests/data/gen/gen_bfloat16_ops_reference.py
Writes tests/data/keras3_bfloat16_ops.npz: the bf16 inputs (as float32), then per case the result as
float32 and its dtype name.
"""
import json
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import keras  # noqa: E402
import numpy as np  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "keras3_bfloat16_ops.npz")


def main():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 6)).astype(np.float32)
    w = rng.standard_normal((6, 3)).astype(np.float32)
    p = rng.uniform(0.05, 0.95, (4, 6)).astype(np.float32)
    y = rng.uniform(0.0, 1.0, (4, 6)).astype(np.float32)
    xb, wb, pb = (keras.ops.cast(a, "bfloat16") for a in (x, w, p))
    ops, losses = keras.ops, keras.losses
    cases = {
        "exp": ops.exp(xb), "tanh": ops.tanh(xb), "relu": ops.relu(xb), "sigmoid": ops.sigmoid(xb),
        "gelu": keras.activations.gelu(xb), "softmax": ops.softmax(xb), "log_softmax": ops.log_softmax(xb),
        "sum": ops.sum(xb, axis=1), "mean": ops.mean(xb), "max": ops.max(xb, axis=0), "matmul": ops.matmul(xb, wb),
        "add_scalar": ops.add(xb, 0.1), "multiply": ops.multiply(xb, xb), "divide": ops.divide(xb, pb),
        "sqrt": ops.sqrt(pb), "mse_fn": losses.mean_squared_error(y, pb),
        "bce_fn": losses.binary_crossentropy(y, pb), "mse_loss": losses.MeanSquaredError()(y, pb),
        "cce_loss": losses.CategoricalCrossentropy()(y, pb),
    }
    arrays = {"x": x, "w": w, "p": p, "y": y}
    dtypes = {}
    for name, value in cases.items():
        arrays[name] = np.asarray(keras.ops.convert_to_numpy(keras.ops.cast(value, "float32")))
        dtypes[name] = keras.backend.standardize_dtype(value.dtype)
    np.savez(OUT, dtypes=np.array(json.dumps(dtypes)), **arrays)
    print(dtypes)


if __name__ == "__main__":
    main()
