"""Merge layers: combine a list of tensors (Add, Subtract, Multiply, Average, Maximum, Minimum,
Concatenate, Dot)."""
import numpy as np

from kcore import ops
from kcore.backend.tensor import Tensor, convert_to_tensor
from kcore.layers.layer import Layer
from kcore.ops.axes import as_int, normalize_axis


def _mask_array(mask):
    return np.asarray(mask.numpy() if isinstance(mask, Tensor) else mask).astype(bool)


def _check_masks(layer, inputs, mask):
    if not isinstance(mask, (list, tuple)) or not isinstance(inputs, (list, tuple)) or len(mask) != len(inputs):
        raise ValueError(f"Layer '{layer.name}': compute_mask expects a list of masks (or None), one per input; got "
                         f"{len(inputs) if isinstance(inputs, (list, tuple)) else 'one'} input(s) and mask={mask!r}")


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
        """Keras 3: a step is kept when any input keeps it; no mask if some input has none."""
        if mask is None:
            return None
        _check_masks(self, inputs, mask)
        if any(m is None for m in mask):
            return None
        return convert_to_tensor(np.logical_or.reduce([_mask_array(m) for m in mask]).astype(np.int32))


class Add(_Merge):
    """Sums its inputs (same shapes, or broadcastable)."""

    def _merge(self, a, b): return ops.add(a, b)


class Subtract(_Merge):
    """inputs[0] - inputs[1] (exactly two inputs)."""

    def build(self, input_shape):
        if len(input_shape) != 2:
            raise ValueError(f"A Subtract layer should be called on exactly 2 inputs. Received {len(input_shape)}")
        super().build(input_shape)

    def _merge(self, a, b): return ops.subtract(a, b)


class Multiply(_Merge):
    """Multiplies its inputs elementwise."""

    def _merge(self, a, b): return ops.multiply(a, b)


class Maximum(_Merge):
    """The elementwise maximum of its inputs."""

    def _merge(self, a, b): return ops.maximum(a, b)


class Minimum(_Merge):
    """The elementwise minimum of its inputs."""

    def _merge(self, a, b): return ops.minimum(a, b)


class Average(_Merge):
    """The elementwise mean of its inputs."""

    def _merge(self, a, b): return ops.add(a, b)

    def call(self, inputs):
        return ops.divide(super().call(inputs), float(len(inputs)))


