"""BatchNormalization and LayerNormalization (native kernels forward and backward)."""
import warnings

import numpy as np

from kcore import ops
from kcore.layers.layer import Layer
from kcore.layers.weight_options import set_weight_options, weight_options_config
from kcore.ops.nn import assign_moving_average


class BatchNormalization(Layer):
    """Training: normalise with the batch mean and biased variance, and update the moving statistics
    (moving = moving * momentum + batch * (1 - momentum)). Inference, or trainable=False: use them.
    Under a kcore.distribution.DataParallel each rank uses its local batch's statistics, unless
    `synchronized=True`: then the statistics are those of the global batch (reduced over the ranks)."""

    _float32_compute = True  # under mixed_bfloat16: float32 statistics and weights, output in bfloat16 (Keras)

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 synchronized=False, renorm=False, renorm_clipping=None, renorm_momentum=0.99, **kwargs):
        super().__init__(**kwargs)
        if renorm:
            raise NotImplementedError(f"BatchNormalization(renorm=True): batch renormalization is not supported by "
                                      f"kcore (renorm_clipping={renorm_clipping!r}); use renorm=False")
        self.renorm, self.renorm_clipping, self.renorm_momentum = False, renorm_clipping, renorm_momentum
        self.synchronized = bool(synchronized)
        if isinstance(axis, (list, tuple)) and len(axis) == 1:
            axis = axis[0]
        if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
            raise TypeError(f"BatchNormalization: expected an int (or a list/tuple holding one int) for the "
                            f"argument 'axis', but received: {axis!r}")
        self.axis = int(axis)
        self.momentum, self.epsilon, self.center, self.scale = float(momentum), float(epsilon), center, scale
        set_weight_options(self, beta_initializer=beta_initializer, gamma_initializer=gamma_initializer,
                           moving_mean_initializer=moving_mean_initializer,
                           moving_variance_initializer=moving_variance_initializer, beta_regularizer=beta_regularizer,
                           gamma_regularizer=gamma_regularizer, beta_constraint=beta_constraint,
                           gamma_constraint=gamma_constraint)
        self.supports_masking = True

    def build(self, input_shape):
        rank = len(input_shape)
        if not -rank <= self.axis < rank:
            raise ValueError(f"Layer '{self.name}' (BatchNormalization): axis {self.axis} is out of bounds for "
                             f"input shape {tuple(input_shape)} (rank {rank}); expected an axis in "
                             f"[{-rank}, {rank}) of an input of rank >= 1")
        channels = input_shape[self.axis]
        if channels is None:
            raise ValueError(f"Layer '{self.name}': the normalised axis {self.axis} of input shape {input_shape} "
                             "must be known")
        shape = (channels,)
        self.gamma = self.add_weight("gamma", shape, self.gamma_initializer, regularizer=self.gamma_regularizer,
                                     constraint=self.gamma_constraint) if self.scale else None
        self.beta = self.add_weight("beta", shape, self.beta_initializer, regularizer=self.beta_regularizer,
                                    constraint=self.beta_constraint) if self.center else None
        self.moving_mean = self.add_weight("moving_mean", shape, self.moving_mean_initializer, trainable=False)
        self.moving_variance = self.add_weight("moving_variance", shape, self.moving_variance_initializer,
                                               trainable=False)
        self.built = True

    def call(self, inputs, training=None, mask=None):
        if mask is not None and len(mask.shape) != len(inputs.shape) - 1:
            raise ValueError(f"Layer '{self.name}': the mask should have one dimension less than the inputs. "
                             f"Received: mask.shape={tuple(mask.shape)}, inputs.shape={tuple(inputs.shape)}")
        if training and self.trainable:
            if mask is not None:
                return self._masked_training_call(inputs, mask)
            if self.synchronized:
                from kcore.distribution._context import current_batch

                batch = current_batch()
                if batch is not None and batch.comm.size > 1:
                    return self._synchronized_training_call(inputs, batch)
            y, mean, var = ops.batch_normalization_training(inputs, self.gamma, self.beta, self.axis, self.epsilon)
            self._update_moving(self.moving_mean, mean)
            self._update_moving(self.moving_variance, var)
            return y
        return ops.batch_normalization(inputs, self.moving_mean, self.moving_variance, self.axis, self.beta,
                                       self.gamma, self.epsilon)

    def _masked_training_call(self, inputs, mask):
        """Batch statistics over the unmasked steps only (Keras 3): mean = sum(x * m) / (count + 1e-7), the
        variance likewise over (x - mean) on kept steps; masked steps are still normalised with them."""
        rank = inputs.ndim
        axis = self.axis % rank
        axes = tuple(a for a in range(rank) if a != axis)
        m = np.asarray(mask.numpy() if hasattr(mask, "numpy") else mask).astype(inputs.dtype)[..., None]
        weights = np.broadcast_to(m, inputs.shape).astype(inputs.dtype)
        count = weights.sum(axis=axes, keepdims=True) + 1e-7
        mean = ops.divide(ops.sum(ops.multiply(inputs, weights), axis=axes, keepdims=True), count)
        centred = ops.subtract(inputs, mean)
        var = ops.divide(ops.sum(ops.square(ops.multiply(centred, weights)), axis=axes, keepdims=True), count)
        return self._normalize_with(inputs, mean, var, axis)

    def _normalize_with(self, inputs, mean, var, axis):
        """(x - mean) / sqrt(var + eps) * gamma + beta with keepdims statistics; updates the moving ones."""
        y = ops.divide(ops.subtract(inputs, mean), ops.sqrt(ops.add(var, self.epsilon)))
        shape = [1] * inputs.ndim
        shape[axis] = inputs.shape[axis]
        if self.gamma is not None:
            y = ops.multiply(y, ops.reshape(self.gamma, shape))
        if self.beta is not None:
            y = ops.add(y, ops.reshape(self.beta, shape))
        channels = (inputs.shape[axis],)
        self._update_moving(self.moving_mean, ops.reshape(mean, channels))
        self._update_moving(self.moving_variance, ops.reshape(var, channels))
        return y

    def _synchronized_training_call(self, inputs, batch):
        from kcore.distribution.collective_ops import synchronized_moments

        rank = inputs.ndim
        axis = self.axis % rank
        mean, var = synchronized_moments(inputs, tuple(a for a in range(rank) if a != axis), batch)
        return self._normalize_with(inputs, mean, var, axis)

    def _update_moving(self, variable, batch_value):
        assign_moving_average(variable, batch_value, self.momentum)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale,
                **weight_options_config(self, "beta", "gamma", "moving_mean", "moving_variance",
                                        kinds=("initializer",)),
                **weight_options_config(self, "beta", "gamma", kinds=("regularizer", "constraint")),
                "synchronized": self.synchronized, "renorm": self.renorm, "renorm_clipping": self.renorm_clipping,
                "renorm_momentum": self.renorm_momentum}


