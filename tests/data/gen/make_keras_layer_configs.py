"""Writes tests/data/keras3_layer_configs.json: for layers built with many argument combinations, the
`get_config()` real Keras 3 returns once the layer is built, and (for a few numerically distinct options) its
output on a fixed input.

Not part of the test run. Run with the reference environment:
    KERAS_BACKEND=tensorflow /work/refenv/bin/python tests/data/gen/make_keras_layer_configs.py
"""
import json
import os
import warnings

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "keras3_layer_configs.json")

SPECS = [  # (class, kwargs, input shape)
    ("Dense", {"units": 4, "activation": "tanh"}, (3, 5)),
    ("Dense", {"units": 4, "use_bias": False, "kernel_regularizer": "l2"}, (2, 3, 5)),
    ("Conv1D", {"filters": 4, "kernel_size": 3, "strides": 2, "padding": "same"}, (2, 9, 3)),
    ("Conv1D", {"filters": 4, "kernel_size": 3, "padding": "causal", "dilation_rate": 2}, (2, 9, 3)),
    ("Conv2D", {"filters": 4, "kernel_size": (2, 3), "strides": (3, 2), "padding": "same", "groups": 1}, (2, 7, 6, 3)),
    ("Conv2DTranspose", {"filters": 2, "kernel_size": 3, "strides": 2, "output_padding": 1, "padding": "same"},
     (2, 4, 5, 3)),
    ("DepthwiseConv2D", {"kernel_size": 3, "depth_multiplier": 2}, (2, 7, 6, 3)),
    ("SeparableConv2D", {"filters": 4, "kernel_size": 3, "depth_multiplier": 2}, (2, 7, 6, 3)),
    ("MaxPooling2D", {"pool_size": 3, "strides": 2, "padding": "same"}, (2, 7, 6, 3)),
    ("AveragePooling1D", {"pool_size": 4, "strides": 1, "padding": "same"}, (2, 7, 3)),
    ("GlobalAveragePooling2D", {"keepdims": True}, (2, 5, 4, 3)),
    ("SimpleRNN", {"units": 4, "return_sequences": True, "go_backwards": True}, (2, 5, 3)),
    ("LSTM", {"units": 4, "unit_forget_bias": False, "activity_regularizer": "l1"}, (2, 5, 3)),
    ("GRU", {"units": 4, "reset_after": False, "return_state": True}, (2, 5, 3)),
    ("ConvLSTM2D", {"filters": 3, "kernel_size": 3, "padding": "same"}, (1, 3, 5, 5, 2)),
    ("Embedding", {"input_dim": 10, "output_dim": 3, "mask_zero": True}, None),
    ("LayerNormalization", {"axis": -1, "epsilon": 1e-3}, (2, 3, 5)),
    ("LayerNormalization", {"axis": [2, 1], "center": False, "gamma_regularizer": "l2"}, (2, 3, 5)),
    ("LayerNormalization", {"rms_scaling": True}, (2, 3, 5)),
    ("LayerNormalization", {"rms_scaling": True, "axis": [1, 2]}, (2, 3, 5)),
    ("BatchNormalization", {"axis": 1, "momentum": 0.9, "beta_constraint": "non_neg"}, (4, 3, 5)),
    ("PReLU", {"shared_axes": [1]}, (2, 3, 4)),
    ("ReLU", {"max_value": 0.5, "negative_slope": 0.1, "threshold": 0.2}, (2, 5)),
    ("UpSampling2D", {"size": (2, 3), "interpolation": "bilinear"}, (2, 3, 4, 2)),
    ("Dropout", {"rate": 0.3, "noise_shape": [None, 1], "seed": 3}, (2, 5)),
    ("Activation", {"activation": "hard_silu"}, (2, 5)),
    ("Activation", {"activation": "sparsemax"}, (2, 5)),
    ("GroupNormalization", {"groups": 2}, (2, 3, 5, 4)),
    ("GroupNormalization", {"groups": -1, "axis": 1, "epsilon": 1e-5, "center": False}, (2, 4, 3, 5)),
    ("GroupNormalization", {"groups": 3, "gamma_regularizer": "l2"}, (3, 7, 6)),
    ("RMSNormalization", {}, (2, 3, 5)),
    ("RMSNormalization", {"axis": [1, 2], "epsilon": 1e-3}, (2, 3, 5)),
]
OUTPUTS = {"LayerNormalization", "GroupNormalization", "RMSNormalization"}  # classes whose outputs are recorded too


def _jsonable(value):
    return json.loads(json.dumps(value, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o)))


def main():
    rng = np.random.default_rng(5)
    cases = []
    for cls, kwargs, shape in SPECS:
        layer = getattr(keras.layers, cls)(**kwargs)
        x = rng.integers(0, 10, (2, 4)) if shape is None else rng.standard_normal(shape).astype("float32")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            layer(x)
            if layer.weights:  # non-trivial weights, so outputs check how they are laid over the input
                layer.set_weights([rng.normal(1, 0.5, w.shape).astype("float32") for w in layer.get_weights()])
            y = layer(x)
        case = {"class": cls, "kwargs": kwargs, "input": x.tolist(), "config": _jsonable(layer.get_config()),
                "weights": [w.tolist() for w in layer.get_weights()]}
        if cls in OUTPUTS:
            case["output"] = np.asarray(y).tolist()
        cases.append(case)
    with open(OUT, "w") as f:
        json.dump(cases, f)
    print("wrote", OUT, len(cases), "cases")


if __name__ == "__main__":
    main()
