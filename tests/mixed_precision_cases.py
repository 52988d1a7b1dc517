"""The layer cases of the mixed-precision parity tests, for Keras (the reference generator) and kcore alike:
`layer_cases(layers)` -> name -> (constructor, input shape, integer input, call kwargs)."""


def layer_cases(L):
    return {
        "dense": (lambda: L.Dense(5, activation="tanh"), (4, 7), False, {}),
        "conv1d": (lambda: L.Conv1D(4, 3, padding="same", activation="relu"), (2, 9, 3), False, {}),
        "conv2d": (lambda: L.Conv2D(4, 3, activation="relu"), (2, 7, 7, 3), False, {}),
        "lstm": (lambda: L.LSTM(6, return_sequences=True), (3, 6, 5), False, {}),
        "gru": (lambda: L.GRU(6), (3, 6, 5), False, {}),
        "simple_rnn": (lambda: L.SimpleRNN(6), (3, 6, 5), False, {}),
        "embedding": (lambda: L.Embedding(12, 4), (3, 5), True, {}),
        "batch_norm_train": (lambda: L.BatchNormalization(), (8, 5), False, {"training": True}),
        "batch_norm_infer": (lambda: L.BatchNormalization(), (8, 5), False, {"training": False}),
        "layer_norm": (lambda: L.LayerNormalization(), (4, 6), False, {}),
        "max_pool2d": (lambda: L.MaxPooling2D(), (2, 6, 6, 3), False, {}),
        "avg_pool1d": (lambda: L.AveragePooling1D(2), (2, 8, 3), False, {}),
        "global_avg_pool2d": (lambda: L.GlobalAveragePooling2D(), (2, 5, 5, 3), False, {}),
        "softmax": (lambda: L.Softmax(), (4, 6), False, {}),
        "softmax_float32": (lambda: L.Activation("softmax", dtype="float32"), (4, 6), False, {}),
    }