class LayerNormalization(Layer):
    """Normalises each sample over `axis` with the biased variance; epsilon 1e-3.

    `axis` is an int or a list/tuple of ints, negative ones counting from the end; gamma and
    beta have the shape of the normalised axes, taken in Keras's order (the axis values sorted).
    """

    _float32_compute = True  # under mixed_bfloat16: computed in float32, output in bfloat16 (Keras)

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True, rms_scaling=False, beta_initializer="zeros",
                 gamma_initializer="ones", beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, **kwargs):
        super().__init__(**kwargs)
        if rms_scaling:
            warnings.warn("LayerNormalization(rms_scaling=True) is deprecated in Keras 3: it scales the input by "
                          "its variance, not its root mean square (kept for compatibility)", stacklevel=2)
        self.rms_scaling = bool(rms_scaling)
        if isinstance(axis, (list, tuple)) and all(isinstance(a, int) and not isinstance(a, bool) for a in axis):
            axis = list(axis)
        elif not isinstance(axis, int) or isinstance(axis, bool):
            raise TypeError(f"LayerNormalization: expected an int or a list/tuple of ints for the argument 'axis', "
                            f"but received: {axis!r}")
        self.axis = axis
        self.epsilon, self.center, self.scale = float(epsilon), center, scale
        set_weight_options(self, beta_initializer=beta_initializer, gamma_initializer=gamma_initializer,
                           beta_regularizer=beta_regularizer, gamma_regularizer=gamma_regularizer,
                           beta_constraint=beta_constraint, gamma_constraint=gamma_constraint)
        self.supports_masking = True

    def _axes(self, input_shape):
        """(axes as given, sorted: they order gamma's shape; the same axes as sorted non-negative positions)."""
        rank = len(input_shape)
        given = sorted(self.axis if isinstance(self.axis, list) else [self.axis])
        for a in given:
            if not -rank <= a < rank:
                raise ValueError(f"Layer '{self.name}': axis {a} is out of bounds for input shape "
                                 f"{tuple(input_shape)}. Received: axis={self.axis}")
        positions = sorted(a % rank for a in given)
        if not given or len(set(positions)) != len(positions):
            raise ValueError(f"Layer '{self.name}': axis must name distinct axes of the input (shape "
                             f"{tuple(input_shape)}). Received: axis={self.axis}")
        return given, positions

    def build(self, input_shape):
        given, positions = self._axes(input_shape)
        shape = tuple(input_shape[a] for a in given)
        if any(d is None for d in shape):
            raise ValueError(f"Layer '{self.name}': the normalised axes must have known sizes, got input shape "
                             f"{tuple(input_shape)} with axis={self.axis}")
        self.gamma = self.add_weight("gamma", shape, self.gamma_initializer, regularizer=self.gamma_regularizer,
                                     constraint=self.gamma_constraint) if self.scale or self.rms_scaling else None
        self.beta = self.add_weight("beta", shape, self.beta_initializer, regularizer=self.beta_regularizer,
                                    constraint=self.beta_constraint) if self.center and not self.rms_scaling else None
        self._norm_size = int(np.prod(shape))
        self.axis = given  # Keras keeps the sorted list once built (its config then shows a list)
        self.built = True

    def call(self, inputs):
        rank = inputs.ndim
        _, positions = self._axes(inputs.shape)
        if self.rms_scaling:
            return self._variance_scaled(inputs, positions)
        trailing = positions == list(range(rank - len(positions), rank))
        if trailing and len(positions) == 1:
            return ops.layer_normalization(inputs, self.gamma, self.beta, self._norm_size, self.epsilon)
        # The normalised axes are moved last (in position order); gamma's values are laid over them in
        # that order, as Keras reshapes gamma onto the input's axes.
        gamma = None if self.gamma is None else ops.reshape(self.gamma, [self._norm_size])
        beta = None if self.beta is None else ops.reshape(self.beta, [self._norm_size])
        if trailing:
            return ops.layer_normalization(inputs, gamma, beta, self._norm_size, self.epsilon)
        perm = [d for d in range(rank) if d not in positions] + positions
        y = ops.layer_normalization(ops.transpose(inputs, perm), gamma, beta, self._norm_size, self.epsilon)
        return ops.transpose(y, list(np.argsort(perm)))

    def _variance_scaled(self, inputs, positions):
        """Keras 3's deprecated rms_scaling: x / sqrt(var(x) + epsilon) * gamma (no centring, no beta)."""
        centred = ops.subtract(inputs, ops.mean(inputs, axis=tuple(positions), keepdims=True))
        variance = ops.mean(ops.square(centred), axis=tuple(positions), keepdims=True)
        outputs = ops.divide(inputs, ops.sqrt(ops.add(variance, self.epsilon)))
        if self.gamma is None:
            return outputs
        shape = [inputs.shape[d] if d in positions else 1 for d in range(inputs.ndim)]
        return ops.multiply(outputs, ops.reshape(self.gamma, shape))

    def compute_output_shape(self, input_shape):
        self._axes(input_shape)
        return input_shape

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon, "center": self.center,
                "scale": self.scale, "rms_scaling": self.rms_scaling, **weight_options_config(self, "beta", "gamma")}


