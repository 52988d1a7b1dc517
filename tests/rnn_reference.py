"""NumPy reference of Keras's recurrent equations (KERAS_SPEC section 4), one step at a time.

Shared by tests/test_rnn.py and bench/bench_rnn.py. Written for readability, not speed.
"""
import numpy as np


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


ACTIVATIONS = {
    "tanh": np.tanh,
    "sigmoid": _sigmoid,
    "relu": lambda x: np.maximum(x, 0.0),
    "linear": lambda x: x,
    "hard_sigmoid": lambda x: np.clip((x + 3.0) / 6.0, 0.0, 1.0),
    "hard_sigmoid_k2": lambda x: np.clip(0.2 * x + 0.5, 0.0, 1.0),
}


# Each step takes h_rec: h_{t-1} as it enters the recurrent products (times the recurrent
# dropout mask when there is one); the carried state itself is never masked.


def simple_rnn_cell(act):
    def step(x_t, states, w, u, b, h_rec):
        h = act(x_t @ w + h_rec @ u + (0 if b is None else b))
        return h, [h]
    return step


def lstm_cell(act, rec):
    def step(x_t, states, w, u, b, h_rec):
        h, c = states
        z = x_t @ w + h_rec @ u + (0 if b is None else b)
        zi, zf, zc, zo = np.split(z, 4, axis=-1)
        i, f, o = rec(zi), rec(zf), rec(zo)
        c = f * c + i * act(zc)
        h = o * act(c)
        return h, [h, c]
    return step


def gru_cell(act, rec, reset_after):
    def step(x_t, states, w, u, b, h_rec):
        (h,) = states
        units = h.shape[-1]
        if reset_after:
            b_in, b_rec = (0, 0) if b is None else (b[0], b[1])
            xz, xr, xh = np.split(x_t @ w + b_in, 3, axis=-1)
            hz, hr, hh = np.split(h_rec @ u + b_rec, 3, axis=-1)
            z, r = rec(xz + hz), rec(xr + hr)
            n = act(xh + r * hh)
        else:
            xz, xr, xh = np.split(x_t @ w + (0 if b is None else b), 3, axis=-1)
            z = rec(xz + h_rec @ u[:, :units])
            r = rec(xr + h_rec @ u[:, units:2 * units])
            n = act(xh + (r * h_rec) @ u[:, 2 * units:])
        h = z * h + (1 - z) * n
        return h, [h]
    return step


def make_cell(kind, activation="tanh", recurrent_activation="sigmoid", reset_after=True):
    act, rec = ACTIVATIONS[activation], ACTIVATIONS[recurrent_activation]
    if kind == "simple_rnn":
        return simple_rnn_cell(act)
    if kind == "lstm":
        return lstm_cell(act, rec)
    return gru_cell(act, rec, reset_after)


def run_rnn(step, x, w, u, b, initial_states, mask=None, go_backwards=False, rec_mask=None):
    """Keras's rnn loop: returns (outputs (B, T, U) in processed order, final states)."""
    x = np.asarray(x, dtype=np.float64)
    steps = x.shape[1]
    order = range(steps - 1, -1, -1) if go_backwards else range(steps)
    states = [np.asarray(s, dtype=np.float64) for s in initial_states]
    prev_out = np.zeros_like(states[0])
    outputs = []
    for t in order:
        h_rec = states[0] if rec_mask is None else states[0] * rec_mask
        out, new_states = step(x[:, t], states, w, u, b, h_rec)
        if mask is not None:
            keep = np.asarray(mask[:, t], dtype=bool)[:, None]
            out = np.where(keep, out, prev_out)
            new_states = [np.where(keep, n, s) for n, s in zip(new_states, states)]
        outputs.append(out)
        prev_out, states = out, new_states
    return np.stack(outputs, axis=1), states
