"""kcore.mixed_precision: Keras's mixed-precision API.

    kcore.mixed_precision.set_global_policy("mixed_bfloat16")

Layers built afterwards compute in bfloat16 (inputs and weights are cast on the way in, with the cast's
gradient bringing float32 gradients back to the weights) and keep float32 weights; losses and metrics compute
in float32, and optimizers update the float32 weights. bfloat16 has float32's exponent range, so no loss
scaling is needed (Keras's LossScaleOptimizer exists for float16, which kcore does not compute in).
"""
from kcore.dtype_policies import DTypePolicy, dtype_policy, set_dtype_policy

Policy = DTypePolicy
global_policy = dtype_policy
set_global_policy = set_dtype_policy

__all__ = ["DTypePolicy", "Policy", "dtype_policy", "global_policy", "set_dtype_policy", "set_global_policy"]
