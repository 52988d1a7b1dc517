"""Writes tests/data/keras3_mask_graphs/<name>.keras and .npz with real Keras 3 (TensorFlow): functional models whose
configs hold the operation nodes Keras records for masks (NotEqual for Embedding(mask_zero=True), NotEqual + Any
for Masking) and pass to the next layers as `mask=`, including a shared embedding and dict inputs/outputs compiled
with per-output losses and string-named metrics ("AUC").

Not part of the test run. Run with the reference environment:
    KERAS_BACKEND=tensorflow /work/refenv/bin/python tests/data/gen/make_keras_mask_graph_files.py
"""
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "keras3_mask_graphs")
L = keras.layers


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(8)
    keras.utils.set_random_seed(8)
    # an embedding with mask_zero feeding a GRU
    a = keras.Input((6,))
    embedding_gru = keras.Model(a, L.Dense(1)(L.GRU(3)(L.Embedding(20, 4, mask_zero=True)(a))))
    tokens = rng.integers(0, 20, (8, 6))
    tokens[:, 4:] = 0
    # Masking -> LSTM(return_sequences) -> Dense over time -> masked pooling
    s = keras.Input((5, 3))
    masked = L.Dense(2)(L.LSTM(3, return_sequences=True)(L.Masking(0.0)(s)))
    masking_lstm = keras.Model(s, L.GlobalAveragePooling1D()(masked))
    steps = rng.normal(size=(8, 5, 3)).astype("float32")
    steps[::2, 3:] = 0
    # a shared embedding over two named inputs, two named outputs, compiled per output
    x1, x2 = keras.Input((6,), name="a"), keras.Input((5,), name="b")
    shared = L.Embedding(20, 4, mask_zero=True, name="emb")
    h = L.Concatenate()([L.GRU(3, name="gru")(shared(x1)), L.LSTM(3, name="lstm")(shared(x2))])
    two = keras.Model({"a": x1, "b": x2}, {"cls": L.Dense(1, activation="sigmoid", name="cls")(h),
                                            "reg": L.Dense(1, name="reg")(h)})
    two.compile(optimizer="adam", loss={"cls": "binary_crossentropy", "reg": "mse"},
                metrics={"cls": ["AUC", "accuracy"], "reg": ["mae"]})
    second = rng.integers(1, 20, (8, 5))
    targets = {"cls": rng.integers(0, 2, (8, 1)).astype("float32"), "reg": rng.normal(size=(8, 1)).astype("float32")}
    history = two.fit([tokens, second], targets, epochs=1, batch_size=4, verbose=0)
    # Bidirectional(merge_mode=None): both outputs carry the mask into a Concatenate and a GRU
    b = keras.Input((6,))
    forward, backward = L.Bidirectional(L.LSTM(3, return_sequences=True), merge_mode=None)(
        L.Embedding(20, 4, mask_zero=True)(b))
    last, state = L.GRU(2, return_state=True, reset_after=False)(L.Concatenate()([forward, backward]))
    bidirectional_none = keras.Model(b, {"last": last, "state": state})
    for name, model, x in (("embedding_gru", embedding_gru, [tokens]), ("masking_lstm", masking_lstm, [steps]),
                           ("shared_two_outputs", two, [tokens, second]),
                           ("bidirectional_none", bidirectional_none, [tokens])):
        model.save(os.path.join(OUT, f"{name}.keras"))
        pred = model.predict(x if len(x) > 1 else x[0], verbose=0)
        pred = pred if isinstance(pred, dict) else {"y": pred}
        np.savez(os.path.join(OUT, f"{name}.npz"), **{f"x{i}": v for i, v in enumerate(x)},
                 **{f"pred_{k}": v for k, v in pred.items()})
    np.savez(os.path.join(OUT, "shared_two_outputs_fit.npz", ), keys=np.array(sorted(history.history)), **targets)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
