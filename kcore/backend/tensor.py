"""The Python Tensor: a native tensor plus what autodiff and Keras need (node, mask, logits)."""
import functools

import numpy as np

from kcore.backend.device import get_device, to_device
from kcore.backend.native import _C

_NUMPY_DTYPES = {"float32": np.float32, "float64": np.float64, "int32": np.int32, "int64": np.int64,
                 "bool": np.bool_}
# The floating dtypes (bfloat16: a CPU storage format the engine computes in float32).
FLOAT_DTYPES = ("float32", "float64", "bfloat16")


@functools.cache
def _bfloat16():
    """ml_dtypes.bfloat16, NumPy's bfloat16 (imported on first use: bf16 tensors meeting NumPy)."""
    import ml_dtypes

    return ml_dtypes.bfloat16


def numpy_dtype(name):
    """The NumPy dtype of the kcore dtype `name` (ml_dtypes.bfloat16 for "bfloat16")."""
    return _bfloat16() if name == "bfloat16" else _NUMPY_DTYPES[name]


def _host_array(native):
    """The NumPy view of a CPU native tensor (bfloat16 data, exported as uint16, viewed as bfloat16)."""
    a = np.asarray(native)
    return a.view(_bfloat16()) if a.dtype.char == "H" else a


def _operator(name, logic=False, reflected=False):
    """A Tensor operator method calling the kcore op <name> (kcore.ops.logic.<name> when `logic`), with the
    operands swapped when `reflected` (the __r*__ methods)."""
    def method(self, other):
        fn = getattr(_logic(), name) if logic else _op(name)
        return fn(other, self) if reflected else fn(self, other)

    method.__name__ = name
    return method


