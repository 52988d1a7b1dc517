"""Dtype policies (Keras 3's `keras.dtype_policies`): which dtype a layer computes in and which its weights use.

    kcore.mixed_precision.set_global_policy("mixed_bfloat16")   # bfloat16 compute, float32 weights
    layer = kcore.layers.Dense(10)                               # takes the global policy when built
    layer.compute_dtype, layer.variable_dtype                    # ('bfloat16', 'float32')

kcore computes half precision only as bfloat16: "float16" and "mixed_float16" raise a ValueError that says so.
"""
from kcore.backend.config import floatx

# Dtypes a policy may name in kcore (the dtypes of kcore's tensors).
_SUPPORTED = ("float32", "float64", "bfloat16", "int32", "int64", "bool")
# Dtype names Keras accepts that kcore's tensors cannot hold.
_KERAS_ONLY = ("float16", "int8", "int16", "uint8", "uint16", "uint32", "uint64", "complex64", "complex128",
               "string", "float8_e4m3fn", "float8_e5m2")
_QUANTIZED = ("int8", "float8", "int4", "gptq", "awq")
_INVALID = ("Cannot convert '{}' to a mixed precision DTypePolicy. Valid policies include 'mixed_float16', "
            "'mixed_bfloat16', and the name of any float dtype such as 'float32'.")
_NO_HALF = ("kcore computes half precision only as bfloat16: the policy '{}' (float16) is not supported; use "
            "'mixed_bfloat16' (bfloat16 compute, float32 variables, no loss scaling needed) instead")


class DTypePolicy:
    """A layer's dtype policy: `compute_dtype` (inputs, computations and outputs) and `variable_dtype` (weights).

    `name` is a dtype name ("float32", "float64", "bfloat16": both dtypes that one) or "mixed_bfloat16"
    (bfloat16 compute, float32 variables). None means the global policy's name. Invalid names raise
    Keras's ValueError; a name that is not a string raises TypeError.
    """

    def __init__(self, name=None):
        if name is None:
            name = dtype_policy().name
        self._compute_dtype, self._variable_dtype = _parse_name(name)
        self._name = name

    @property
    def name(self):
        """The policy's name, e.g. "mixed_bfloat16"."""
        return self._name

    @property
    def compute_dtype(self):
        """The dtype layers cast their floating inputs (and, inside `call`, their weights) to."""
        return self._compute_dtype

    @property
    def variable_dtype(self):
        """The dtype layers create their weights in."""
        return self._variable_dtype

    @property
    def quantization_mode(self):
        """None: kcore has no quantized policies."""
        return None

    def get_config(self):
        """{"name": name}, as Keras writes it."""
        return {"name": self._name}

    @classmethod
    def from_config(cls, config):
        """The policy a `get_config()` dict describes."""
        return cls(**config)

    def __repr__(self):
        return f'<DTypePolicy "{self._name}">'

    def __eq__(self, other):
        return isinstance(other, DTypePolicy) and self._name == other._name

    def __hash__(self):
        return hash(("DTypePolicy", self._name))


class FloatDTypePolicy(DTypePolicy):
    """An alias of DTypePolicy (Keras 3 keeps the name for old code)."""


def _parse_name(name):
    """(compute dtype, variable dtype) of a policy name."""
    if not isinstance(name, str):
        raise TypeError(f"'name' must be a string, such as 'mixed_float16'. Received: name={name} "
                        f"(of type {type(name)})")
    if name == "mixed_bfloat16":
        _register_bfloat16()
        return "bfloat16", "float32"
    if name in ("mixed_float16", "float16"):
        raise ValueError(_NO_HALF.format(name))
    if name in _SUPPORTED:
        if name == "bfloat16":
            _register_bfloat16()
        return name, name
    if name in _KERAS_ONLY:
        raise ValueError(f"kcore cannot compute in {name}: a dtype policy names one of {', '.join(_SUPPORTED)} or "
                         "'mixed_bfloat16'")
    if name.startswith(_QUANTIZED) and "_from_" in name:
        raise ValueError(f"The quantized dtype policy '{name}' is not supported by kcore (no quantized layers); "
                         "use a float policy such as 'float32' or 'mixed_bfloat16'")
    raise ValueError(_INVALID.format(name))


