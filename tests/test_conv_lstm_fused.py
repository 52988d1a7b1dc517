"""The fused native ConvLSTM (kcore.ops.conv_lstm, csrc/cpu/conv_lstm.cpp): the layers' fused path against
their step-by-step autodiff path (forward and gradients). The op's NumPy parity and float64 gradient
checks are an op table row (tests/op_rows_nn.py)."""
import numpy as np
import pytest

from kcore import layers as L
from kcore import ops
from kcore.backend.autodiff import GradientTape
from kcore.backend.tensor import Variable
from kcore.layers.rnn.conv_lstm import ConvLSTM
from kcore.ops.conv_lstm import conv_lstm, native_activation

R = np.random.default_rng(11)


def _step_by_step(monkeypatch):
    monkeypatch.setattr(ConvLSTM, "_fused", lambda self, inputs: False)


LAYER_CASES = {
    "1d_same": (lambda: L.ConvLSTM1D(3, 3, padding="same", return_sequences=True), (2, 4, 6, 2)),
    "2d_stride_state": (lambda: L.ConvLSTM2D(2, (3, 2), strides=(2, 1), return_state=True), (2, 3, 7, 5, 3)),
    "2d_dilation_backwards": (lambda: L.ConvLSTM2D(2, 2, dilation_rate=2, padding="same", go_backwards=True,
                                                   return_sequences=True, return_state=True), (2, 4, 5, 5, 1)),
    "2d_channels_first": (lambda: L.ConvLSTM2D(3, 3, padding="same", data_format="channels_first",
                                               return_sequences=True, return_state=True), (2, 3, 2, 5, 4)),
    "3d_no_bias": (lambda: L.ConvLSTM3D(2, 2, use_bias=False, return_sequences=True), (2, 2, 3, 3, 3, 2)),
    "1d_activations": (lambda: L.ConvLSTM1D(3, 2, activation="relu", recurrent_activation="hard_sigmoid",
                                            return_sequences=True), (2, 5, 6, 2)),
    "2d_dropout": (lambda: L.ConvLSTM2D(2, 3, padding="same", dropout=0.3, recurrent_dropout=0.4, seed=3,
                                        return_sequences=True, return_state=True), (2, 3, 4, 4, 2)),
}


def _run_layer(make, x, weights, mask, initial):
    layer = make()
    layer(x)
    layer.set_weights(weights)
    xv = Variable(x, dtype="float32", name="x")
    states = None if initial is None else [Variable(s, dtype="float32", name=f"s{i}") for i, s in enumerate(initial)]
    variables = [xv] + list(layer.trainable_weights) + (states or [])
    with GradientTape() as tape:
        out = layer(xv, mask=mask, initial_state=states, training=True)
        outs = out if isinstance(out, list) else [out]
        loss = ops.sum(ops.concatenate([ops.reshape(o * o, (-1,)) for o in outs], axis=0))
    grads = tape.gradient(loss, variables)
    return [o.numpy() for o in outs], [None if g is None else g.numpy() for g in grads]


@pytest.mark.parametrize("name", sorted(LAYER_CASES))
@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("with_states", [False, True])
def test_fused_layer_equals_step_by_step(name, masked, with_states, monkeypatch):
    make, shape = LAYER_CASES[name]
    x = R.standard_normal(shape).astype(np.float32)
    layer = make()
    layer(x)
    assert layer._fused(ops.convert_to_tensor(x))
    weights = layer.get_weights()
    mask = np.array([[1, 0] + [1] * (shape[1] - 2), [0, 1] + [0] * (shape[1] - 2)], bool) if masked else None
    state_shape = (shape[0],) + layer.cell.state_shape
    initial = [R.standard_normal(state_shape).astype(np.float32) for _ in range(2)] if with_states else None
    fused_out, fused_grads = _run_layer(make, x, weights, mask, initial)
    _step_by_step(monkeypatch)
    step_out, step_grads = _run_layer(make, x, weights, mask, initial)
    for a, b in zip(fused_out, step_out):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    assert len(fused_grads) == len(step_grads)
    for a, b in zip(fused_grads, step_grads):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)


