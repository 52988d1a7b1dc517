"""Embedding (integer ids -> dense vectors, native gather / scatter-add) and Masking."""
import numpy as np

from kcore import constraints, initializers, ops, regularizers
from kcore.backend.tensor import Tensor, convert_to_tensor
from kcore.layers.layer import Layer


class Embedding(Layer):
    """Turns integer ids of shape (batch, ...) into vectors of shape (batch, ..., output_dim).

    mask_zero=True makes id 0 padding: the output carries the mask `inputs != 0` for the
    layers downstream (recurrent layers skip masked steps). `input_length` (Keras 2) fixes
    the time length; inputs of another length are rejected.
    """

    _keeps_int_inputs = True

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform", embeddings_regularizer=None,
                 embeddings_constraint=None, mask_zero=False, weights=None, input_length=None, **kwargs):
        for option in ("lora_rank", "lora_alpha", "sparse", "quantization_config"):
            value = kwargs.pop(option, None)
            if value not in (None, False):
                raise NotImplementedError(f"Embedding({option}={value!r}): LoRA, sparse gradients and quantization "
                                          f"are not supported by kcore; leave {option} unset")
        if input_length is not None and not any(k in kwargs for k in ("input_shape", "batch_input_shape")):
            kwargs["batch_input_shape"] = (kwargs.pop("batch_size", None), input_length)
        super().__init__(**kwargs)
        self.input_dim = _positive_int(input_dim, "input_dim")
        self.output_dim = _positive_int(output_dim, "output_dim")
        self.input_length = None if input_length is None else _positive_int(input_length, "input_length")
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = bool(mask_zero)
        self.supports_masking = self.mask_zero
        self.autocast = False  # as Keras: ids are never cast, the table is read as is, the output is cast
        if weights is not None:
            # The table's shape is known now: build and load at once, so get_weights() right after
            # construction (or in a Sequential before any call) returns these values, as in Keras.
            if not (isinstance(weights, (list, tuple)) and len(weights) == 1):
                weights = [weights]
            self.build()
            self.set_weights([np.asarray(w.numpy() if isinstance(w, Tensor) else w) for w in weights])

    def build(self, input_shape=None):
        if self.built:
            return
        self.embeddings = self.add_weight(name="embeddings", shape=(self.input_dim, self.output_dim),
                                          initializer=self.embeddings_initializer,
                                          regularizer=self.embeddings_regularizer,
                                          constraint=self.embeddings_constraint)
        self.built = True

    def call(self, inputs):
        out = ops.take(self.embeddings, self._ids(inputs))
        return out if out.dtype == self.compute_dtype else ops.cast(out, self.compute_dtype)

    def _ids(self, inputs):
        ids = inputs
        if isinstance(ids, Tensor) and not ids.dtype.startswith("int"):
            ids = ids.numpy()
        if not isinstance(ids, Tensor):
            arr = np.asarray(ids)
            if arr.dtype.kind == "f":
                if np.any(arr != np.round(arr)):
                    raise ValueError(f"Layer '{self.name}' expects integer ids, got non-integer values")
                arr = arr.astype(np.int64)
            elif arr.dtype.kind not in "iu":
                raise TypeError(f"Layer '{self.name}' expects integer ids, got dtype {arr.dtype}")
            ids = convert_to_tensor(np.ascontiguousarray(arr, dtype=np.int64))
        if self.input_length is not None and (ids.ndim < 2 or ids.shape[1] != self.input_length):
            raise ValueError(f"Layer '{self.name}' was built with input_length={self.input_length}, but received "
                             f"input of shape {tuple(ids.shape)} (expected (batch, {self.input_length}))")
        return ids

    def compute_mask(self, inputs, mask=None):
        if not self.mask_zero:
            return None
        values = inputs.numpy() if isinstance(inputs, Tensor) else np.asarray(inputs)
        return convert_to_tensor(np.ascontiguousarray(values != 0, dtype=np.int32))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def get_config(self):
        config = super().get_config()
        config.update({
            "input_dim": self.input_dim, "output_dim": self.output_dim,
            "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
            "embeddings_regularizer": regularizers.serialize(self.embeddings_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "embeddings_constraint": constraints.serialize(self.embeddings_constraint),
            "mask_zero": self.mask_zero, "quantization_config": None,
        })
        if self.input_length is not None:
            config["input_length"] = self.input_length
            config.pop("batch_input_shape", None)
        return config


class Masking(Layer):
    """Masks time steps whose features all equal mask_value (and zeroes them in the output)."""

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        try:
            self.mask_value = float(mask_value)
        except (TypeError, ValueError):
            raise TypeError(f"Masking: mask_value must be a number, got {mask_value!r}") from None
        self.supports_masking = True

    def _keep(self, inputs):
        values = inputs.numpy() if isinstance(inputs, Tensor) else np.asarray(inputs)
        return np.any(values != self.mask_value, axis=-1)

    def call(self, inputs):
        keep = self._keep(inputs).astype(inputs.dtype)[..., None]
        return ops.multiply(inputs, convert_to_tensor(np.ascontiguousarray(keep)))

    def compute_mask(self, inputs, mask=None):
        return convert_to_tensor(np.ascontiguousarray(self._keep(inputs), dtype=np.int32))

    def compute_output_shape(self, input_shape):
        return input_shape

    _config_attrs = ("mask_value",)


def _positive_int(value, name):
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"Embedding: {name} must be a positive integer, got {value!r}")
    return int(value)
