"""Writes tests/data/keras3_layers_reference.npz with real Keras 3: outputs (and gradients of
sum(output * R) with respect to the weights, then the inputs) of the issue-13 layers.

    KERAS_BACKEND=tensorflow /work/refenv/bin/python tests/data/gen/make_keras_layers_reference.py
Keys: '<case>|x<i>' inputs, '|m<i>' masks, '|w<i>' weights, '|o<i>' outputs, '|r' the R of the
gradient, '|g<i>' gradients; '<case>|loss' for ActivityRegularization's added loss.
"""
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

L = keras.layers
DATA = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# name -> (layer factory, input shapes, call kwargs, masks)
CASES = {
    "td_dense": (lambda: L.TimeDistributed(L.Dense(3)), [(2, 4, 5)], {}, None),
    "td_conv": (lambda: L.TimeDistributed(L.Conv2D(2, 3, padding="same")), [(2, 3, 5, 5, 2)], {}, None),
    "repeat": (lambda: L.RepeatVector(3), [(2, 5)], {}, None),
    "permute21": (lambda: L.Permute((2, 1)), [(2, 3, 4)], {}, None),
    "permute312": (lambda: L.Permute((3, 1, 2)), [(2, 3, 4, 5)], {}, None),
    "leaky_default": (lambda: L.LeakyReLU(), [(2, 3, 4)], {}, None),
    "leaky_01": (lambda: L.LeakyReLU(negative_slope=0.1), [(2, 3, 4)], {}, None),
    "relu": (lambda: L.ReLU(), [(2, 3, 4)], {}, None),
    "relu6": (lambda: L.ReLU(max_value=6.0), [(2, 3, 4)], {}, None),
    "relu_args": (lambda: L.ReLU(max_value=1.5, negative_slope=0.1, threshold=0.5), [(2, 3, 4)], {}, None),
    "elu": (lambda: L.ELU(alpha=0.5), [(2, 3, 4)], {}, None),
    "softmax": (lambda: L.Softmax(), [(2, 3, 4)], {}, None),
    "softmax_ax1": (lambda: L.Softmax(axis=1), [(2, 3, 4)], {}, None),
    "softmax_ax12": (lambda: L.Softmax(axis=[1, 2]), [(2, 3, 4)], {}, None),
    "softmax_mask": (lambda: L.Softmax(), [(2, 3, 4)], {}, [(2, 3, 4)]),
    "prelu": (lambda: L.PReLU(), [(2, 3, 4)], {}, None),
    "prelu_shared": (lambda: L.PReLU(shared_axes=[1, 2]), [(2, 3, 4, 5)], {}, None),
    "att_dot": (lambda: L.Attention(), [(2, 3, 4), (2, 5, 4)], {}, None),
    "att_scale_key": (lambda: L.Attention(use_scale=True), [(2, 3, 4), (2, 5, 4), (2, 5, 4)], {}, None),
    "att_concat": (lambda: L.Attention(use_scale=True, score_mode="concat"), [(2, 3, 4), (2, 5, 4)], {}, None),
    "att_masks_scores": (lambda: L.Attention(), [(2, 3, 4), (2, 5, 4)], {"return_attention_scores": True},
                         [(2, 3), (2, 5)]),
    "att_causal": (lambda: L.Attention(), [(2, 4, 3), (2, 4, 3)], {"use_causal_mask": True}, [(2, 4), (2, 4)]),
    "add_att": (lambda: L.AdditiveAttention(), [(2, 3, 4), (2, 5, 4)], {}, None),
    "add_att_noscale_masks": (lambda: L.AdditiveAttention(use_scale=False), [(2, 3, 4), (2, 5, 4), (2, 5, 4)], {},
                              [(2, 3), (2, 5)]),
    "convlstm1d": (lambda: L.ConvLSTM1D(3, 3, padding="same", return_sequences=True), [(2, 4, 6, 2)], {}, None),
    "convlstm2d_state_mask": (lambda: L.ConvLSTM2D(2, (3, 2), strides=(2, 1), return_state=True),
                              [(2, 3, 5, 4, 2)], {}, [(2, 3)]),
    "convlstm2d_gb_dil": (lambda: L.ConvLSTM2D(2, 2, dilation_rate=2, padding="same", go_backwards=True,
                                               return_sequences=True, recurrent_activation="hard_sigmoid"),
                          [(2, 3, 5, 5, 1)], {}, None),
    "convlstm3d": (lambda: L.ConvLSTM3D(2, 2, use_bias=False), [(1, 2, 3, 3, 3, 2)], {}, None),
}


def main():
    rng = np.random.default_rng(7)
    out = {}
    for name, (make, shapes, kwargs, mask_shapes) in CASES.items():
        layer = make()
        xs = [rng.standard_normal(s).astype(np.float32) * 2 for s in shapes]
        masks = None
        if mask_shapes:
            masks = [rng.random(s) > 0.3 for s in mask_shapes]
            for m in masks:  # no fully masked row
                m.reshape(m.shape[0], -1)[:, 0] = True
        args = xs if len(xs) > 1 else xs[0]
        layer(args, **kwargs) if masks is None else layer(args, mask=masks if len(masks) > 1 else masks[0], **kwargs)
        weights = [rng.uniform(-1, 1, w.shape).astype(np.float32) for w in layer.get_weights()]
        layer.set_weights(weights)
        tx = [tf.constant(x) for x in xs]
        with tf.GradientTape() as tape:
            for t in tx:
                tape.watch(t)
            targs = tx if len(tx) > 1 else tx[0]
            if masks is None:
                res = layer(targs, **kwargs)
            else:
                res = layer(targs, mask=masks if len(masks) > 1 else masks[0], **kwargs)
            flat = list(res) if isinstance(res, (list, tuple)) else [res]
            r = rng.standard_normal(flat[0].shape).astype(np.float32)
            loss = tf.reduce_sum(flat[0] * r)
        grads = tape.gradient(loss, layer.trainable_weights + tx)
        out[f"{name}|r"] = r
        for kind, arrays in (("x", xs), ("m", masks or []), ("w", weights), ("o", flat), ("g", grads)):
            for i, a in enumerate(arrays):
                out[f"{name}|{kind}{i}"] = np.zeros(0, np.float32) if a is None else np.asarray(a)

    x = rng.standard_normal((4, 3)).astype(np.float32)
    layer = L.ActivityRegularization(l1=0.01, l2=0.02)
    layer(x)
    out["actreg|x0"], out["actreg|loss"] = x, np.float32(sum(float(v) for v in layer.losses))
    np.savez_compressed(os.path.join(DATA, "keras3_layers_reference.npz"), **out)
    print("keras", keras.__version__, "wrote", len(out), "arrays")


if __name__ == "__main__":
    main()
