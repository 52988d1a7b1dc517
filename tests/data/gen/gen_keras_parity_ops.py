"""Generates tests/data/keras_parity_ops.npz from real Keras 3 (TensorFlow backend).

Run with the reference venv:  KERAS_BACKEND=tensorflow /work/refenv/bin/python tests/data/gen/gen_keras_parity_ops.py
Every array the kcore tests compare against is produced here; the tests never import keras.
"""
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# TF's oneDNN float32 softmax kernel returns [nan, 0, 0] for a row holding +inf, unlike its own float64 and
# Eigen kernels (and NumPy), which return a row of nan: the reference values use the latter.
os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"
import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import activations, layers, ops  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "keras_parity_ops.npz")
rng = np.random.default_rng(1234)
ref = {}


def np_(t):
    return np.asarray(ops.convert_to_numpy(t))


# 1. relu with Keras's full arguments, NaN propagation; sign on NaN
x_relu = np.array([[-3.0, -1.0, -0.5, 0.0, 0.25, 0.5, 1.0, 2.0, 5.0, 7.0, np.nan, -np.inf, np.inf]], np.float32)
ref["relu_x"] = x_relu
RELU_CASES = [(0.0, None, 0.0), (0.1, None, 0.0), (0.0, 6.0, 0.0), (0.0, 2.5, 0.0), (0.0, None, 0.5),
              (0.2, 4.0, 0.0), (0.2, None, 1.0), (0.0, 3.0, 1.0), (0.3, 6.0, 0.5), (0.0, 6.0, -1.0),
              (0.5, None, -1.0)]
ref["relu_cases"] = np.array([[s, -1.0 if m is None else m, t] for s, m, t in RELU_CASES], np.float64)
for i, (s, m, t) in enumerate(RELU_CASES):
    ref[f"relu_{i}"] = np_(activations.relu(x_relu, negative_slope=s, max_value=m, threshold=t))
    if t >= 0:  # the ReLU layer rejects negative thresholds
        lay = layers.ReLU(max_value=m, negative_slope=s, threshold=t)
        ref[f"relu_layer_{i}"] = np_(lay(x_relu))
for kwargs in ({"threshold": -1.0}, {"max_value": -1.0}, {"negative_slope": -0.1}):
    try:
        layers.ReLU(**kwargs)
        raise SystemExit(f"Keras accepted ReLU({kwargs})")
    except ValueError:
        pass
ref["ops_relu"] = np_(ops.relu(x_relu))
ref["ops_sign"] = np_(ops.sign(x_relu))
ref["ops_relu6"] = np_(ops.relu6(x_relu))
ref["ops_leaky_relu"] = np_(ops.leaky_relu(x_relu))

# 2. softmax / log_softmax over tuples of axes and with infinities
x_sm = rng.standard_normal((2, 3, 4, 5)).astype(np.float32)
ref["sm_x"] = x_sm
for name, axis in [("12", (1, 2)), ("23", (2, 3)), ("13", (1, 3)), ("0", 0), ("1t", (1,)), ("all", (0, 1, 2, 3))]:
    ref[f"softmax_{name}"] = np_(ops.softmax(x_sm, axis=axis))
    ref[f"log_softmax_{name}"] = np_(ops.log_softmax(x_sm, axis=axis))
ref["act_softmax_12"] = np_(activations.softmax(x_sm, axis=(1, 2)))
x_inf = np.array([[1.0, 2.0, -np.inf, 0.5],
                  [np.inf, 1.0, 2.0, 0.0],
                  [-np.inf, -np.inf, -np.inf, -np.inf],
                  [np.inf, np.inf, 0.0, 1.0],
                  [-np.inf, 3.0, -np.inf, -np.inf],
                  [np.nan, 1.0, 0.0, 0.0]], np.float32)
ref["inf_x"] = x_inf
ref["softmax_inf"] = np_(ops.softmax(x_inf, axis=-1))
ref["log_softmax_inf"] = np_(ops.log_softmax(x_inf, axis=-1))
ref["act_softmax_inf"] = np_(activations.softmax(x_inf))

# 3. Dot
DOT_CASES = [((4, 5), (4, 5), 1, False), ((4, 5), (4, 5), -1, True), ((3, 4, 5), (3, 6, 5), (2, 2), False),
             ((3, 4, 5), (3, 5, 6), (2, 1), False), ((3, 4, 5), (3, 2, 6, 4), (-2, -1), False),
             ((3, 4, 5), (3, 2, 6, 4), (1, 3), True), ((3, 5), (3, 6, 5), (1, 2), False),
             ((3, 4, 5), (3, 5), (-1, -1), False), ((3, 2, 4, 5), (3, 5, 2, 7), (3, 1), False),
             ((3, 4, 5), (3, 4, 6), 1, True), ((3, 4, 5), (3, 4, 5), -1, False),
             ((3, 4, 5), (3, 7, 5), -1, True)]
for i, (sa, sb, axes, norm) in enumerate(DOT_CASES):
    a = rng.standard_normal(sa).astype(np.float32)
    b = rng.standard_normal(sb).astype(np.float32)
    out = np_(layers.Dot(axes=axes, normalize=norm)([a, b]))
    ref[f"dot_{i}_a"], ref[f"dot_{i}_b"], ref[f"dot_{i}_out"] = a, b, out
    ref[f"dot_{i}_axes"], ref[f"dot_{i}_normalize"] = np.array(axes), np.array(norm)
