"""Writes the mixed-precision references of tests/test_mixed_precision*.py with real Keras 3 (TF backend):

    KERAS_BACKEND=tensorflow /work/refenv/bin/python tests/data/gen/make_keras_mixed_precision_reference.py

- keras3_mixed_precision.json: the policy API (names, dtypes, reprs, configs, error messages), per layer case
  under mixed_bfloat16 the dtypes of outputs, variables and gradients, what predict returns, loss/metric dtypes,
  and the JSON config Keras writes for a mixed model.
- keras3_mixed_precision.npz: per layer case '<case>|x' input, '|w<i>' weights (set into the layer), '|o' the
  output (as float32), '|r' the R of loss = sum(float32(output) * R), '|g<i>' the gradients of that loss with
  respect to the trainable weights, '|gx' with respect to the input.
- keras3_mixed_bfloat16.keras + keras3_mixed_bfloat16_io.npz: a small mixed_bfloat16 CNN saved by Keras, its
  input `x` and its predictions `y` (float32: the model ends with a float32 softmax).
- in the .npz too: 'functional|...' (a mixed functional model: input, weights, output) and 'exact|...' (float32
  first layers of mixed models, on inputs bfloat16 cannot hold).
"""
import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

L = keras.layers
DATA = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(DATA))
from mixed_precision_cases import layer_cases  # noqa: E402

POLICY_NAMES = ["float32", "float64", "bfloat16", "mixed_bfloat16", "mixed_float16", "float16", "uint8", "int"]
BAD_NAMES = ["foo", "mixed_foo", "float 32", "", "mixed_float15", 1, None]


def policy_reference():
    out = {"policies": {}, "errors": {}}
    for name in POLICY_NAMES:
        p = keras.mixed_precision.Policy(name)
        out["policies"][name] = {"name": p.name, "compute_dtype": p.compute_dtype, "variable_dtype": p.variable_dtype,
                                 "repr": repr(p), "config": p.get_config(),
                                 "serialized": keras.dtype_policies.serialize(p)}
    for bad in BAD_NAMES:
        for label, fn in (("Policy", keras.mixed_precision.Policy),
                          ("set_global_policy", keras.mixed_precision.set_global_policy),
                          ("get", keras.dtype_policies.get)):
            try:
                fn(bad)
            except (TypeError, ValueError) as e:
                out["errors"][f"{label}|{bad!r}"] = [type(e).__name__, str(e)]
    for name in ("int8_from_float32", "int8_abc_"):  # quantized policies' names (kcore refuses them)
        try:
            keras.dtype_policies.get(name)
        except ValueError as e:
            out["errors"][f"get|{name!r}"] = ["ValueError", str(e)]
    out["default_global"] = repr(keras.mixed_precision.global_policy())
    return out


def layer_reference(arrays):
    rng = np.random.default_rng(11)
    table = {}
    for name, (make, shape, integer, kwargs) in layer_cases(L).items():
        layer = make()
        x = rng.integers(0, 12, shape).astype(np.int32) if integer else rng.standard_normal(shape).astype(np.float32)
        layer(x, **kwargs)
        weights = [rng.uniform(-0.8, 0.8, w.shape).astype(np.float32) for w in layer.get_weights()]
        if name.startswith("batch_norm"):  # positive moving variance
            weights[3] = np.abs(weights[3]) + 0.5
        layer.set_weights(weights)
        xt = tf.constant(x)
        with tf.GradientTape() as tape:
            if not integer:
                tape.watch(xt)
            y = layer(xt, **kwargs)
            r = tf.constant(rng.standard_normal(y.shape).astype(np.float32))
            loss = tf.reduce_sum(tf.cast(y, tf.float32) * r)
        sources = layer.trainable_weights + ([] if integer else [xt])
        grads = [tf.convert_to_tensor(g) for g in tape.gradient(loss, sources)]  # Embedding's are IndexedSlices
        arrays[f"{name}|x"] = x
        arrays[f"{name}|o"] = tf.cast(y, tf.float32).numpy()
        arrays[f"{name}|r"] = r.numpy()
        for i, w in enumerate(weights):
            arrays[f"{name}|w{i}"] = w
        for i, g in enumerate(grads[:len(layer.trainable_weights)]):
            arrays[f"{name}|g{i}"] = tf.cast(g, tf.float32).numpy()
        if not integer:
            arrays[f"{name}|gx"] = tf.cast(grads[-1], tf.float32).numpy()
        for i, w in enumerate(layer.get_weights()):  # after the call (BatchNormalization's moving statistics)
            arrays[f"{name}|after{i}"] = w
        table[name] = {"output": y.dtype.name, "policy": layer.dtype_policy.name,
                       "compute_dtype": layer.compute_dtype, "variable_dtype": layer.variable_dtype,
                       "dtype": layer.dtype, "variables": [v.dtype for v in layer.weights],
                       "gradients": [g.dtype.name for g in grads[:len(layer.trainable_weights)]],
                       "input_gradient": None if integer else grads[-1].dtype.name}
    return table