def _register_bfloat16():
    """Imports ml_dtypes, which teaches NumPy the name "bfloat16" (layers computing in bfloat16 may name it to
    NumPy); only bfloat16 policies pay for the import."""
    import ml_dtypes  # noqa: F401


def _standardize(identifier):
    """A dtype-like object (NumPy dtype or type, Python type) as a dtype name, or None when it is not one."""
    if identifier is float:
        return floatx()
    if identifier is int:
        return "int64"
    if identifier is bool:
        return "bool"
    import numpy as np

    try:
        return np.dtype(identifier).name
    except TypeError:
        return None


def get(identifier):
    """A DTypePolicy from None (the global policy), a policy, a name, a config dict or a dtype (Keras's `get`)."""
    if identifier is None:
        return dtype_policy()
    if isinstance(identifier, DTypePolicy):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        return DTypePolicy(identifier)
    name = None if isinstance(identifier, (int, float)) else _standardize(identifier)
    if name is None:
        raise ValueError("Cannot interpret `dtype` argument. Expected a string or an instance of DTypePolicy. "
                         f"Received: dtype={identifier}")
    return DTypePolicy(name)


def serialize(policy):
    """A policy as Keras 3 writes it in configs: {"module": "keras", "class_name": "DTypePolicy", ...}."""
    return {"module": "keras", "class_name": "DTypePolicy", "config": policy.get_config(), "registered_name": None}


def deserialize(config, custom_objects=None):
    """The policy a `serialize` dict (or a policy name) describes."""
    if isinstance(config, str):
        return DTypePolicy(config)
    if not isinstance(config, dict) or "config" not in config:
        raise ValueError(f"Could not interpret a dtype policy config: {config!r}")
    name = config.get("class_name")
    cls = (custom_objects or {}).get(name) or {"DTypePolicy": DTypePolicy, "FloatDTypePolicy": FloatDTypePolicy,
                                               "Policy": DTypePolicy}.get(name)
    if cls is None:
        _parse_name(str(config.get("config", {}).get("name", "")))  # quantized names say why
        raise ValueError(f"Unknown dtype policy class: '{name}' (kcore knows DTypePolicy and FloatDTypePolicy)")
    return cls.from_config(config["config"])


_GLOBAL_POLICY = None


def set_dtype_policy(policy):
    """Sets the global policy new layers take (a name such as "mixed_bfloat16", or a DTypePolicy); None goes back
    to following `floatx()` (as tf.keras's `set_global_policy(None)`)."""
    global _GLOBAL_POLICY
    if policy is not None and not isinstance(policy, DTypePolicy):
        if not isinstance(policy, str):
            raise ValueError("Invalid `policy` argument. Expected the string name of a policy (such as "
                             f"'mixed_float16') or a `DTypePolicy` instance. Received: policy={policy} "
                             f"(of type {type(policy)})")
        policy = DTypePolicy(policy)
    _GLOBAL_POLICY = policy


_FLOATX_POLICIES = {}


def dtype_policy():
    """The global policy: the one set with `set_dtype_policy`, else the policy named `floatx()` (followed as it
    changes until a policy is set, as tf.keras does)."""
    if _GLOBAL_POLICY is not None:
        return _GLOBAL_POLICY
    name = floatx()
    policy = _FLOATX_POLICIES.get(name)
    if policy is None:
        policy = _FLOATX_POLICIES[name] = DTypePolicy(name)
    return policy


__all__ = ["DTypePolicy", "FloatDTypePolicy", "get", "serialize", "deserialize", "set_dtype_policy", "dtype_policy"]
