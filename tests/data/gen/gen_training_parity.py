"""Writes tests/data/keras3_training_parity.json with real Keras 3 (TensorFlow backend).

Not part of the test run (kcore's tests only read the JSON). Run with the reference environment:
    KERAS_BACKEND=tensorflow /work/refenv/bin/python tests/data/gen/gen_training_parity.py
"""
import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", ".."))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import training_parity_models as tpm  # noqa: E402

OUT = os.path.join(HERE, "..", "keras3_training_parity.json")


def _list(x):
    return np.asarray(x).tolist()


def _short_path(v):
    return "/".join(v.path.split("/")[-2:])


def _error(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - recording which exception Keras raises
        return {"type": type(e).__name__, "message": str(e)}
    return None


def topologies():
    out = {}
    for name, build in tpm.TOPOLOGIES.items():
        keras.utils.set_random_seed(1)
        model = build(keras)
        x = tpm.topology_inputs(name, np.random.default_rng(5))
        preds = model.predict(x, verbose=0)
        out[name] = {
            "layers": [layer.name for layer in model.layers],
            "weights": [_short_path(w) for w in model.weights],
            "shapes": [list(w.shape) for w in model.weights],
            "trainable": [_short_path(w) for w in model.trainable_weights],
            "non_trainable": [_short_path(w) for w in model.non_trainable_weights],
            "values": [_list(w) for w in model.get_weights()],
            "x": [_list(a) for a in x] if isinstance(x, list) else _list(x),
            "pred": [_list(p) for p in preds] if isinstance(preds, list) else _list(preds),
        }
    return out


def _two_output_data():
    rng = np.random.default_rng(11)
    x = rng.standard_normal((12, 6)).astype(np.float32)
    y_cls = rng.integers(0, 3, size=(12,))
    y_reg = rng.standard_normal((12, 1)).astype(np.float32)
    return x, y_cls, y_reg


def compile_variants():
    out = {}
    x, y_cls, y_reg = _two_output_data()
    for case, kwargs in tpm.COMPILE_CASES.items():
        keras.utils.set_random_seed(2)
        model = tpm.two_outputs(keras)
        weights = model.get_weights()
        model.compile(optimizer=keras.optimizers.SGD(0.1), **kwargs)
        ev = model.evaluate(x, [y_cls, y_reg], batch_size=5, verbose=0, return_dict=True)
        hist = model.fit(x, [y_cls, y_reg], batch_size=4, epochs=2, shuffle=False, verbose=0)
        out[case] = {"initial": [_list(w) for w in weights], "evaluate": {k: float(v) for k, v in ev.items()},
                     "history": {k: [float(a) for a in v] for k, v in hist.history.items()},
                     "final": [_list(w) for w in model.get_weights()]}
    out["data"] = {"x": _list(x), "y_cls": _list(y_cls), "y_reg": _list(y_reg)}
    # an output without a loss; a loss dict that leaves an output out
    keras.utils.set_random_seed(2)
    model = tpm.two_outputs(keras)
    model.compile(optimizer="sgd", loss=["sparse_categorical_crossentropy", None])
    out["loss_none"] = {"initial": [_list(w) for w in model.get_weights()],
                        "evaluate": model.evaluate(x, [y_cls, y_reg], batch_size=12, verbose=0, return_dict=True)}
    model.compile(optimizer="sgd", loss={"cls": "sparse_categorical_crossentropy"})
    out["loss_dict_partial"] = _error(lambda: model.evaluate(x, [y_cls, y_reg], verbose=0))
    return out


def compile_errors():
    x, y_cls, y_reg = _two_output_data()

    def attempt(**kwargs):
        model = tpm.two_outputs(keras)
        at_compile = _error(lambda: model.compile(**{"optimizer": "sgd", "loss": "mse", **kwargs}))
        at_fit = _error(lambda: model.fit(x, [y_cls, y_reg], verbose=0)) if at_compile is None else None
        return {"compile": at_compile, "fit": at_fit}

    return {"loss": attempt(loss="no_such_loss"), "metric": attempt(metrics=["no_such_metric"]),
            "optimizer": attempt(optimizer="no_such_optimizer")}


METRIC_FOR = {"mse": "mae", "sparse_categorical_crossentropy": "accuracy"}


def masks():
    out = {}
    ids = np.array([[3, 4, 0, 0, 0], [1, 2, 3, 4, 5], [7, 0, 0, 0, 0], [2, 2, 9, 0, 0], [5, 6, 7, 8, 0],
                    [1, 0, 0, 0, 0]], dtype=np.int32)
    rng = np.random.default_rng(3)
    targets = {"mse": rng.standard_normal((6, 5, 3)).astype(np.float32),
               "sparse_categorical_crossentropy": rng.integers(0, 3, size=(6, 5))}
    # per-step weights (Keras 3.15 cannot combine per-sample weights (batch,) with a (batch, steps) mask)
    sample_weight = rng.uniform(0.0, 2.0, size=(6, 5)).astype(np.float32)
    for kind, y in targets.items():
        keras.utils.set_random_seed(4)
        model = tpm.masked_sequence(keras, kind)
        initial = model.get_weights()
        model.compile(optimizer=keras.optimizers.SGD(0.5), loss=kind, metrics=[METRIC_FOR[kind]])
        logs = model.evaluate(ids, y, batch_size=4, verbose=0, return_dict=True)
        ev = logs["loss"]
        ev_sw = model.evaluate(ids, y, sample_weight=sample_weight, batch_size=6, verbose=0)[0]
        model.fit(ids, y, batch_size=3, epochs=1, shuffle=False, verbose=0)
        out[kind] = {"initial": [_list(w) for w in initial], "y": _list(y), "evaluate": float(ev),
                     "metric": float(logs[METRIC_FOR[kind]]),
                     "evaluate_sample_weight": float(ev_sw), "final": [_list(w) for w in model.get_weights()]}
    out["ids"] = _list(ids)
    out["sample_weight"] = _list(sample_weight)

    # merge layers' compute_mask
    a = rng.standard_normal((2, 4, 3)).astype(np.float32)
    b = rng.standard_normal((2, 4, 3)).astype(np.float32)
    ma = np.array([[1, 1, 0, 0], [1, 0, 1, 0]], dtype=bool)
    mb = np.array([[1, 0, 0, 1], [1, 1, 1, 0]], dtype=bool)
    merged = {}
    for cls_name in ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate"):
        for tag, masks in (("both", [ma, mb]), ("first_only", [ma, None])):
            layer = getattr(keras.layers, cls_name)()
            m = layer.compute_mask([a, b], masks)
            merged[f"{cls_name}_{tag}"] = None if m is None else _list(np.asarray(m))
    layer = keras.layers.Concatenate(axis=1)
    merged["Concatenate_axis1_both"] = _list(np.asarray(layer.compute_mask([a, b], [ma, mb])))
    out["merge"] = {"a": _list(a), "b": _list(b), "ma": _list(ma), "mb": _list(mb), "masks": merged}

    # BatchNormalization with a mask
    x = rng.standard_normal((3, 4, 2)).astype(np.float32) * 2 + 1
    m = np.array([[1, 1, 0, 0], [1, 1, 1, 0], [1, 0, 0, 0]], dtype=bool)
    bn = keras.layers.BatchNormalization(momentum=0.5)
    y_train = bn(x, training=True, mask=m)
    out["batchnorm"] = {"x": _list(x), "mask": _list(m), "y": _list(y_train),
                        "moving_mean": _list(bn.moving_mean), "moving_variance": _list(bn.moving_variance)}
    return out


def _dense_model():
    keras.utils.set_random_seed(6)
    inp = keras.Input((4,))
    out = keras.layers.Dense(1, name="o")(keras.layers.Dense(3, activation="tanh", name="h")(inp))
    return keras.Model(inp, out)


def optimizers():
    out = {}
    rng = np.random.default_rng(8)
    x = rng.standard_normal((12, 4)).astype(np.float32)
    y = rng.standard_normal((12, 1)).astype(np.float32)
    out["data"] = {"x": _list(x), "y": _list(y)}
    for case, kwargs in {"ema": dict(use_ema=True, ema_momentum=0.9),
                         "ema_overwrite": dict(use_ema=True, ema_momentum=0.8, ema_overwrite_frequency=2)}.items():
        model = _dense_model()
        initial = model.get_weights()
        model.compile(optimizer=keras.optimizers.SGD(0.1, **kwargs), loss="mse")
        hist = model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
        out[case] = {"initial": [_list(w) for w in initial], "final": [_list(w) for w in model.get_weights()],
                     "loss": [float(v) for v in hist.history["loss"]]}

    # EMA on a bare variable: values after each apply, then after finalize_variable_values
    opt = keras.optimizers.SGD(0.1, use_ema=True, ema_momentum=0.5, ema_overwrite_frequency=3)
    var = keras.Variable(np.array([1.0, -2.0], dtype=np.float32))
    steps = []
    for g in ([1.0, 2.0], [0.5, -1.0], [2.0, 0.0], [-1.0, 1.0]):
        opt.apply([np.array(g, dtype=np.float32)], [var])
        steps.append(_list(var))
    opt.finalize_variable_values([var])
    out["ema_variable"] = {"steps": steps, "final": _list(var)}

    # exclude_from_weight_decay
    grads = [rng.standard_normal((4, 3)).astype(np.float32), rng.standard_normal((3,)).astype(np.float32)]
    for case in ("var_names", "var_list"):
        layer = keras.layers.Dense(3, bias_initializer="ones")
        layer.build((None, 4))
        opt = keras.optimizers.AdamW(learning_rate=0.1, weight_decay=0.5)
        if case == "var_names":
            opt.exclude_from_weight_decay(var_names=["bias"])
        else:
            opt.exclude_from_weight_decay(var_list=[layer.kernel])
        initial = [_list(w) for w in layer.get_weights()]
        opt.apply(grads, layer.trainable_weights)
        out[f"exclude_{case}"] = {"initial": initial, "grads": [_list(g) for g in grads],
                                  "final": [_list(w) for w in layer.get_weights()]}

    # a zero-argument callable learning rate
    opt = keras.optimizers.SGD(learning_rate=lambda: 0.25)
    var = keras.Variable(np.array([1.0, 2.0], dtype=np.float32))
    opt.apply([np.array([1.0, -1.0], dtype=np.float32)], [var])
    out["callable_lr"] = {"value": _list(var), "learning_rate": float(opt.learning_rate)}

    # optimizers.get
    got = {}
    got["string"] = type(keras.optimizers.get("adam")).__name__
    got["dict"] = [type(o).__name__ for o in [keras.optimizers.get({"class_name": "SGD",
                                                                     "config": {"learning_rate": 0.3}})]]
    got["dict_lr"] = float(keras.optimizers.get({"class_name": "SGD", "config": {"learning_rate": 0.3}})
                           .learning_rate)
    inst = keras.optimizers.Adam()
    got["instance_is_same"] = keras.optimizers.get(inst) is inst
    got["none"] = _error(lambda: keras.optimizers.get(None))
    got["none_returns"] = repr(keras.optimizers.get(None))
    got["unknown"] = _error(lambda: keras.optimizers.get("no_such_optimizer"))
    got["number"] = _error(lambda: keras.optimizers.get(3))
    out["get"] = got
    return out


def lr_callbacks():
    out = {}
    rng = np.random.default_rng(9)
    x = rng.standard_normal((8, 4)).astype(np.float32)
    y = rng.standard_normal((8, 1)).astype(np.float32)
    for name, cb in {"reduce": keras.callbacks.ReduceLROnPlateau(monitor="loss", patience=0, factor=0.5),
                     "scheduler": keras.callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.5)}.items():
        model = _dense_model()
        schedule = keras.optimizers.schedules.ExponentialDecay(1e-9, decay_steps=10, decay_rate=0.9)
        model.compile(optimizer=keras.optimizers.SGD(schedule), loss="mse")
        out[name] = _error(lambda: model.fit(x, y, epochs=3, verbose=0, callbacks=[cb]))  # noqa: B023 (run in this iteration)
    return out


