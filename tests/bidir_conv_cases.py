"""Bidirectional(ConvLSTM*) cases shared by tests/data/gen/make_keras_bidir_conv_reference.py (real Keras 3)
and tests/test_bidirectional_conv.py: each factory takes the layers namespace (keras.layers or kcore.layers).
No keras import here."""


def bidir_conv_cases(L):
    """name -> (layer factory, input shape, mask shape or None)."""
    return {
        "c2d_concat_seq": (lambda: L.Bidirectional(L.ConvLSTM2D(2, 3, padding="same", return_sequences=True)),
                           (2, 3, 4, 4, 2), None),
        "c2d_sum_state": (lambda: L.Bidirectional(L.ConvLSTM2D(2, (2, 3), return_state=True), merge_mode="sum"),
                          (2, 3, 4, 5, 1), None),
        "c2d_none_seq_state": (lambda: L.Bidirectional(
            L.ConvLSTM2D(2, 2, strides=2, return_sequences=True, return_state=True), merge_mode=None),
            (2, 3, 5, 4, 1), None),
        "c1d_ave_seq_mask": (lambda: L.Bidirectional(L.ConvLSTM1D(3, 2, padding="same", return_sequences=True),
                                                     merge_mode="ave"), (3, 4, 5, 2), (3, 4)),
        "c1d_concat_mask": (lambda: L.Bidirectional(L.ConvLSTM1D(2, 3)), (3, 4, 6, 2), (3, 4)),
        "c1d_mul_seq": (lambda: L.Bidirectional(L.ConvLSTM1D(2, 3, return_sequences=True), merge_mode="mul"),
                        (2, 3, 7, 2), None),
        "c1d_backward_layer": (lambda: L.Bidirectional(
            L.ConvLSTM1D(2, 3, return_sequences=True),
            backward_layer=L.ConvLSTM1D(3, 3, go_backwards=True, return_sequences=True)), (2, 3, 7, 2), None),
        "c3d_concat": (lambda: L.Bidirectional(L.ConvLSTM3D(2, 2)), (2, 2, 3, 3, 3, 1), None),
    }


def bidir_conv_model(L, keras_module):
    """A small model over Bidirectional(ConvLSTM2D) trained one SGD step in the reference."""
    return keras_module.Sequential([
        L.Input((3, 5, 5, 1)),
        L.Bidirectional(L.ConvLSTM2D(2, 3, padding="same", return_sequences=True), merge_mode="sum"),
        L.Bidirectional(L.ConvLSTM2D(2, 3)),
        L.Flatten(),
        L.Dense(1),
    ])


def bidir_conv1d_model(L, keras_module):
    """A functional model over Bidirectional(ConvLSTM1D) with merge modes ave and None, saved by kcore for Keras."""
    inp = L.Input((4, 6, 2))
    seq = L.Bidirectional(L.ConvLSTM1D(2, 3, padding="same", return_sequences=True), merge_mode="ave")(inp)
    fw, bw = L.Bidirectional(L.ConvLSTM1D(3, 2), merge_mode=None)(seq)
    return keras_module.Model(inp, L.Dense(1)(L.Flatten()(L.Concatenate()([fw, bw]))))
