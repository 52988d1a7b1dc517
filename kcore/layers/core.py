"""Core layers: Dense, Activation, ReLU, Dropout, Flatten, Reshape, Lambda."""
import numpy as np

from kcore import activations, ops
from kcore.layers.layer import InputSpec, Layer
from kcore.layers.weight_options import set_weight_options, weight_options_config
from kcore.ops import core as ops_core  # Dense.call: the unwrapped op (errors are named by the layer)


class Dense(Layer):
    """y = activation(x @ kernel + bias); kernel (in, units), bias (units,)."""

    activation = activations.ActivationAttribute()

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, lora_rank=None, lora_alpha=None, quantization_config=None, **kwargs):
        super().__init__(**kwargs)
        for option, value in (("lora_rank", lora_rank), ("quantization_config", quantization_config)):
            if value is not None:
                raise NotImplementedError(f"Dense({option}={value!r}): LoRA and quantization are not supported by "
                                          f"kcore; leave {option}=None")
        if not isinstance(units, (int, np.integer)) or isinstance(units, bool) or units <= 0:
            raise ValueError(f"Received an invalid value for `units`, expected a positive integer. Received: "
                             f"units={units!r}")
        self.units = int(units)
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        set_weight_options(self, kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                           kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                           kernel_constraint=kernel_constraint, bias_constraint=bias_constraint)
        self.input_spec = InputSpec(min_ndim=2)
        self.supports_masking = True

    def build(self, input_shape):
        in_dim = input_shape[-1]
        if in_dim is None:
            raise ValueError(f"Layer '{self.name}': the last dimension of the input must be known, got {input_shape}")
        self.kernel = self.add_weight("kernel", (in_dim, self.units), self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.bias = (self.add_weight("bias", (self.units,), self.bias_initializer, regularizer=self.bias_regularizer,
                                     constraint=self.bias_constraint) if self.use_bias else None)
        self.input_spec = InputSpec(min_ndim=2, axes={-1: in_dim})
        self.built = True

    def call(self, inputs):
        return self.activation(ops_core.linear(inputs, self.kernel, self.bias))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        config = super().get_config()
        config.update({
            "units": self.units, "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
            **weight_options_config(self, "kernel", "bias"), "quantization_config": None,
        })
        return config


class Activation(Layer):
    """Applies an activation function (a name, a callable, or None for linear)."""

    activation = activations.ActivationAttribute()

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)
        self.supports_masking = True

    def call(self, inputs):
        return self.activation(inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config["activation"] = activations.serialize(self.activation)
        return config


class Dropout(Layer):
    """Inverted dropout, active only in training: kept units are scaled by 1 / (1 - rate)."""

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(rate, (bool, np.bool_)) or not isinstance(rate, (int, float, np.integer, np.floating)):
            raise TypeError(f"Invalid value received for argument `rate`. Expected a float value between 0 and 1. "
                            f"Received: rate={rate!r}")
        if not 0 <= rate <= 1:
            raise ValueError(f"Invalid value received for argument `rate`. Expected a float value between 0 and 1. "
                             f"Received: rate={rate}")
        self.rate = float(rate)
        self.noise_shape = noise_shape
        self.seed = seed
        self._rng = np.random.default_rng(seed) if seed is not None else None
        self.supports_masking = True

    def call(self, inputs, training=None):
        if not training or self.rate == 0:
            return inputs
        if self.rate == 1:
            return ops.multiply(inputs, 0.0)
        seed = int(self._rng.integers(0, 2**63 - 1)) if self._rng is not None else None
        return ops.dropout(inputs, self.rate, self._noise_shape(inputs), seed)

    def _noise_shape(self, inputs):
        if self.noise_shape is None:
            return None
        return [inputs.shape[i] if d is None else d for i, d in enumerate(self.noise_shape)]

    def compute_output_shape(self, input_shape):
        return input_shape

    _config_attrs = ("rate", "noise_shape", "seed")


class Flatten(Layer):
    """Flattens every axis but the batch axis (channels_first inputs are moved to channels_last first, as Keras)."""

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        from kcore.backend.config import image_data_format

        self.data_format = data_format or image_data_format()
        self.input_spec = InputSpec(min_ndim=1)

    def call(self, inputs):
        if self.data_format == "channels_first" and inputs.ndim > 2:
            inputs = ops.transpose(inputs, [0] + list(range(2, inputs.ndim)) + [1])
        return ops.reshape(inputs, [inputs.shape[0], -1])

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        size = None if any(d is None for d in rest) else int(np.prod(rest)) if rest else 1
        return (input_shape[0], size)

    _config_attrs = ("data_format",)


class Reshape(Layer):
    """Reshapes the non-batch axes to `target_shape` (one -1 allowed)."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        if isinstance(target_shape, (int, np.integer)):
            target_shape = (target_shape,)
        if not isinstance(target_shape, (tuple, list)):
            raise TypeError(f"Reshape: target_shape must be a tuple of integers, got {target_shape!r}")
        target_shape = tuple(target_shape)
        if sum(1 for d in target_shape if d == -1) > 1:
            raise ValueError(f"Reshape: target_shape {target_shape} may contain at most one -1")
        if any((not isinstance(d, (int, np.integer))) or (d < 1 and d != -1) for d in target_shape):
            raise ValueError(f"Reshape: target_shape must be positive integers (one -1 allowed), got {target_shape}")
        self.target_shape = target_shape

    def _resolve(self, input_shape):
        rest = input_shape[1:]
        if any(d is None for d in rest):
            return self.target_shape
        size = int(np.prod(rest))
        known = int(np.prod([d for d in self.target_shape if d != -1]))
        if -1 in self.target_shape:
            if known == 0 or size % known:
                raise ValueError(f"Layer '{self.name}': cannot reshape an input of shape {tuple(input_shape)} "
                                 f"({size} values per sample) to target_shape {self.target_shape}")
            return tuple(size // known if d == -1 else d for d in self.target_shape)
        if known != size:
            raise ValueError(f"Layer '{self.name}': total size of the new array must be unchanged: input shape "
                             f"{tuple(input_shape)} has {size} values per sample, target_shape "
                             f"{self.target_shape} has {known}")
        return self.target_shape

    def call(self, inputs):
        if inputs.ndim == 0:
            raise ValueError(f"Layer '{self.name}' needs inputs with a batch axis, got a 0-d (scalar) input")
        return ops.reshape(inputs, (inputs.shape[0],) + self._resolve(inputs.shape))

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + self._resolve(input_shape)

    _config_attrs = ("target_shape",)


class Lambda(Layer):
    """Wraps a function of tensors as a layer.

    Saved like Keras 3 does: a Python lambda as its bytecode (loading it needs `safe_mode=False`),
    a named function by its registered name (see kcore.saving.register_keras_serializable)."""

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(f"Lambda: `function` must be callable, got {type(function).__name__}: {function!r:.80}")
        self.function = function
        self._given_output_shape = tuple(output_shape) if isinstance(output_shape, list) else output_shape
        self.mask = mask
        self.arguments = arguments or {}

    def call(self, inputs):
        return self.function(inputs, **self.arguments)

    def compute_mask(self, inputs, mask=None):
        if callable(self.mask):
            return self.mask(inputs, mask)
        return self.mask

    def compute_output_shape(self, input_shape):
        if self._given_output_shape is None:
            return super().compute_output_shape(input_shape)
        if callable(self._given_output_shape):
            return self._given_output_shape(input_shape)
        return (input_shape[0],) + tuple(self._given_output_shape)

    def get_config(self):
        from kcore.saving.objects import _plain

        config = super().get_config()
        config["function"] = _function_config(self.function)
        if self._given_output_shape is not None:
            shape = self._given_output_shape
            config["output_shape"] = _function_config(shape) if callable(shape) else list(shape)
        if self.mask is not None:
            config["mask"] = _function_config(self.mask) if callable(self.mask) else _plain(self.mask)
        config["arguments"] = _plain(self.arguments)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None, safe_mode=None):
        """Rebuilds the layer; a stored Python lambda is refused unless safe mode is off."""
        from kcore.saving.objects import deserialize_keras_object

        config = dict(config)
        where = f"Lambda layer '{config.get('name')}'"
        for key in ("function", "output_shape", "mask"):
            value = config.get(key)
            if isinstance(value, dict) and value.get("class_name") == "__lambda__":
                from kcore.saving.function_code import load_function

                config[key] = load_function(value, f"{where} ({key})", safe_mode)
            elif isinstance(value, dict) or (key == "function" and isinstance(value, str)):
                config[key] = deserialize_keras_object(value, custom_objects)
        if "function" not in config:
            raise ValueError(f"{where}: the config has no 'function'")
        if not callable(config["function"]):
            raise ValueError(f"{where}: the function {config['function']!r:.80} cannot be found. Register it with "
                             "kcore.saving.register_keras_serializable() or pass it in `custom_objects`")
        config["arguments"] = deserialize_keras_object(config.get("arguments"), custom_objects)
        return super().from_config(config)


def _function_config(fn):
    from kcore.saving.function_code import dump_function, is_lambda
    from kcore.saving.objects import serialize_function

    return dump_function(fn) if is_lambda(fn) else serialize_function(fn)
