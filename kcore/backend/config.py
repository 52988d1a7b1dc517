"""Global settings Keras users know from keras.backend / keras.config."""
from kcore.backend.native import _C

_FLOATX = "float32"
_EPSILON = 1e-7
_IMAGE_DATA_FORMAT = "channels_last"


def floatx() -> str:
    """The default float dtype of new weights and converted data: 'float32' (default) or 'float64'."""
    return _FLOATX


def set_floatx(value: str) -> None:
    """Sets the default float dtype ('float32' or 'float64'; anything else raises ValueError)."""
    global _FLOATX
    _FLOATX = _one_of(value, ("float32", "float64"),
                      f"Unknown floatx type: {value!r}; kcore supports 'float32' and 'float64'")


def epsilon() -> float:
    """The fuzz factor added to denominators (1e-7 by default)."""
    return _EPSILON


def set_epsilon(value: float) -> None:
    """Sets the fuzz factor `epsilon()` returns."""
    global _EPSILON
    _EPSILON = float(value)


def image_data_format() -> str:
    """The default data_format of spatial layers and ops: 'channels_last' (default) or 'channels_first'."""
    return _IMAGE_DATA_FORMAT


def set_image_data_format(value: str) -> None:
    """Sets the default data_format ('channels_last' or 'channels_first'; anything else raises ValueError)."""
    global _IMAGE_DATA_FORMAT
    _IMAGE_DATA_FORMAT = _one_of(value, ("channels_last", "channels_first"),
                                 f"data_format must be 'channels_last' or 'channels_first', got {value!r}")


def _one_of(value, allowed, message):
    if value not in allowed:
        raise ValueError(message)
    return value


def set_num_threads(n: int) -> None:
    """One setting for kcore's OpenMP kernels and its BLAS together."""
    n = int(n)
    if n < 1:
        raise ValueError(f"set_num_threads: n must be >= 1, got {n}")
    _C.set_num_threads(n)


def get_num_threads() -> int:
    """The number of threads kcore's kernels and BLAS use."""
    return _C.get_num_threads()


def clear_session() -> None:
    """Resets the automatic layer-name counters (like keras.backend.clear_session)."""
    from kcore.utils import naming

    naming.reset()