# normalize with an all-zero sample (Keras clamps the inverse norm at 1 / epsilon)
a = rng.standard_normal((2, 4)).astype(np.float32)
a[1] = 0.0
b = rng.standard_normal((2, 4)).astype(np.float32)
ref["dot_zero_a"], ref["dot_zero_b"] = a, b
ref["dot_zero_out"] = np_(layers.Dot(axes=1, normalize=True)([a, b]))

# 6. LayerNormalization with axis forms
x_ln = rng.standard_normal((2, 3, 4, 5)).astype(np.float32)
ref["ln_x"] = x_ln
LN_CASES = [("m1", -1), ("3", 3), ("2", 2), ("12", [1, 2]), ("m1m2", (-1, -2)), ("123", [1, 2, 3]),
            ("13", (1, 3)), ("1", 1), ("m3", -3), ("1m1", (1, -1))]
for name, axis in LN_CASES:
    lay = layers.LayerNormalization(axis=axis)
    lay.build(x_ln.shape)
    ws = [rng.standard_normal(w.shape).astype(np.float32) for w in lay.get_weights()]
    lay.set_weights(ws)
    ref[f"ln_{name}_gamma"], ref[f"ln_{name}_beta"] = ws
    ref[f"ln_{name}_out"] = np_(lay(x_ln))
for bad in (4, -5, (1, 4)):
    try:
        layers.LayerNormalization(axis=bad)(x_ln)
        raise SystemExit(f"Keras accepted LayerNormalization(axis={bad})")
    except (ValueError, IndexError):  # eager Keras fails while indexing the shape; kcore raises ValueError
        pass

# 7. UpSampling2D / UpSampling3D
x_up = rng.standard_normal((2, 3, 4, 2)).astype(np.float32)
ref["up_x"] = x_up
for mode in ("nearest", "bilinear", "bicubic", "lanczos3", "lanczos5", "area"):
    for size in ((2, 2), (3, 2), (1, 4)):
        ref[f"up_{mode}_{size[0]}{size[1]}"] = np_(layers.UpSampling2D(size=size, interpolation=mode)(x_up))
x_up_cf = rng.standard_normal((2, 2, 5, 3)).astype(np.float32)
ref["up_cf_x"] = x_up_cf
ref["up_cf_bilinear"] = np_(layers.UpSampling2D(size=(2, 3), data_format="channels_first",
                                                interpolation="bilinear")(x_up_cf))
x_up_big = rng.standard_normal((1, 9, 7, 1)).astype(np.float32)
ref["up_big_x"] = x_up_big
for mode in ("bilinear", "bicubic", "lanczos3", "lanczos5", "area"):
    ref[f"up_big_{mode}"] = np_(layers.UpSampling2D(size=(3, 2), interpolation=mode)(x_up_big))
x_rs = rng.standard_normal((2, 7, 9, 3)).astype(np.float32)
ref["resize_x"] = x_rs
for mode in ("nearest", "bilinear", "bicubic", "lanczos3", "lanczos5", "area"):
    for hw in ((3, 4), (10, 5), (7, 20)):
        ref[f"resize_{mode}_{hw[0]}x{hw[1]}"] = np_(ops.image.resize(x_rs, hw, interpolation=mode))
ref["resize_cf"] = np_(ops.image.resize(np.transpose(x_rs, (0, 3, 1, 2)), (5, 6), interpolation="bilinear",
                                        data_format="channels_first"))
ref["resize_3d"] = np_(ops.image.resize(x_rs[0], (4, 11), interpolation="bicubic"))
x_up3 = rng.standard_normal((2, 2, 3, 2, 2)).astype(np.float32)
ref["up3_x"] = x_up3
ref["up3_out"] = np_(layers.UpSampling3D(size=(2, 1, 3))(x_up3))
ref["up3_cf_out"] = np_(layers.UpSampling3D(size=2, data_format="channels_first")(x_up3))

# 8. comparisons and logical ops
xa = np.array([[0.2, 0.5, 0.7, np.nan], [1.0, -1.0, 0.5, 2.0]], np.float32)
xb = np.array([0.5, 0.5, 0.1, 1.0], np.float32)
ref["cmp_a"], ref["cmp_b"] = xa, xb
for name in ("greater", "greater_equal", "less", "less_equal", "equal", "not_equal"):
    out = getattr(ops, name)(xa, xb)
    assert np_(out).dtype == np.bool_, out.dtype
    ref[f"cmp_{name}"] = np_(out)
ref["cmp_gt_scalar"] = np_(ops.greater(xa, 0.5))
ba, bb = np_(ops.greater(xa, 0.4)), np_(ops.less(xb, 0.6))
ref["logical_and"] = np_(ops.logical_and(ba, bb))
ref["logical_or"] = np_(ops.logical_or(ba, bb))
ref["logical_xor"] = np_(ops.logical_xor(ba, bb))
ref["logical_not"] = np_(ops.logical_not(ba))
ref["logical_and_float"] = np_(ops.logical_and(xa, xb))  # nonzero floats are true (NaN is true)
ref["where"] = np_(ops.where(ba, xa, -xb))
ref["where_scalar"] = np_(ops.where(ops.greater(xa, 0.4), xa, 0.0))
ref["bool_plus_float"] = np_(ops.add(ba, np.float32(1.5)))
ref["bool_cast_float"] = np_(ops.cast(ba, "float32"))
ref["float_cast_bool"] = np_(ops.cast(np.array([0.0, -0.0, 2.0, np.nan], np.float32), "bool"))
ref["bool_sum"] = np_(ops.sum(ba))

np.savez_compressed(OUT, **ref)
print(f"wrote {OUT}: {len(ref)} arrays, keras {keras.__version__}")