def regularizers():
    rng = np.random.default_rng(10)
    x = rng.standard_normal((6, 4)).astype(np.float32)
    y = rng.standard_normal((6, 2)).astype(np.float32)
    keras.utils.set_random_seed(12)
    inp = keras.Input((4,))
    h = keras.layers.Dense(3, kernel_regularizer=keras.regularizers.L2(0.1),
                           bias_regularizer=keras.regularizers.L1(0.2), bias_initializer="ones", name="reg_h")(inp)
    out = keras.layers.Dense(2, activity_regularizer=keras.regularizers.L2(0.05), name="act")(h)
    model = keras.Model(inp, out)
    weight_losses = [float(v) for v in model.losses]
    layer_losses = [float(v) for v in model.get_layer("reg_h").losses]
    model(x)
    after_call = [float(v) for v in model.losses]
    model.compile(optimizer="sgd", loss="mse")
    ev = model.evaluate(x, y, batch_size=3, verbose=0)
    ev_plain = float(np.mean([np.mean((model.predict(x[i:i + 3], verbose=0) - y[i:i + 3]) ** 2)
                              for i in (0, 3)]))
    return {"x": _list(x), "y": _list(y), "weights": [_list(w) for w in model.get_weights()],
            "model_losses": weight_losses, "layer_losses": layer_losses, "losses_after_call": after_call,
            "evaluate": float(ev), "evaluate_without_penalties": ev_plain}


def main():
    ref = {"keras_version": keras.__version__, "topologies": topologies(), "compile": compile_variants(),
           "compile_errors": compile_errors(), "masks": masks(), "optimizers": optimizers(),
           "lr_callbacks": lr_callbacks(), "regularizers": regularizers()}
    with open(OUT, "w") as f:
        json.dump(ref, f)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
