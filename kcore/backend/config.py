"""Global settings Keras users know from keras.backend / keras.config."""
from kcore.backend.native import _C

_FLOATX = "float32"
_EPSILON = 1e-7
_IMAGE_DATA_FORMAT = "channels_last"


def floatx():
    return _FLOATX


def set_floatx(value):
    global _FLOATX
    if value not in ("float32", "float64"):
        raise ValueError(f"Unknown floatx type: {value!r}; kcore supports 'float32' and 'float64'")
    _FLOATX = value


def epsilon():
    return _EPSILON


def set_epsilon(value):
    global _EPSILON
    _EPSILON = float(value)


def image_data_format():
    return _IMAGE_DATA_FORMAT


def set_image_data_format(value):
    global _IMAGE_DATA_FORMAT
    if value not in ("channels_last", "channels_first"):
        raise ValueError(f"data_format must be 'channels_last' or 'channels_first', got {value!r}")
    _IMAGE_DATA_FORMAT = value


def set_num_threads(n):
    """One setting for kcore's OpenMP kernels and its BLAS together."""
    n = int(n)
    if n < 1:
        raise ValueError(f"set_num_threads: n must be >= 1, got {n}")
    _C.set_num_threads(n)


def get_num_threads():
    return _C.get_num_threads()


def clear_session():
    """Resets the automatic layer-name counters (like keras.backend.clear_session)."""
    from kcore.utils import naming

    naming.reset()
