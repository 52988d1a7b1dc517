"""The Layer base class: weights, building from the first input shape, eager and symbolic calls."""
import functools
import inspect
import threading
import weakref

import numpy as np

from kcore import dtype_policies, initializers
from kcore.backend.sizes import shape_arg
from kcore.backend.tensor import Tensor, Variable, check_numeric, convert_to_tensor
from kcore.layers import autocast as _autocast
from kcore.layers.autocast import SUBSTITUTES as _SUBSTITUTES
from kcore.layers.keras_tensor import KerasTensor, Node, any_symbolic, flatten, map_structure
from kcore.utils import naming
from kcore.utils.errors import name_error

_LEGACY_INPUT_KWARGS = ("input_shape", "batch_input_shape", "batch_size", "input_dim", "input_length")


class _CallContext(threading.local):
    """In this thread, `frame` = [depth, training]: how deep the eager calls nest (the outermost call clears
    the losses its layers added last time, as Keras does) and the `training` flag of the outermost call,
    inherited by nested layers. One list, so a layer call reads the thread-local state once."""

    def __init__(self):
        self.frame = [0, None]


CALL_CONTEXT = _CallContext()
# The layers whose `_losses` are not empty (id -> weak reference): when there are none, a call has nothing
# to clear. A plain dict, so the per-call test is one C-level truth check.
LOSS_HOLDERS = {}


def _hold_losses(layer):
    key = id(layer)
    if key not in LOSS_HOLDERS:
        LOSS_HOLDERS[key] = weakref.ref(layer, lambda _ref: LOSS_HOLDERS.pop(key, None))


def drop_losses(layer):
    """Empties `layer._losses` (the losses of its last call)."""
    layer._losses.clear()
    LOSS_HOLDERS.pop(id(layer), None)


class InputSpec:
    """What a layer accepts: rank (ndim / min_ndim) and fixed sizes on some axes."""

    def __init__(self, ndim=None, min_ndim=None, axes=None):
        self.ndim, self.min_ndim, self.axes = ndim, min_ndim, dict(axes or {})

    def check(self, layer, shape):
        rank = len(shape)
        missing_one = rank + 1 in (self.ndim, self.min_ndim)
        hint = " (is the batch axis, a time axis or a channel axis missing?)" if missing_one else ""
        if self.ndim is not None and rank != self.ndim:
            raise ValueError(f"Input 0 of layer '{layer.name}' is incompatible with the layer: expected "
                             f"ndim={self.ndim}, found ndim={rank}. Full shape received: {tuple(shape)}{hint}")
        if self.min_ndim is not None and rank < self.min_ndim:
            raise ValueError(f"Input 0 of layer '{layer.name}' is incompatible with the layer: expected "
                             f"min_ndim={self.min_ndim}, found ndim={rank}. Full shape received: {tuple(shape)}{hint}")
        for axis, size in self.axes.items():
            if -rank <= axis < rank and shape[axis] is not None and shape[axis] != size:
                raise ValueError(f"Input 0 of layer '{layer.name}' is incompatible with the layer: expected axis "
                                 f"{axis} of input shape to have value {size}, but received input with shape "
                                 f"{tuple(shape)}")


def _naming_init(init):
    """`init` whose errors name the class being constructed (once, however deep the super() chain)."""

    @functools.wraps(init)
    def __init__(self, *args, **kwargs):
        try:
            init(self, *args, **kwargs)
        except (ValueError, TypeError, MemoryError) as e:
            named_e = name_error(e, type(self).__name__)
            if named_e is e:
                raise
            raise named_e from None

    __init__._kcore_named = True
    return __init__


_CALL_FLAGS = {}


def _signature_flags(cls):
    """(call takes `training`, call takes `mask`) for a layer class, read once from its signature."""
    flags = _CALL_FLAGS.get(cls)
    if flags is None:
        params = inspect.signature(cls.call).parameters
        var_kw = any(p.kind == p.VAR_KEYWORD for p in params.values())
        flags = _CALL_FLAGS[cls] = ("training" in params or var_kw, "mask" in params)
    return flags


