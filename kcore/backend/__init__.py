"""kcore's Python backend: the Tensor that wraps native tensors, autodiff, threads, dtypes."""
from kcore.backend.autodiff import GradientTape, is_recording, no_grad
from kcore.backend.config import (
    clear_session,
    epsilon,
    floatx,
    get_num_threads,
    image_data_format,
    set_epsilon,
    set_floatx,
    set_image_data_format,
    set_num_threads,
)
from kcore.backend.device import get_device, set_device
from kcore.backend.tensor import Tensor, Variable, convert_to_tensor, from_dlpack, is_tensor

__all__ = [
    "Tensor", "Variable", "convert_to_tensor", "from_dlpack", "is_tensor", "get_device", "set_device", "GradientTape",
    "no_grad", "is_recording",
    "floatx", "set_floatx", "epsilon", "set_epsilon", "image_data_format", "set_image_data_format",
    "set_num_threads", "get_num_threads", "clear_session",
]