def test_user_activation_runs_step_by_step(rng):
    """An activation outside the native table keeps the autodiff path (and gives the same numbers
    as the built-in function it wraps)."""
    x = rng.standard_normal((2, 3, 5, 2)).astype(np.float32)
    custom = L.ConvLSTM1D(2, 3, activation=lambda t: ops.tanh(t), return_sequences=True)
    builtin = L.ConvLSTM1D(2, 3, return_sequences=True)
    builtin(x)
    custom(x)
    custom.set_weights(builtin.get_weights())
    assert not custom._fused(ops.convert_to_tensor(x)) and builtin._fused(ops.convert_to_tensor(x))
    np.testing.assert_allclose(custom(x).numpy(), builtin(x).numpy(), atol=1e-6)


def test_native_activation_table():
    assert native_activation("tanh")[0] and native_activation(None) == (True, None)
    assert native_activation("linear") == (True, None)
    assert native_activation(lambda t: t) == (False, None)
    assert native_activation("leaky_relu") == (False, None)  # its slope is a parameter the kernel does not take


def test_fused_op_errors():
    x = np.zeros((2, 3, 5, 5, 2), np.float32)
    k, rk = np.zeros((3, 3, 2, 8), np.float32), np.zeros((3, 3, 2, 8), np.float32)
    with pytest.raises(ValueError, match=r"conv_lstm: a kernel of shape \(3, 3, 2, 8\) needs inputs with 5 axes"):
        conv_lstm(x[:, 0], k, rk)
    with pytest.raises(ValueError, match=r"conv_lstm: kernel must have shape \(\*kernel_size, 2, 4 \* filters\)"):
        conv_lstm(x, np.zeros((3, 3, 3, 8), np.float32), rk)
    with pytest.raises(ValueError, match=r"conv_lstm: recurrent_kernel must have shape"):
        conv_lstm(x, k, np.zeros((3, 3, 3, 8), np.float32))
    with pytest.raises(ValueError, match=r"conv_lstm: bias must have shape \(8,\)"):
        conv_lstm(x, k, rk, np.zeros(4, np.float32))
    with pytest.raises(ValueError, match=r"conv_lstm: initial h state must have shape \(2, 3, 3, 2\)"):
        conv_lstm(x, k, rk, initial_state=[np.zeros((2, 5, 5, 2), np.float32)] * 2)
    with pytest.raises(ValueError, match=r"conv_lstm: mask must have shape \(2, 3\)"):
        conv_lstm(x, k, rk, mask=np.ones((2, 4), bool))
    with pytest.raises(ValueError, match="no time steps"):
        conv_lstm(x[:, :0], k, rk)
    with pytest.raises(ValueError, match="built-in activations"):
        conv_lstm(x, k, rk, activation=lambda t: t)


def test_stateful_fused_equals_step_by_step(monkeypatch):
    """States carried across calls come out of the fused kernel the same as out of the step loop."""
    x1, x2 = R.standard_normal((2, 2, 2, 5, 4, 2)).astype(np.float32)

    def two_calls():
        layer = L.ConvLSTM2D(2, 3, padding="same", stateful=True, return_state=True, seed=0,
                             kernel_initializer="glorot_uniform")
        layer(x1)
        layer.set_weights(weights)
        layer.reset_states()
        first = [t.numpy() for t in layer(x1)]
        return first, [t.numpy() for t in layer(x2)]

    probe = L.ConvLSTM2D(2, 3, padding="same")
    probe(x1)
    weights = probe.get_weights()
    fused = two_calls()
    _step_by_step(monkeypatch)
    step = two_calls()
    for a, b in zip(fused[0] + fused[1], step[0] + step[1]):
        np.testing.assert_allclose(a, b, atol=1e-5)
    assert np.abs(fused[1][0] - fused[0][0]).max() > 1e-3  # the second call started from carried states
