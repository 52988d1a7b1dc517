"""The recurrent layers compared with Keras 3 in tests/test_rnn.py::test_keras3_golden_outputs, written once for
both sides: `reference_cases(layers)` builds them from kcore.layers in the test and from keras.layers in
tests/data/make_keras_rnn_reference.py (which produced the stored values)."""


def reference_cases(L):
    """{case name: a function making the layer}, from the layers module `L` (kcore.layers or keras.layers)."""
    return {
        "lstm": lambda: L.LSTM(5, return_sequences=True, return_state=True),
        "lstm_gb": lambda: L.LSTM(5, return_sequences=True, go_backwards=True),
        "gru": lambda: L.GRU(5, return_sequences=True, return_state=True),
        "gru_ra0": lambda: L.GRU(5, return_sequences=True, reset_after=False),
        "gru_hs": lambda: L.GRU(5, return_sequences=True, recurrent_activation="hard_sigmoid"),
        "rnn": lambda: L.SimpleRNN(5, return_sequences=True, go_backwards=True, return_state=True),
        "bi_lstm_concat": lambda: L.Bidirectional(L.LSTM(5, return_sequences=True)),
        "bi_gru_ave_state": lambda: L.Bidirectional(L.GRU(5, return_sequences=True, return_state=True),
                                                    merge_mode="ave"),
        "bi_rnn_last_mul": lambda: L.Bidirectional(L.SimpleRNN(5), merge_mode="mul"),
    }