class GroupNormalization(Layer):
    """Normalises each sample over groups of channels (`groups` of them along `axis`, -1 for one channel per group:
    instance normalization) and the other non-batch axes, with the biased variance; gamma and beta per channel."""

    _float32_compute = True

    def __init__(self, groups=32, axis=-1, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, **kwargs):
        if not isinstance(groups, int) or isinstance(groups, bool) or (groups <= 0 and groups != -1):
            raise ValueError(f"Received an invalid value for argument `groups`, expected a positive integer (or `-1` "
                             f"for instance normalization). Received: groups={groups}")
        super().__init__(**kwargs)
        self.groups, self.axis, self.epsilon, self.center, self.scale = groups, axis, float(epsilon), center, scale
        set_weight_options(self, beta_initializer=beta_initializer, gamma_initializer=gamma_initializer,
                           beta_regularizer=beta_regularizer, gamma_regularizer=gamma_regularizer,
                           beta_constraint=beta_constraint, gamma_constraint=gamma_constraint)
        self.supports_masking = True

    def build(self, input_shape):
        rank = len(input_shape)
        if not -rank <= self.axis < rank or self.axis % rank == 0:
            raise ValueError(f"Layer '{self.name}': axis {self.axis} is not a non-batch axis of inputs of shape "
                             f"{tuple(input_shape)}")
        channels = input_shape[self.axis]
        if channels is None:
            raise ValueError(f"Axis {self.axis} of input tensor should have a defined dimension but the layer "
                             f"received an input with shape {tuple(input_shape)}.")
        if self.groups == -1:
            self.groups = channels
        if channels < self.groups:
            raise ValueError(f"Number of groups ({self.groups}) cannot be more than the number of channels "
                             f"({channels}).")
        if channels % self.groups:
            raise ValueError(f"Number of groups ({self.groups}) must be a multiple of the number of channels "
                             f"({channels}).")
        self.gamma = self.add_weight("gamma", (channels,), self.gamma_initializer, regularizer=self.gamma_regularizer,
                                     constraint=self.gamma_constraint) if self.scale else None
        self.beta = self.add_weight("beta", (channels,), self.beta_initializer, regularizer=self.beta_regularizer,
                                    constraint=self.beta_constraint) if self.center else None
        self.built = True

    def call(self, inputs):
        rank = inputs.ndim
        axis = self.axis % rank
        shape = list(inputs.shape)
        grouped = shape[:axis] + [self.groups, shape[axis] // self.groups] + shape[axis + 1:]
        x = ops.reshape(inputs, grouped)
        reduce = tuple(d for d in range(1, rank + 1) if d != axis)
        mean = ops.mean(x, axis=reduce, keepdims=True)
        variance = ops.mean(ops.square(ops.subtract(x, mean)), axis=reduce, keepdims=True)
        inverse = ops.reciprocal(ops.sqrt(ops.add(variance, self.epsilon)))
        per_channel = [1] * (rank + 1)
        per_channel[axis], per_channel[axis + 1] = self.groups, shape[axis] // self.groups
        if self.gamma is not None:
            inverse = ops.multiply(inverse, ops.reshape(self.gamma, per_channel))
        shift = ops.negative(ops.multiply(mean, inverse))
        if self.beta is not None:
            shift = ops.add(shift, ops.reshape(self.beta, per_channel))
        return ops.reshape(ops.add(ops.multiply(x, inverse), shift), shape)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "groups": self.groups, "axis": self.axis, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale, **weight_options_config(self, "beta", "gamma")}