class Concatenate(_Merge):
    """Joins its inputs along `axis` (the other axes must match)."""

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

    def compute_mask(self, inputs, mask=None):
        """Keras 3: unmasked inputs count as all-kept; the masks are joined along `axis` and a position is kept
        when any of its features is."""
        if mask is None:
            return None
        _check_masks(self, inputs, mask)
        if all(m is None for m in mask):
            return None
        parts = []
        for x, m in zip(inputs, mask):
            shape = tuple(x.shape)
            if m is None:
                parts.append(np.ones(shape, dtype=bool))
                continue
            m = _mask_array(m)
            parts.append(np.broadcast_to(m[..., None], shape) if m.ndim < len(shape) else m)
        return convert_to_tensor(np.any(np.concatenate(parts, axis=self.axis), axis=-1).astype(np.int32))

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class Dot(_Merge):
    """Dot product of two batched inputs along one axis of each (Keras's batch_dot).

    `axes` is an int (the same axis of both inputs) or a pair (axis of the first, axis of the
    second); negative axes count from the end of each input's own rank; the batch axis 0 cannot be
    contracted. The output holds the first input's remaining axes, then the second's (its batch
    axis dropped); a result of rank 1 becomes (batch, 1). normalize=True L2-normalises both inputs
    along the contracted axes first (cosine proximity).
    """

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axes, (list, tuple)):
            if len(axes) != 2:
                raise ValueError(f"Dot: `axes` must be an int or a list/tuple of two ints. Received: axes={axes!r}")
            if not all(isinstance(a, int) and not isinstance(a, bool) for a in axes):
                raise ValueError(f"Dot: `axes` list elements must be integers. Received: axes={axes!r}")
        elif not isinstance(axes, int) or isinstance(axes, bool):
            raise TypeError(f"Dot: `axes` must be an int or a list/tuple of two ints. Received: axes={axes!r}")
        self.axes = axes
        self.normalize = normalize

    def _axes(self, shape_a, shape_b):
        """The contracted axis of each input (non-negative), after checking ranks, batch and sizes."""
        shapes = (tuple(shape_a), tuple(shape_b))
        if len(shapes[0]) < 2 or len(shapes[1]) < 2:
            raise ValueError(f"Layer '{self.name}' (Dot): inputs must have rank >= 2 (a batch axis and at least "
                             f"one more). Received shapes {shapes[0]} and {shapes[1]}")
        pair = self.axes if isinstance(self.axes, (list, tuple)) else (self.axes, self.axes)
        axes = []
        for ax, shape in zip(pair, shapes):
            if not -len(shape) <= ax < len(shape):
                raise ValueError(f"Layer '{self.name}' (Dot): axis {ax} is out of range for an input of shape "
                                 f"{shape} (axes={self.axes!r})")
            axes.append(ax % len(shape))
        if 0 in axes:
            raise ValueError(f"Layer '{self.name}' (Dot): cannot take the dot product over the batch axis 0 "
                             f"(axes={self.axes!r}, shapes {shapes[0]} and {shapes[1]})")
        da, db = shapes[0][axes[0]], shapes[1][axes[1]]
        if da is not None and db is not None and da != db:
            raise ValueError(f"Layer '{self.name}' (Dot): incompatible input shapes: axis values {da} (at axis "
                             f"{axes[0]}) != {db} (at axis {axes[1]}). Full input shapes: {shapes[0]}, {shapes[1]}")
        ba, bb = shapes[0][0], shapes[1][0]
        if ba is not None and bb is not None and ba != bb:
            raise ValueError(f"Layer '{self.name}' (Dot): inputs have different batch sizes: shapes {shapes[0]} "
                             f"and {shapes[1]}")
        return axes[0], axes[1]

    def _check_pair(self, items, what):
        if not isinstance(items, (list, tuple)) or len(items) != 2:
            raise ValueError(f"A `Dot` layer ('{self.name}') should be called on a list of exactly 2 inputs. "
                             f"Received: {what}={items!r}")

    def build(self, input_shape):
        self._check_pair(input_shape, "input_shape")
        self._axes(*input_shape)
        self.built = True

    def call(self, inputs):
        self._check_pair(inputs, "inputs")
        a, b = inputs
        ax_a, ax_b = self._axes(a.shape, b.shape)
        if self.normalize:
            a, b = _l2_normalize(a, ax_a), _l2_normalize(b, ax_b)
        if a.ndim == 2 and b.ndim == 2:
            return ops.sum(ops.multiply(a, b), axis=1, keepdims=True)
        # batched matmul: a as (batch, rest of a, n), b as (batch, n, rest of b)
        a_rest = [i for i in range(1, a.ndim) if i != ax_a]
        b_rest = [i for i in range(1, b.ndim) if i != ax_b]
        a_t = ops.transpose(a, [0] + a_rest + [ax_a]) if ax_a != a.ndim - 1 else a
        b_t = ops.transpose(b, [0, ax_b] + b_rest) if ax_b != 1 else b
        batch, n = a.shape[0], a.shape[ax_a]
        a_dims, b_dims = [a.shape[i] for i in a_rest], [b.shape[i] for i in b_rest]
        out = ops.matmul(ops.reshape(a_t, [batch, _prod(a_dims), n]), ops.reshape(b_t, [batch, n, _prod(b_dims)]))
        shape = [batch] + a_dims + b_dims
        return ops.reshape(out, shape if len(shape) > 1 else [batch, 1])

    def compute_output_shape(self, input_shape):
        self._check_pair(input_shape, "input_shape")
        if not all(isinstance(s, (list, tuple)) for s in input_shape):
            raise ValueError(f"Layer '{self.name}' (Dot): compute_output_shape expects a list of two shapes "
                             f"(tuples). Received: input_shape={input_shape!r}")
        a, b = (list(s) for s in input_shape)
        ax_a, ax_b = self._axes(a, b)
        shape = [d for i, d in enumerate(a) if i != ax_a] + [d for i, d in enumerate(b) if i not in (0, ax_b)]
        return tuple(shape if len(shape) > 1 else shape + [1])

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}


def _prod(dims):
    out = 1
    for d in dims:
        out *= d
    return out


def _l2_normalize(x, axis):
    """x / max(||x||, 1e-7) along `axis`, as Keras's normalize (its inverse norm is capped at 1e7)."""
    square_sum = ops.sum(ops.square(x), axis=axis, keepdims=True)
    return ops.multiply(x, ops.reciprocal(ops.sqrt(ops.maximum(square_sum, 1e-14))))


def _apply(layer_class, doc):
    """The functional form of a merge layer: `fn(inputs, **kwargs)` = `layer_class(**kwargs)(inputs)`."""
    def fn(inputs, **kwargs):
        return layer_class(**kwargs)(inputs)

    fn.__name__ = fn.__qualname__ = layer_class.__name__.lower()
    fn.__doc__ = doc
    return fn


add = _apply(Add, "The sum of the tensors in `inputs` (an Add layer applied to them).")
subtract = _apply(Subtract, "inputs[0] - inputs[1] (a Subtract layer applied to them).")
multiply = _apply(Multiply, "The elementwise product of the tensors in `inputs`.")
average = _apply(Average, "The elementwise mean of the tensors in `inputs`.")
maximum = _apply(Maximum, "The elementwise maximum of the tensors in `inputs`.")
minimum = _apply(Minimum, "The elementwise minimum of the tensors in `inputs`.")


def concatenate(inputs, axis=-1, **kwargs):
    """The tensors in `inputs` joined along `axis`."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs, axes=-1, normalize=False, **kwargs):
    """The dot product of two tensors along `axes` (cosine similarity when `normalize`)."""
    return Dot(axes, normalize, **kwargs)(inputs)