def cnn():
    return keras.Sequential([keras.Input((8, 8, 1)), L.Conv2D(4, 3, activation="relu"), L.MaxPooling2D(),
                             L.Flatten(), L.Dense(10), L.Activation("softmax", dtype="float32")])


def model_reference(arrays):
    rng = np.random.default_rng(5)
    out = {}
    model = cnn()
    x = rng.random((6, 8, 8, 1)).astype(np.float32)
    out["cnn_config"] = json.loads(model.to_json())
    out["cnn_predict_dtype"] = str(model.predict(x, verbose=0).dtype)
    out["cnn_call_dtype"] = model(x).dtype.name
    out["cnn_params"] = model.count_params()
    model.save(os.path.join(DATA, "keras3_mixed_bfloat16.keras"))
    np.savez(os.path.join(DATA, "keras3_mixed_bfloat16_io.npz"), x=x, y=model.predict(x, verbose=0))
    plain = keras.Sequential([keras.Input((8,)), L.Dense(4), L.Dense(3)])
    out["bf16_head_predict_dtype"] = str(plain.predict(rng.random((2, 8)).astype(np.float32), verbose=0).dtype)
    y_pred = tf.cast(tf.constant([[0.2, 0.8], [0.6, 0.4]]), tf.bfloat16)
    y_true = tf.constant([[0.0, 1.0], [1.0, 0.0]])
    out["loss_dtype"] = keras.losses.MeanSquaredError()(y_true, y_pred).dtype.name
    policy_loss = keras.losses.MeanSquaredError(dtype=keras.DTypePolicy("mixed_bfloat16"))(y_true, y_pred)
    out["policy_loss"] = [policy_loss.dtype.name, float(policy_loss)]
    policy_metric = keras.metrics.MeanSquaredError(dtype=keras.DTypePolicy("mixed_bfloat16"))
    out["policy_metric_dtype"] = policy_metric.dtype
    metric = keras.metrics.CategoricalAccuracy()
    metric.update_state(y_true, y_pred)
    out["metric_dtype"] = metric.result().dtype.name
    inputs = keras.Input((6,))
    a = L.Dense(4, activation="relu")(inputs)
    b = L.Dense(4)(inputs)
    outputs = L.Dense(2, activation="softmax", dtype="float32")(L.Concatenate()([a, b]))
    functional = keras.Model(inputs, outputs)
    fx = rng.random((5, 6)).astype(np.float32)
    weights = [rng.uniform(-1, 1, w.shape).astype(np.float32) for w in functional.get_weights()]
    functional.set_weights(weights)
    arrays["functional|x"] = fx
    arrays["functional|o"] = functional.predict(fx, verbose=0)
    for i, w in enumerate(weights):
        arrays[f"functional|w{i}"] = w
    out["functional_layer_outputs"] = [layer.output.dtype for layer in functional.layers]
    exact_inputs(arrays, rng)
    return out


def exact_inputs(arrays, rng):
    """Sequential and functional models hand their float32 inputs on uncast: a float32 first layer computes on
    them exactly (inputs with more than bfloat16's 8 significant bits show it)."""
    x = (1.0 + rng.integers(1, 2 ** 12, (4, 3)) * 2.0 ** -14).astype(np.float32)
    kernel = rng.uniform(-1, 1, (3, 2)).astype(np.float32)
    sequential = keras.Sequential([keras.Input((3,)), L.Dense(2, use_bias=False, dtype="float32")])
    inputs = keras.Input((3,))
    functional = keras.Model(inputs, L.Dense(2, use_bias=False, dtype="float32")(inputs))
    arrays["exact|x"], arrays["exact|w0"] = x, kernel
    for name, model in (("sequential", sequential), ("functional", functional)):
        model.set_weights([kernel])
        arrays[f"exact|{name}"] = model.predict(x, verbose=0)


def main():
    reference = {"policy": policy_reference()}
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    arrays = {}
    reference["layers"] = layer_reference(arrays)
    reference["models"] = model_reference(arrays)
    reference["global_after_set"] = repr(keras.mixed_precision.global_policy())
    keras.mixed_precision.set_global_policy("float32")
    with open(os.path.join(DATA, "keras3_mixed_precision.json"), "w") as f:
        json.dump(reference, f, indent=1, sort_keys=True)
    np.savez(os.path.join(DATA, "keras3_mixed_precision.npz"), **arrays)


if __name__ == "__main__":
    main()
