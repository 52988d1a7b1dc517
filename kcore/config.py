"""kcore.config: the global settings Keras 3 keeps in `keras.config` (floatx, epsilon, image data format and the
global dtype policy), e.g. `kcore.config.set_dtype_policy("mixed_bfloat16")`."""
from kcore.backend.config import epsilon, floatx, image_data_format, set_epsilon, set_floatx, set_image_data_format
from kcore.dtype_policies import dtype_policy, set_dtype_policy

__all__ = ["dtype_policy", "epsilon", "floatx", "image_data_format", "set_dtype_policy", "set_epsilon",
           "set_floatx", "set_image_data_format"]
