"""Attention (Luong, dot-product) and AdditiveAttention (Bahdanau) layers, as in Keras 3.

Both take [query, value] or [query, value, key] with shapes (batch, Tq, dim), (batch, Tv, dim)
and return (batch, Tq, dim): softmax over the value axis of the scores, times value.
"""
import numpy as np

from kcore import ops
from kcore.backend.tensor import Tensor, convert_to_tensor
from kcore.layers.layer import Layer


def _mask_tensor(mask, dtype):
    m = mask.numpy() if isinstance(mask, Tensor) else np.asarray(mask)
    return convert_to_tensor((np.asarray(m) != 0).astype(dtype))


class Attention(Layer):
    """Dot-product attention: scores = query . key^T (times a learned scalar `scale` if use_scale).

    score_mode="concat" scores with concat_score_weight * sum(tanh(query + key)) instead. Call with
    mask=[query_mask, value_mask], return_attention_scores=True for (output, scores), and
    use_causal_mask=True so that query step i attends only to value steps <= i.
    """

    _score_modes = ("dot", "concat")

    def __init__(self, use_scale=False, score_mode="dot", dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        if score_mode not in self._score_modes:
            raise ValueError(f"{type(self).__name__}: invalid value for argument score_mode. Expected one of "
                             f"{set(self._score_modes)}. Received: score_mode={score_mode!r}")
        if not 0 <= dropout <= 1:
            raise ValueError(f"{type(self).__name__}: `dropout` must be in [0, 1], got {dropout!r}")
        self.use_scale = bool(use_scale)
        self.score_mode = score_mode
        self.dropout = float(dropout)
        self.seed = seed
        self._rng = np.random.default_rng(seed) if seed is not None else None
        self.supports_masking = True
        self._return_scores = False

    def build(self, input_shape):
        self._validate(input_shape, None, shapes=True)
        self.scale = None
        self.concat_score_weight = None
        if self.use_scale:
            self.scale = self.add_weight(name="scale", shape=(), initializer="ones")
        if self.score_mode == "concat":
            self.concat_score_weight = self.add_weight(name="concat_score_weight", shape=(), initializer="ones")
        self.built = True

    def _scores(self, query, key):
        if self.score_mode == "dot":
            rank = len(key.shape)
            swap = list(range(rank - 2)) + [rank - 1, rank - 2]
            scores = ops.matmul(query, ops.transpose(key, swap))
            return scores if self.scale is None else ops.multiply(scores, self.scale)
        pairs = ops.add(ops.expand_dims(query, -2), ops.expand_dims(key, -3))  # (batch, Tq, Tv, dim)
        if self.scale is not None:
            pairs = ops.multiply(pairs, self.scale)
        return ops.multiply(ops.sum(ops.tanh(pairs), axis=-1), self.concat_score_weight)

    def call(self, inputs, mask=None, training=None, return_attention_scores=False, use_causal_mask=False):
        self._validate(inputs, mask)
        query, value = inputs[0], inputs[1]
        key = inputs[2] if len(inputs) > 2 else value
        q_mask = mask[0] if mask else None
        v_mask = mask[1] if mask else None
        scores = self._scores(query, key)
        keep = None if v_mask is None else ops.expand_dims(_mask_tensor(v_mask, scores.dtype), -2)  # (B, 1, Tv)
        if use_causal_mask:
            tq, tv = scores.shape[-2], scores.shape[-1]
            causal = convert_to_tensor(np.tril(np.ones((1, tq, tv), scores.dtype)))
            keep = causal if keep is None else ops.multiply(keep, causal)
        if keep is not None:  # masked scores lose 1e9 (as Keras), leaving them ~0 after the softmax
            scores = ops.subtract(scores, ops.multiply(ops.subtract(1.0, keep), 1e9))
        weights = ops.softmax(scores, axis=-1)
        if training and self.dropout > 0:
            seed = int(self._rng.integers(0, 2**63 - 1)) if self._rng is not None else None
            weights = ops.dropout(weights, self.dropout, seed=seed)
        output = ops.matmul(weights, value)
        if q_mask is not None:
            output = ops.multiply(output, ops.expand_dims(_mask_tensor(q_mask, output.dtype), -1))
        if return_attention_scores:
            return output, weights
        return output

    def _validate(self, inputs, mask, shapes=False):
        name = type(self).__name__
        single_shape = shapes and not all(isinstance(s, (list, tuple)) for s in inputs or [None])
        if not isinstance(inputs, (list, tuple)) or single_shape:
            raise ValueError(f"{name} layer '{self.name}' must be called on a list of inputs, namely [query, value] "
                             f"or [query, value, key]. Received: {inputs!r}")
        if not 2 <= len(inputs) <= 3:
            raise ValueError(f"{name} layer '{self.name}' accepts inputs list of length 2 or 3, namely [query, "
                             f"value] or [query, value, key]. Received length: {len(inputs)}")
        dims = [tuple(s if shapes else s.shape) for s in inputs]
        query, value = dims[0], dims[1]
        key = dims[2] if len(dims) > 2 else value
        if len(query) < 3 or len(value) != len(query) or len(key) != len(query):
            raise ValueError(f"{name} layer '{self.name}': query, value and key must be (batch, steps, dim) tensors "
                             f"of one rank; got shapes {dims}")
        if key[-2] is not None and value[-2] is not None and key[-2] != value[-2]:
            raise ValueError(f"{name} layer '{self.name}': key and value must have the same number of steps; got "
                             f"key {key} and value {value}")
        if query[-1] is not None and key[-1] is not None and query[-1] != key[-1]:
            raise ValueError(f"{name} layer '{self.name}': query and key must have the same last dimension; got "
                             f"query {query} and key {key}")
        if mask is not None and (not isinstance(mask, (list, tuple)) or not 2 <= len(mask) <= 3):
            raise ValueError(f"{name} layer '{self.name}' mask must be a list, namely [query_mask, value_mask]. "
                             f"Received: mask={mask!r}")

    def compute_mask(self, inputs, mask=None):
        if mask is None or mask[0] is None:
            return None
        return mask[0]

    def _symbolic_call(self, inputs, *args, **kwargs):
        self._return_scores = bool(kwargs.get("return_attention_scores"))
        try:
            return super()._symbolic_call(inputs, *args, **kwargs)
        finally:
            self._return_scores = False

    def compute_output_shape(self, input_shape):
        query, value = tuple(input_shape[0]), tuple(input_shape[1])
        key = tuple(input_shape[2]) if len(input_shape) > 2 else value
        out = query[:-1] + (value[-1],)
        if self._return_scores:
            return [out, query[:-1] + (key[-2],)]
        return out

    _config_attrs = ("use_scale", "score_mode", "dropout", "seed")


class AdditiveAttention(Attention):
    """Additive (Bahdanau) attention: scores = sum(scale * tanh(query + key)) over the last axis,
    with a learned per-dimension `scale` (glorot_uniform) when use_scale."""

    _score_modes = ("dot",)

    def __init__(self, use_scale=True, dropout=0.0, **kwargs):
        kwargs.pop("score_mode", None)
        super().__init__(use_scale=use_scale, dropout=dropout, **kwargs)

    def build(self, input_shape):
        self._validate(input_shape, None, shapes=True)
        dim = input_shape[0][-1]
        if dim is None:
            raise ValueError(f"AdditiveAttention layer '{self.name}': the last axis of the query must be known, got "
                             f"{tuple(input_shape[0])}")
        self.scale = None
        self.concat_score_weight = None
        if self.use_scale:
            self.scale = self.add_weight(name="scale", shape=(dim,), initializer="glorot_uniform")
        self.built = True

    def _scores(self, query, key):
        t = ops.tanh(ops.add(ops.expand_dims(query, -2), ops.expand_dims(key, -3)))  # (batch, Tq, Tv, dim)
        return ops.sum(t if self.scale is None else ops.multiply(t, self.scale), axis=-1)

    def get_config(self):
        config = super().get_config()
        del config["score_mode"]
        return config