class Tensor:
    """An immutable n-d array computed by kcore's engine.

    `value` is the native tensor; `node` links to the op that produced it while a
    GradientTape records. `numpy()` shares memory with the native tensor.
    """

    __slots__ = ("value", "node", "output_index", "requires_grad", "_keras_logits", "_keras_mask", "_dtype",
                 "__weakref__")
    __array_priority__ = 100

    def __init__(self, value, requires_grad=False):
        self.value = value
        self.node = None
        self.output_index = 0  # which output of `node` this tensor is
        self.requires_grad = requires_grad
        self._keras_logits = None
        self._keras_mask = None
        self._dtype = None

    # -- array protocol ---------------------------------------------------------
    @property
    def shape(self):
        return self.value.shape

    @property
    def dtype(self):
        dtype = self._dtype
        if dtype is None:
            dtype = self._dtype = self.value.dtype
        return dtype

    @property
    def ndim(self):
        return self.value.ndim

    @property
    def size(self):
        return self.value.size

    @property
    def device(self):
        return self.value.device

    def numpy(self):
        v = self.value
        return _host_array(v if v.device == "cpu" else to_device(v, "cpu"))

    def __array__(self, dtype=None, copy=None):
        a = Tensor.numpy(self)
        return a if dtype is None else a.astype(dtype)

    def __len__(self):
        if not self.value.shape:
            raise TypeError("len() of a 0-d tensor")
        return self.value.shape[0]

    def __float__(self):
        return float(self.numpy())

    def __int__(self):
        return int(self.numpy())

    def __bool__(self):
        return bool(self.numpy())

    def item(self):
        return self.numpy().item()

    def __repr__(self):
        return f"<kcore.Tensor shape={self.shape} dtype={self.dtype}\n{self.numpy()!r}>"

    # -- operators (defined in kcore.ops) ---------------------------------------
    __add__, __radd__ = _operator("add"), _operator("add", reflected=True)
    __sub__, __rsub__ = _operator("subtract"), _operator("subtract", reflected=True)
    __mul__, __rmul__ = _operator("multiply"), _operator("multiply", reflected=True)
    __truediv__, __rtruediv__ = _operator("divide"), _operator("divide", reflected=True)
    __pow__, __rpow__ = _operator("power"), _operator("power", reflected=True)
    __matmul__, __rmatmul__ = _operator("matmul"), _operator("matmul", reflected=True)
    def __neg__(self): return _op("negative")(self)
    def __abs__(self): return _op("abs")(self)
    def __getitem__(self, key): return _op("getitem")(self, key)

    # Comparisons are elementwise and give bool tensors, as Keras tensors do (hashing stays by identity).
    def __eq__(self, o): return NotImplemented if o is None or isinstance(o, str) else _logic().equal(self, o)
    def __ne__(self, o): return NotImplemented if o is None or isinstance(o, str) else _logic().not_equal(self, o)
    __lt__, __le__ = _operator("less", logic=True), _operator("less_equal", logic=True)
    __gt__, __ge__ = _operator("greater", logic=True), _operator("greater_equal", logic=True)
    __and__, __rand__ = _operator("logical_and", logic=True), _operator("logical_and", logic=True, reflected=True)
    __or__, __ror__ = _operator("logical_or", logic=True), _operator("logical_or", logic=True, reflected=True)
    __xor__, __rxor__ = _operator("logical_xor", logic=True), _operator("logical_xor", logic=True, reflected=True)
    def __invert__(self): return _logic().logical_not(self)

    @property
    def T(self):
        return _op("transpose")(self)

    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = shape[0]
        return _op("reshape")(self, shape)

    def astype(self, dtype):
        return _op("cast")(self, dtype)

    def to(self, device):
        """This tensor on `device` ('cpu' or 'cuda'); differentiable (gradients flow back)."""
        native = to_device(self.value, device)
        if native is self.value:
            return self
        from kcore.backend.autodiff import attach

        home = self.value.device
        return attach(Tensor(native), (self,), lambda g: (to_device(g, home),))

    def __dlpack__(self, stream=None, max_version=None, dl_device=None, copy=None):
        if self.value.device == "cuda":  # kcore works on the legacy default stream: finish it first
            from kcore import cuda

            cuda.synchronize()
        if self.value.device == "cpu" and self.value.readonly:
            return _C.to_dlpack(self.value.clone())  # DLPack consumers may write: never hand out read-only memory
        return _C.to_dlpack(self.value)

    def __dlpack_device__(self):
        return (1, 0) if self.value.device == "cpu" else (2, 0)

    # Tensors are hashed by identity (they are graph nodes), so == is not elementwise.
    __hash__ = object.__hash__


class RowGradientTensor(Tensor):
    """A gradient from GradientTape.gradient for a table read by row: the summed gradient, keeping in
    `row_gradient` each read's gradient, which optimizers squaring the gradient use as Keras's TensorFlow backend
    does with IndexedSlices (see kcore.backend.autodiff.RowGradient)."""

    __slots__ = ("row_gradient",)

    def __init__(self, gradient):
        super().__init__(gradient.dense)
        self.row_gradient = gradient


