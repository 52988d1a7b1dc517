"""Merge layers: combine a list of tensors (Add, Subtract, Multiply, Average, Maximum, Minimum,
Concatenate, Dot)."""
from kcore import ops
from kcore.ops.axes import as_int, normalize_axis
from kcore.layers.layer import Layer


class _Merge(Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def _check_inputs(self, shapes):
        if not isinstance(shapes, (list, tuple)) or len(shapes) < 2 or not all(isinstance(s, tuple) for s in shapes):
            raise ValueError(f"A merge layer ('{self.name}') should be called on a list of at least 2 inputs. "
                             f"Received: input_shape={shapes}")

    def build(self, input_shape):
        self._check_inputs(input_shape)
        self.built = True

    def call(self, inputs):
        result = inputs[0]
        for x in inputs[1:]:
            result = self._merge(result, x)
        return result

    def compute_output_shape(self, input_shape):
        self._check_inputs(input_shape)
        out = list(input_shape[0])
        for shape in input_shape[1:]:
            if len(shape) != len(out):
                raise ValueError(f"Layer '{self.name}': inputs must have the same rank, got shapes {input_shape}")
            for i, (a, b) in enumerate(zip(out, shape)):
                if a is not None and b is not None and a != b and 1 not in (a, b):
                    raise ValueError(f"Layer '{self.name}': incompatible input shapes {input_shape}")
                out[i] = None if a is None or b is None else max(a, b)
        return tuple(out)

    def compute_mask(self, inputs, mask=None):
        return None


class Add(_Merge):
    def _merge(self, a, b): return ops.add(a, b)


class Subtract(_Merge):
    def build(self, input_shape):
        if len(input_shape) != 2:
            raise ValueError(f"A Subtract layer should be called on exactly 2 inputs. Received {len(input_shape)}")
        super().build(input_shape)

    def _merge(self, a, b): return ops.subtract(a, b)


class Multiply(_Merge):
    def _merge(self, a, b): return ops.multiply(a, b)


class Maximum(_Merge):
    def _merge(self, a, b): return ops.maximum(a, b)


class Minimum(_Merge):
    def _merge(self, a, b): return ops.minimum(a, b)


class Average(_Merge):
    def _merge(self, a, b): return ops.add(a, b)

    def call(self, inputs):
        return ops.divide(super().call(inputs), float(len(inputs)))


class Concatenate(_Merge):
    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = as_int(axis, "Concatenate", "axis")

    def call(self, inputs):
        return ops.concatenate(inputs, axis=self.axis)

    def compute_output_shape(self, input_shape):
        self._check_inputs(input_shape)
        rank = len(input_shape[0])
        axis = normalize_axis(self.axis, rank, f"Concatenate layer '{self.name}'")
        out = list(input_shape[0])
        for shape in input_shape[1:]:
            for i in range(rank):
                if i != axis and shape[i] != out[i] and None not in (shape[i], out[i]):
                    raise ValueError(f"A Concatenate layer requires inputs with matching shapes except for the "
                                     f"concatenation axis. Received: input_shape={input_shape}")
            out[axis] = None if out[axis] is None or shape[axis] is None else out[axis] + shape[axis]
        return tuple(out)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class Dot(_Merge):
    """Dot product of samples along `axes` (optionally L2-normalised first: cosine proximity)."""

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        self.axes = axes
        self.normalize = normalize

    def _axes(self, rank_a, rank_b):
        axes = self.axes if isinstance(self.axes, (list, tuple)) else (self.axes, self.axes)
        return axes[0] % rank_a, axes[1] % rank_b

    def call(self, inputs):
        a, b = inputs
        ax_a, ax_b = self._axes(a.ndim, b.ndim)
        if self.normalize:
            a = ops.divide(a, ops.sqrt(ops.add(ops.sum(ops.square(a), axis=ax_a, keepdims=True), 1e-12)))
            b = ops.divide(b, ops.sqrt(ops.add(ops.sum(ops.square(b), axis=ax_b, keepdims=True), 1e-12)))
        if a.ndim == 2 and b.ndim == 2:
            return ops.sum(ops.multiply(a, b), axis=1, keepdims=True)
        # batched matmul with the contracted axes moved last / second to last
        a_perm = [i for i in range(a.ndim) if i != ax_a] + [ax_a]
        b_perm = [0, ax_b] + [i for i in range(1, b.ndim) if i != ax_b]
        return ops.matmul(ops.transpose(a, a_perm), ops.transpose(b, b_perm))

    def compute_output_shape(self, input_shape):
        a, b = input_shape
        ax_a, ax_b = self._axes(len(a), len(b))
        if len(a) == 2 and len(b) == 2:
            return (a[0], 1)
        return tuple([a[0]] + [d for i, d in enumerate(a) if i not in (0, ax_a)] +
                     [d for i, d in enumerate(b) if i not in (0, ax_b)])

    def get_config(self):
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}


def add(inputs, **kwargs): return Add(**kwargs)(inputs)
def subtract(inputs, **kwargs): return Subtract(**kwargs)(inputs)
def multiply(inputs, **kwargs): return Multiply(**kwargs)(inputs)
def average(inputs, **kwargs): return Average(**kwargs)(inputs)
def maximum(inputs, **kwargs): return Maximum(**kwargs)(inputs)
def minimum(inputs, **kwargs): return Minimum(**kwargs)(inputs)
def concatenate(inputs, axis=-1, **kwargs): return Concatenate(axis=axis, **kwargs)(inputs)
def dot(inputs, axes, normalize=False, **kwargs): return Dot(axes, normalize, **kwargs)(inputs)
