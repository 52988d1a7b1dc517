"""Reference values for kcore's bfloat16 dtype from real Keras 3 (TensorFlow backend).

Run with the reference venv: KERAS_BACKEND=tensorflow /work/refenv/bin/python tests/data/gen/gen_bfloat16_reference.py
Writes tests/data/keras3_bfloat16.npz: float32 -> bfloat16 casts of edge values (ties, NaN, infinities,
denormals, the largest finite values), float64 -> bfloat16 casts, bfloat16 -> int casts, and the result
dtypes of binary ops mixing bfloat16 with the other dtypes.
"""
import json
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import keras  # noqa: E402
import numpy as np  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "keras3_bfloat16.npz")


def bits(a):
    return np.asarray(a).view(np.uint16)


def main():
    f = np.float32
    ties = np.array([1 + 2 ** -8, 1 + 3 * 2 ** -8, -(1 + 2 ** -8), 2 + 2 ** -7, 1 + 2 ** -8 + 2 ** -20], f)
    special = np.array([np.nan, -np.nan, np.inf, -np.inf, 0.0, -0.0, 3.3895314e38, 3.4028235e38, -3.4e38], f)
    denorm = np.array([1e-39, -1e-39, 1.4e-45, 5.9e-39, 1.1754942e-38, 1.1754944e-38], f)
    rng = np.random.default_rng(0)
    random32 = (rng.standard_normal(64) * np.exp(rng.uniform(-20, 20, 64))).astype(f)
    x32 = np.concatenate([ties, special, denorm, random32])
    x64 = np.concatenate([rng.standard_normal(32), np.array([1 + 2 ** -8 + 2 ** -40, 1 + 2 ** -8])])
    bf32 = keras.ops.cast(x32, "bfloat16")
    bf64 = keras.ops.cast(x64, "bfloat16")
    to_int = keras.ops.cast(keras.ops.cast(np.array([1.5, -2.5, 300.7, -7.9, 0.2], f), "bfloat16"), "int32")
    promotion = {}
    for other in ("float32", "float64", "int32", "int64", "bool", "bfloat16"):
        a = keras.ops.ones((2,), dtype="bfloat16")
        b = keras.ops.ones((2,), dtype=other)
        promotion[other] = [keras.backend.standardize_dtype(keras.ops.add(a, b).dtype),
                            keras.backend.standardize_dtype(keras.ops.multiply(b, a).dtype)]
    promotion["python_float"] = [keras.backend.standardize_dtype(keras.ops.add(keras.ops.ones((2,), "bfloat16"),
                                                                                2.5).dtype)] * 2
    promotion["python_int"] = [keras.backend.standardize_dtype(keras.ops.add(keras.ops.ones((2,), "bfloat16"),
                                                                              3).dtype)] * 2
    np.savez(OUT, x32=x32, bits32=bits(keras.ops.convert_to_numpy(bf32)), x64=x64,
             bits64=bits(keras.ops.convert_to_numpy(bf64)), to_int=keras.ops.convert_to_numpy(to_int),
             promotion=np.array(json.dumps(promotion)),
             numpy_type=np.array(type(keras.ops.convert_to_numpy(bf32).dtype).__module__ + ":" +
                                 str(keras.ops.convert_to_numpy(bf32).dtype)))
    print(promotion)


if __name__ == "__main__":
    main()