class Variable(Tensor):
    """A mutable tensor owned by a layer or optimizer; updated in place by optimizers."""

    __slots__ = ("name", "path", "trainable", "regularizer", "constraint", "_initializer_name", "autocast")

    def __init__(self, initializer=None, shape=None, dtype=None, trainable=True, name=None, regularizer=None,
                 constraint=None):
        from kcore.backend.config import floatx

        dtype = _dtype_name(dtype or floatx())
        if callable(initializer) and not isinstance(initializer, (np.ndarray, Tensor)):
            if shape is None:
                raise ValueError("Variable: an initializer needs a shape")
            value = initializer(tuple(shape), dtype=dtype)
        else:
            value = initializer
        arr = np.array(value.numpy() if isinstance(value, Tensor) else value, dtype=numpy_dtype(dtype), copy=True)
        if shape is not None and tuple(arr.shape) != tuple(shape):
            raise ValueError(f"Variable {name!r}: initial value has shape {arr.shape}, expected {tuple(shape)}")
        native = _C.empty(list(arr.shape), dtype)
        _host_array(native)[...] = arr
        native = to_device(native, get_device())
        super().__init__(native, requires_grad=bool(trainable))
        self.name = name or "variable"
        self.path = self.name
        self.trainable = bool(trainable)
        self.regularizer = regularizer
        self.constraint = constraint
        self.autocast = True  # read in a layer's compute dtype inside its call (mixed precision)

    def numpy(self):
        return np.array(Tensor.numpy(self), copy=True)

    def assign(self, value):
        src = value.value if isinstance(value, Tensor) else None
        if src is None:
            arr = np.asarray(value, dtype=numpy_dtype(self.dtype))
            if arr.shape != tuple(self.shape):
                raise ValueError(f"Variable {self.path!r} has shape {tuple(self.shape)}, cannot assign a value "
                                 f"of shape {arr.shape}")
            if self.value.device == "cpu":
                _host_array(self.value)[...] = arr
            else:
                self.value.copy_from(_C.from_numpy(np.ascontiguousarray(arr)))
        else:
            if tuple(src.shape) != tuple(self.shape):
                raise ValueError(f"Variable {self.path!r} has shape {tuple(self.shape)}, cannot assign a value "
                                 f"of shape {tuple(src.shape)}")
            self.value.copy_from(src if src.dtype == self.dtype else src.astype(self.dtype))
        return self

    def assign_add(self, value):
        return self.assign(self.numpy() + np.asarray(value, dtype=numpy_dtype(self.dtype)))

    def assign_sub(self, value):
        return self.assign(self.numpy() - np.asarray(value, dtype=numpy_dtype(self.dtype)))

    def set_trainable(self, flag):
        self.trainable = bool(flag)
        self.requires_grad = bool(flag)

    def __repr__(self):
        return f"<kcore.Variable path={self.path!r} shape={self.shape} dtype={self.dtype}>"


def _dtype_name(dtype):
    if dtype is None:
        return None
    name = np.dtype(dtype).name if not isinstance(dtype, str) else dtype
    if name == "bfloat16":
        _bfloat16()  # registers "bfloat16" with NumPy, so np.zeros(shape, t.dtype) works for bf16 tensors too
    elif name not in _NUMPY_DTYPES:
        raise TypeError(f"unsupported dtype {dtype!r}: kcore supports float32, float64, bfloat16, int32, int64 "
                        "and bool")
    return name


def is_tensor(x) -> bool:
    """Whether x is a kcore Tensor (a Variable included)."""
    return isinstance(x, Tensor)


def check_numeric(arr, who="convert_to_tensor"):
    """TypeError naming `who` unless `arr` holds real numbers (complex data is refused, never cast)."""
    kind = arr.dtype.kind
    if kind == "V" and arr.dtype.name == "bfloat16":
        return
    if kind == "c":
        raise TypeError(f"{who}: cannot use complex data (dtype {arr.dtype}): kcore tensors are real; pass "
                        "np.real(x) or np.abs(x) explicitly")
    if kind in "OUSVMm":
        raise TypeError(f"{who}: cannot convert data of dtype {arr.dtype} to a kcore tensor; expected numeric "
                        "data (float or int)")


_INT_RANGE = {"int32": (-2 ** 31, 2 ** 31 - 1), "int64": (-2 ** 63, 2 ** 63 - 1)}


def _as_array(x, who):
    """np.asarray(x) with the errors a person can act on (ragged lists, integers beyond int64)."""
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError) as e:
        raise ValueError(f"{who}: cannot convert {type(x).__name__} to a tensor: {e}") from None
    if arr.dtype.kind == "O" and (isinstance(x, int) or _holds_big_int(arr)):
        raise ValueError(f"{who}: integer value out of the int64 range [-2**63, 2**63 - 1]")
    return arr