class Layer:
    """Base class of every layer.

    Subclasses create weights in `build(input_shape)` with `add_weight` and compute in
    `call(inputs, training=None, mask=None)` (the extra arguments are optional).
    """

    def __init__(self, trainable=True, name=None, dtype=None, autocast=True, **kwargs):
        self._layers = []
        self._weights = []
        self._losses = []
        self._inbound_nodes = []
        self._trainable = bool(trainable)
        self.built = False
        self.supports_masking = getattr(self, "supports_masking", False)
        self.input_spec = None
        self.name = name or naming.unique_name(naming.to_snake_case(type(self).__name__))
        self._autocast = bool(autocast)
        policy = kwargs.pop("dtype_policy", None)
        self.dtype_policy = dtype if dtype is not None else policy  # None: the global policy (Keras)
        self._build_shape = None
        self._output_shape = None
        self._batch_input_shape = self._legacy_input_shape(kwargs)
        activity_regularizer = kwargs.pop("activity_regularizer", None)
        if activity_regularizer is not None:
            from kcore import regularizers

            activity_regularizer = regularizers.get(activity_regularizer)  # names like "l2" too (Keras)
        self.activity_regularizer = activity_regularizer
        if kwargs:
            raise ValueError(f"Unrecognized keyword arguments passed to {type(self).__name__}: {kwargs}")

    def _legacy_input_shape(self, kwargs):
        """Keras-2 style `input_shape=` / `input_dim=` / `batch_input_shape=` on the first layer."""
        batch_shape = kwargs.pop("batch_input_shape", None)
        input_shape = kwargs.pop("input_shape", None)
        batch_size = kwargs.pop("batch_size", None)
        input_dim = kwargs.pop("input_dim", None)
        if batch_shape is not None:
            return tuple(batch_shape)
        if input_shape is not None:
            if isinstance(input_shape, int):
                input_shape = (input_shape,)
            return (batch_size,) + tuple(input_shape)
        if input_dim is not None:
            if not isinstance(input_dim, (int, np.integer)) or input_dim <= 0:
                raise ValueError(f"{type(self).__name__}: input_dim must be a positive integer, got {input_dim!r}")
            return (batch_size, int(input_dim))
        return None

    # -- dtype policy ------------------------------------------------------------------
    @property
    def dtype_policy(self):
        """The layer's DTypePolicy (set from a name, a policy, a config dict or None = the global policy)."""
        return self._dtype_policy

    @dtype_policy.setter
    def dtype_policy(self, value):
        policy = dtype_policies.get(value)
        if self._computes:
            dtype_policies.check_supported(policy, f"Layer '{self.name}'")
        self._dtype_policy = policy
        self._compute_dtype = policy.compute_dtype
        self._update_casts()

    @property
    def autocast(self):
        """Whether floating inputs and weights are cast to the compute dtype (Keras's `autocast=True`)."""
        return self._autocast

    @autocast.setter
    def autocast(self, value):
        self._autocast = bool(value)
        self._update_casts()

    # Sequential and functional models leave their inputs in the variable dtype (Keras converts them to the
    # Input's dtype): each layer casts them to its own compute dtype, so a float32 first layer sees them exact.
    _inputs_in_variable_dtype = False
    _computes = True  # False: the layer computes nothing in its policy's dtypes (InputLayer takes any Keras dtype)

    def _update_casts(self):
        policy = self._dtype_policy
        self._casts_weights = self._autocast and policy.compute_dtype != policy.variable_dtype and \
            _autocast.is_float(policy.compute_dtype)
        keep = self._inputs_in_variable_dtype and _autocast.is_float(policy.variable_dtype)
        self._input_float_dtype = policy.variable_dtype if keep else policy.compute_dtype
        _autocast.forget(self)

    @property
    def variable_dtype(self):
        """The dtype the layer creates its weights in."""
        return self._dtype_policy.variable_dtype

    dtype = variable_dtype  # Keras 3: `layer.dtype` is the variable dtype

    @property
    def compute_dtype(self):
        """The dtype of the layer's computations: floating inputs are cast to it, and so are the weights inside
        `call` (autocast)."""
        return self._compute_dtype

    @property
    def input_dtype(self):
        """The dtype floating inputs are converted to (the compute dtype)."""
        return self._compute_dtype

    # -- attribute tracking --------------------------------------------------------
    def __setattr__(self, name, value):
        if isinstance(value, Layer) and not name.startswith("_") and "_layers" in self.__dict__:
            if all(value is not known for known in self._layers):
                self._layers.append(value)
        object.__setattr__(self, name, value)

    # -- weights ---------------------------------------------------------------------
    def add_weight(self, name=None, shape=None, initializer="glorot_uniform", dtype=None, trainable=True,
                   regularizer=None, constraint=None, autocast=True, **kwargs):
        """A new weight in the variable dtype (unless `dtype` is given); `autocast=False` keeps it in that dtype
        inside `call` under a mixed policy."""
        name = name or f"variable_{len(self._weights)}"
        dtype = dtype or self.variable_dtype
        what = f"Layer '{self.name}': weight '{name}'"
        shape = tuple(shape_arg(shape or (), what, "shape", np.dtype(dtype).itemsize))
        init = initializers.get(initializer)
        try:
            var = Variable(init, shape=shape, dtype=dtype, trainable=trainable and self._trainable, name=name,
                           regularizer=regularizer, constraint=constraint)
        except MemoryError as e:
            nbytes = int(np.prod(shape, dtype=np.float64)) * np.dtype(dtype).itemsize
            raise MemoryError(f"{what}: cannot allocate {nbytes} bytes for shape {shape} ({dtype})") from e
        var.trainable = bool(trainable)
        var.autocast = bool(autocast)
        var.path = f"{self.name}/{var.name}"
        self._weights.append(var)
        return var

    @property
    def weights(self):
        """This layer's trainable weights, then its non-trainable ones, then each sub-layer's (Keras order),
        each variable once."""
        own = [w for w in self._weights if w.trainable] + [w for w in self._weights if not w.trainable]
        return _unique(own + [w for layer in self._layers for w in layer.weights])

    variables = weights

    @property
    def trainable_weights(self):
        if not self._trainable:
            return []
        own = [w for w in self._weights if w.trainable]
        return _unique(own + [w for layer in self._layers for w in layer.trainable_weights])

    @property
    def non_trainable_weights(self):
        trainable = {id(w) for w in self.trainable_weights}
        return [w for w in self.weights if id(w) not in trainable]

    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        self._trainable = bool(value)
        for layer in self._layers:
            layer.trainable = value
        for w in self._weights:
            w.requires_grad = w.trainable and self._trainable

    def get_weights(self):
        return [w.numpy() for w in self.weights]

    def set_weights(self, weights):
        own = self.weights
        weights = list(weights)
        if len(weights) != len(own):
            raise ValueError(f"Layer '{self.name}' expects {len(own)} weight arrays, but set_weights received "
                             f"{len(weights)}")
        for var, value in zip(own, weights):
            value = np.asarray(value)
            if tuple(value.shape) != tuple(var.shape):
                raise ValueError(f"Layer '{self.name}' weight '{var.name}' has shape {tuple(var.shape)}, but "
                                 f"set_weights received shape {value.shape}")
            var.assign(value)

    def count_params(self):
        if not self.built:
            raise ValueError(f"You tried to call `count_params` on layer '{self.name}', but the layer isn't built. "
                             "Build it first by calling it on data or with `build(input_shape)`.")
        return int(sum(int(np.prod(w.shape)) for w in self.weights))

    @property
    def losses(self):
        """The losses added by the last call (add_loss, activity regularizers) of this layer and its sub-layers,
        then the penalties of the regularizers of its trainable weights (Keras 3)."""
        out, seen, stack = [], set(), [self]
        while stack:
            layer = stack.pop(0)
            if id(layer) not in seen:
                seen.add(id(layer))
                out.extend(layer._losses)
                stack.extend(layer._layers)
        return out + self._weight_penalties()

    def add_loss(self, loss):
        """Adds a loss tensor to this layer; the next outermost call drops it (Keras's `add_loss`)."""
        self._losses.append(loss)
        _hold_losses(self)

    def _weight_penalties(self):
        return [w.regularizer(w) for w in self.trainable_weights if w.regularizer is not None]

    def _clear_losses(self):
        if self._losses:
            drop_losses(self)
        for layer in self._layers:
            layer._clear_losses()

    # -- building and shapes ---------------------------------------------------------------
    def build(self, input_shape):
        self.built = True

    def _maybe_build(self, input_shape):
        if not self.built:
            self._build_shape = input_shape
            self.build(input_shape)
            self.built = True

    def compute_output_shape(self, input_shape):
        """Default: run the layer once on zeros (batch of 1) and read the output shape."""
        from kcore.backend.autodiff import no_grad

        def zeros(shape):
            # in the variable dtype: the weights need no cast, and the shapes are the compute dtype's
            return Tensor(convert_to_tensor(np.zeros([1 if d is None else d for d in shape]), self.dtype).value)

        with no_grad():
            out = self.call(map_structure(zeros, input_shape, is_leaf=_is_shape))
        return map_structure(lambda t: (None,) + tuple(t.shape[1:]) if input_shape and _first_is_none(input_shape)
                             else tuple(t.shape), out, is_leaf=lambda t: isinstance(t, Tensor))

    def compute_mask(self, inputs, mask=None):
        return mask if self.supports_masking else None

    @property
    def input_shape(self):
        if self._build_shape is None:
            raise AttributeError(f"The layer '{self.name}' has never been called and thus has no defined input shape.")
        return self._build_shape

    @property
    def output_shape(self):
        if self._output_shape is None:
            raise AttributeError(f"The layer '{self.name}' has never been called and thus has no defined output shape.")
        return self._output_shape

    # -- calling --------------------------------------------------------------------------
    def call(self, inputs, *args, **kwargs):
        return inputs

    def __call__(self, inputs, *args, **kwargs):
        try:
            if type(inputs) is not Tensor and any_symbolic(inputs):
                return self._symbolic_call(inputs, *args, **kwargs)
            frame = CALL_CONTEXT.frame
            if frame[0] == 0 and LOSS_HOLDERS:
                self._clear_losses()  # the outermost call drops the losses of the previous call (as Keras)
            frame[0] += 1
            try:
                return self._eager_call(inputs, args, kwargs, frame)
            finally:
                frame[0] -= 1
        except (ValueError, TypeError, MemoryError) as e:
            cls, name = type(self).__name__, getattr(self, "name", None)
            named_e = name_error(e, f"{cls} layer '{name}'", (cls, name))
            if named_e is e:
                raise
            raise named_e from None

    def __init_subclass__(cls, **kwargs):
        """Errors a layer's constructor raises name the layer class (Dense(units=-1) -> 'Dense: ...')."""
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is not None and not getattr(init, "_kcore_named", False):
            cls.__init__ = _naming_init(init)

    def _eager_call(self, inputs, args, kwargs, frame):
        inputs = self._convert_inputs(inputs)
        if not self.built:
            if self.input_spec is not None and type(inputs) is Tensor and not inputs.shape:
                self.input_spec.check(self, ())  # a scalar cannot be built on: say so before build indexes it
            shape = map_structure(lambda t: t.shape, inputs, is_leaf=lambda t: isinstance(t, Tensor))
            self._maybe_build(_with_none_batch(shape))
        if self.input_spec is not None and type(inputs) is Tensor:
            self.input_spec.check(self, inputs.shape)
        takes_training, takes_mask = _signature_flags(type(self))
        outer = frame[1]
        if takes_training:
            if kwargs.get("training") is None:
                kwargs["training"] = outer
        elif "training" in kwargs:
            del kwargs["training"]
        mask = kwargs.get("mask") if takes_mask else kwargs.pop("mask", None)  # Keras: passed on, not to call
        if mask is None:
            mask = inputs._keras_mask if type(inputs) is Tensor else _collect_masks(inputs)
            if mask is not None and takes_mask:
                kwargs["mask"] = mask
        call = self._autocast_call if self._casts_weights or _SUBSTITUTES else self.call
        if takes_training and outer is None:
            frame[1] = kwargs["training"]
            try:
                outputs = call(inputs, *args, **kwargs)
            finally:
                frame[1] = None
        else:
            outputs = call(inputs, *args, **kwargs)
        if self.activity_regularizer is not None and isinstance(outputs, Tensor):
            from kcore import ops

            # the penalty per sample; the outermost call clears the previous call's penalties
            self.add_loss(ops.divide(self.activity_regularizer(outputs), float(outputs.shape[0] or 1)))
        if mask is not None or type(self).compute_mask is not Layer.compute_mask:  # the default maps None to None
            out_mask = self.compute_mask(inputs, mask)
            if out_mask is not None:
                if isinstance(outputs, Tensor):
                    outputs._keras_mask = out_mask
                elif isinstance(outputs, (list, tuple)) and isinstance(out_mask, (list, tuple)):
                    # one mask per output (Bidirectional with merge_mode=None, RNN outputs with their states)
                    for output, output_mask in zip(outputs, out_mask):
                        if output_mask is not None and isinstance(output, Tensor):
                            output._keras_mask = output_mask
        return outputs

    # Layers that compute in float32 under a mixed policy (Keras's normalization layers): bfloat16 inputs are
    # taken up to float32, the weights stay float32, and the output goes back to the compute dtype.
    _float32_compute = False

    def _autocast_call(self, inputs, *args, **kwargs):
        """`call` with the weights read in the compute dtype (see kcore.layers.autocast)."""
        restore = _autocast.enter(self)
        try:
            if not self._float32_compute:
                return self.call(inputs, *args, **kwargs)
            wide = type(inputs) is Tensor and inputs.dtype == "bfloat16"
            outputs = self.call(inputs.astype("float32") if wide else inputs, *args, **kwargs)
        finally:
            _autocast.exit(restore)
        if isinstance(outputs, Tensor) and outputs.dtype != self._compute_dtype and \
                _autocast.is_float(outputs.dtype):
            outputs = outputs.astype(self._compute_dtype)
        return outputs

    def _convert_inputs(self, inputs):
        if type(inputs) is Tensor:
            dtype = inputs.dtype
            if dtype == self._input_float_dtype or not _autocast.is_float(dtype) or not self._autocast:
                return inputs
        if isinstance(inputs, (list, tuple)) and inputs and not isinstance(inputs[0], (int, float)):
            return type(inputs)(self._convert_input(x) for x in inputs)
        if isinstance(inputs, dict):
            return {k: self._convert_input(v) for k, v in inputs.items()}
        return self._convert_input(inputs)

    def _convert_input(self, x):
        """One input as a kcore tensor of the layer's float dtype (integer inputs stay integers where the
        layer keeps them, e.g. Embedding)."""
        if isinstance(x, Tensor):
            if _autocast.is_float(x.dtype) and x.dtype != self._input_float_dtype and self._autocast:
                cast = x.astype(self._input_float_dtype)
                cast._keras_mask = x._keras_mask  # the cast input keeps its mask (Keras)
                return cast
            return x
        if isinstance(x, (np.ndarray, np.generic, float, int, list)):
            arr = np.asarray(x)
            if arr.dtype.kind not in "fiub":
                check_numeric(arr, f"Layer '{self.name}'")
            dtype = self._input_float_dtype
            if arr.dtype.kind in "fb":
                return convert_to_tensor(arr, dtype)
            if arr.dtype.kind in "iu" and not getattr(self, "_keeps_int_inputs", False):
                # integers (e.g. word ids reaching a model) stay exact: bfloat16 holds integers up to 256 only
                return convert_to_tensor(arr, "float32" if dtype == "bfloat16" else dtype)
            return convert_to_tensor(arr)
        raise TypeError(f"Layer '{self.name}' was called on an object of type {type(x).__name__} ({x!r}); "
                        "expected a tensor (kcore.Input / kcore tensor) or a NumPy array")

    def _symbolic_call(self, inputs, *args, **kwargs):
        for t in flatten(inputs):
            if not isinstance(t, KerasTensor):
                raise TypeError(f"Layer '{self.name}' got a mix of symbolic (Input) tensors and {type(t).__name__}")
        shapes = map_structure(lambda t: t.shape, inputs, is_leaf=lambda t: isinstance(t, KerasTensor))
        self._maybe_build(shapes)
        if self.input_spec is not None and isinstance(inputs, KerasTensor):
            self.input_spec.check(self, inputs.shape)
        out_shapes = self.compute_output_shape(shapes)
        node_index = len(self._inbound_nodes)
        out_list = out_shapes if _is_shape_list(out_shapes) else [out_shapes]
        outputs = [KerasTensor(tuple(s), dtype=self._output_dtype(inputs), history=(self, node_index, i))
                   for i, s in enumerate(out_list)]
        self._inbound_nodes.append(Node(self, inputs, outputs, args, kwargs))
        self._output_shape = out_shapes if len(outputs) > 1 else outputs[0].shape
        return outputs if _is_shape_list(out_shapes) else outputs[0]

    def _output_dtype(self, inputs):
        return self._compute_dtype

    # -- config --------------------------------------------------------------------------
    # Attributes a subclass writes into its config as they are (collected along the MRO, base classes first).
    _config_attrs = ()

    def get_config(self):
        """The constructor arguments that rebuild this layer: name, trainable, dtype, then the `_config_attrs`
        of each class along the MRO (base classes first)."""
        config = {"name": self.name, "trainable": self.trainable,
                  "dtype": dtype_policies.serialize(self._dtype_policy)}
        if self._batch_input_shape is not None:
            config["batch_input_shape"] = self._batch_input_shape
        if self.activity_regularizer is not None:
            from kcore import regularizers

            config["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        for klass in reversed(type(self).__mro__):
            config.update({key: getattr(self, key) for key in vars(klass).get("_config_attrs", ())})
        return config

    @classmethod
    def from_config(cls, config):
        from kcore.utils.registry import filter_config

        return cls(**filter_config(cls, config, f"{cls.__name__}.from_config"))

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def _unique(variables):
    seen, out = set(), []
    for v in variables:
        if id(v) not in seen:
            seen.add(id(v))
            out.append(v)
    return out


def _is_shape(x):
    return isinstance(x, tuple) and all(d is None or isinstance(d, (int, np.integer)) for d in x)


def _is_shape_list(x):
    return isinstance(x, list) and all(_is_shape(s) for s in x)


def _first_is_none(shape):
    if _is_shape(shape):
        return len(shape) > 0 and shape[0] is None
    return any(_first_is_none(s) for s in shape)


def _with_none_batch(shape):
    if _is_shape(shape):
        return (None,) + tuple(shape[1:]) if shape else shape
    if isinstance(shape, dict):
        return {k: _with_none_batch(v) for k, v in shape.items()}
    return type(shape)(_with_none_batch(s) for s in shape)


def _collect_masks(inputs):
    if isinstance(inputs, Tensor):
        return inputs._keras_mask
    if isinstance(inputs, (list, tuple)):
        masks = [getattr(t, "_keras_mask", None) for t in inputs]
        return masks if any(m is not None for m in masks) else None
    return None