class RMSNormalization(Layer):
    """x / sqrt(mean(x^2 over `axis`) + epsilon) * scale (root-mean-square normalization, epsilon 1e-6)."""

    _float32_compute = True

    def __init__(self, axis=-1, epsilon=1e-6, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)):
            axis = list(axis)
        elif not isinstance(axis, int) or isinstance(axis, bool):
            raise TypeError(f"RMSNormalization: expected an int or a list of ints for `axis`, got {axis!r}")
        self.axis, self.epsilon = axis, float(epsilon)

    def build(self, input_shape):
        rank = len(input_shape)
        axes = sorted(self.axis) if isinstance(self.axis, list) else [self.axis]
        for a in axes:
            if not -rank <= a < rank:
                raise ValueError(f"Axis {a} is out of bounds for input shape {tuple(input_shape)}. "
                                 f"Received: axis={self.axis}")
        self.axis = axes  # Keras keeps the sorted list once built
        self.scale = self.add_weight("scale", tuple(input_shape[a] for a in axes), "ones")
        self.built = True

    def call(self, x):
        rank = x.ndim
        positions = [a % rank for a in self.axis]
        mean_square = ops.mean(ops.square(x), axis=tuple(positions), keepdims=True)
        normalized = ops.multiply(x, ops.reciprocal(ops.sqrt(ops.add(mean_square, self.epsilon))))
        shape = [x.shape[d] if d in positions else 1 for d in range(rank)]
        return ops.multiply(normalized, ops.reshape(self.scale, shape))

    def compute_output_shape(self, input_shape):
        return input_shape

    _config_attrs = ("axis", "epsilon")
