"""Cases shared by the Keras 3 reference generators (tests/data/gen/make_keras_*_reference.py) and kcore's
tests: every factory takes the layers namespace (keras.layers or kcore.layers), so both sides build the
same layers from one table. No keras import here."""


def cell_cases(L):
    """name -> one-step cell."""
    return {
        "simple": lambda: L.SimpleRNNCell(4, activation="relu"),
        "lstm": lambda: L.LSTMCell(4),
        "gru": lambda: L.GRUCell(4),
        "gru_ra0": lambda: L.GRUCell(4, reset_after=False, recurrent_activation="hard_sigmoid"),
    }


def sequence_cases(L):
    """name -> RNN over built-in cells."""
    return {
        "rnn_lstm": lambda: L.RNN(L.LSTMCell(4), return_sequences=True, return_state=True),
        "rnn_gru_ra0_gb": lambda: L.RNN(L.GRUCell(3, reset_after=False), go_backwards=True, return_state=True),
        "rnn_simple": lambda: L.RNN(L.SimpleRNNCell(4, activation="relu"), return_sequences=True),
        "stack_lstm_gru": lambda: L.RNN(L.StackedRNNCells([L.LSTMCell(4), L.GRUCell(3)]), return_sequences=True,
                                        return_state=True),
        "stack_gb": lambda: L.RNN([L.SimpleRNNCell(3), L.LSTMCell(4), L.GRUCell(2)], go_backwards=True,
                                  return_sequences=True),
    }


def layer_cases(L):
    """name -> (layer factory, input shapes, call kwargs, mask shapes or None)."""
    return {
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
        "add_att_noscale_masks": (lambda: L.AdditiveAttention(use_scale=False), [(2, 3, 4), (2, 5, 4), (2, 5, 4)],
                                  {}, [(2, 3), (2, 5)]),
        "convlstm1d": (lambda: L.ConvLSTM1D(3, 3, padding="same", return_sequences=True), [(2, 4, 6, 2)], {}, None),
        "convlstm2d_state_mask": (lambda: L.ConvLSTM2D(2, (3, 2), strides=(2, 1), return_state=True),
                                  [(2, 3, 5, 4, 2)], {}, [(2, 3)]),
        "convlstm2d_gb_dil": (lambda: L.ConvLSTM2D(2, 2, dilation_rate=2, padding="same", go_backwards=True,
                                                   return_sequences=True, recurrent_activation="hard_sigmoid"),
                              [(2, 3, 5, 5, 1)], {}, None),
        "convlstm3d": (lambda: L.ConvLSTM3D(2, 2, use_bias=False), [(1, 2, 3, 3, 3, 2)], {}, None),
    }


def make_tanh_cell(L, ops):
    """A user-written cell, h_t = tanh(x_t K + h_{t-1} R + b), built on either library's Layer and ops."""

    class TanhCell(L.Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.state_size = units

        def build(self, input_shape):
            self.kernel = self.add_weight(name="kernel", shape=(input_shape[-1], self.units))
            self.recurrent_kernel = self.add_weight(name="recurrent_kernel", shape=(self.units, self.units))
            self.bias = self.add_weight(name="bias", shape=(self.units,), initializer="zeros")

        def call(self, inputs, states):
            z = ops.add(ops.matmul(inputs, self.kernel), ops.matmul(states[0], self.recurrent_kernel))
            h = ops.tanh(ops.add(z, self.bias))
            return h, [h]

        def get_config(self):
            return {**super().get_config(), "units": self.units}

    return TanhCell


def series(ref, prefix):
    """ref[prefix + '0'], ref[prefix + '1'], ... while present."""
    out, i = [], 0
    while f"{prefix}{i}" in ref:
        out.append(ref[f"{prefix}{i}"])
        i += 1
    return out