def _holds_big_int(arr):
    return arr.size and all(isinstance(v, int) for v in arr.flat)


def _default_dtype(arr, x):
    kind = arr.dtype.kind
    if kind == "V":
        return "bfloat16"  # check_numeric let only ml_dtypes.bfloat16 through
    if kind == "f":
        return "float64" if arr.dtype == np.float64 and isinstance(x, np.ndarray) else "float32"
    if kind == "b":
        return "bool"
    if not isinstance(x, (np.ndarray, np.generic)):
        return "int64"  # Python ints and lists of ints
    if kind in "iu" and arr.dtype.itemsize == 8:
        return "int64"
    if kind == "u" and arr.dtype.itemsize == 4:
        return "int64"  # uint32 values do not fit in int32
    return "int32"


def convert_to_tensor(x, dtype=None, who: str = "convert_to_tensor") -> Tensor:
    """NumPy arrays, Python numbers and lists become Tensors (sharing memory where possible).

    Read-only arrays (np.load(mmap_mode='r'), frozen arrays) are wrapped without a copy.
    Integers keep their values: unsigned types widen (uint32 -> int64), and values that do
    not fit the target integer type raise ValueError instead of wrapping around. Complex
    data raises TypeError.
    """
    dtype = _dtype_name(dtype)
    if isinstance(x, Tensor):
        if dtype is None or x.dtype == dtype:
            return x
        return _op("cast")(x, dtype)
    arr = _as_array(x, who)
    check_numeric(arr, who)
    if dtype is None:
        dtype = _default_dtype(arr, x)
    if arr.dtype.kind in "iu" and dtype in _INT_RANGE and arr.size and arr.dtype != np.dtype(dtype):
        lo, hi = _INT_RANGE[dtype]
        if arr.min() < lo or arr.max() > hi:
            raise ValueError(f"{who}: integer values in [{arr.min()}, {arr.max()}] do not fit in {dtype}")
    if dtype == "bfloat16" and arr.dtype.name != "bfloat16":  # round in the engine (no ml_dtypes import)
        native = _C.from_numpy(np.asarray(arr, dtype=np.float64 if arr.dtype == np.float64 else np.float32,
                                          order="C")).astype("bfloat16")
    else:
        native = _C.from_numpy(np.asarray(arr, dtype=numpy_dtype(dtype), order="C"))
    return _on_current_device(native)


def tensor_from_array(arr) -> Tensor:
    """A Tensor on the current device from a C-contiguous NumPy array of a kcore dtype (memory shared on
    the CPU); the checks of `convert_to_tensor` are the caller's."""
    return _on_current_device(_C.from_numpy(arr))


def _on_current_device(native):
    device = get_device()
    return Tensor(native if device == "cpu" else to_device(native, device))


def from_dlpack(x) -> Tensor:
    """A Tensor sharing memory with any DLPack producer (NumPy, CuPy, PyTorch...), no copy."""
    if not hasattr(x, "__dlpack__"):
        return _registered(Tensor(_C.from_dlpack_capsule(x)))  # already a capsule
    if x.__dlpack_device__()[0] == 1:
        return _registered(Tensor(_C.from_dlpack_capsule(x.__dlpack__())))
    from kcore import cuda

    cuda.require()
    # kcore runs on CUDA's legacy default stream (DLPack stream 1): the producer orders its work before it.
    return Tensor(_C.from_dlpack_capsule(x.__dlpack__(stream=1)))


def _registered(t):
    """t, with NumPy taught "bfloat16" when t holds it (a bf16 tensor that came from another library)."""
    if t.value.dtype == "bfloat16":
        _bfloat16()
    return t


@functools.cache
def _op(name):
    """The kcore op `name` (kcore.ops.elementwise, else kcore.ops.core), without the error-naming wrapper."""
    from kcore.ops import core, elementwise

    return getattr(elementwise, name, None) or getattr(core, name)


def _logic():
    from kcore.ops import logic

    return logic
