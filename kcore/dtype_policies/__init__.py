"""Dtype policies (Keras 3's `keras.dtype_policies`): which dtype a layer computes in and which its weights use.

    kcore.mixed_precision.set_global_policy("mixed_bfloat16")   # bfloat16 compute, float32 weights
    layer = kcore.layers.Dense(10)                               # takes the global policy when built
    layer.compute_dtype, layer.variable_dtype                    # ('bfloat16', 'float32')

Policies themselves are Keras's (any Keras dtype name, "mixed_float16" too, so configs and the policy API behave
as in Keras); a layer given one whose dtypes kcore cannot compute in raises a ValueError that says so: kcore
computes half precision only as bfloat16 ("mixed_bfloat16"), and has no quantized policies.
"""
from kcore.backend.config import floatx

# Dtypes a layer's policy may name in kcore (the dtypes of kcore's tensors).
SUPPORTED = ("float32", "float64", "bfloat16", "int32", "int64", "bool")
# The dtype names Keras accepts (keras.backend.standardize_dtype); "int" means int64 (TensorFlow backend).
_KERAS_DTYPES = ("float16", "float32", "float64", "uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32",
                 "int64", "bfloat16", "bool", "string", "float8_e4m3fn", "float8_e5m2", "complex64", "complex128")
_QUANTIZED = ("int8", "float8", "int4", "gptq", "awq")
_INVALID = ("Cannot convert '{}' to a mixed precision DTypePolicy. Valid policies include 'mixed_float16', "
            "'mixed_bfloat16', and the name of any float dtype such as 'float32'.")
_NO_HALF = ("kcore computes half precision only as bfloat16: the policy '{}' (float16) is not supported; use "
            "'mixed_bfloat16' (bfloat16 compute, float32 variables, no loss scaling needed) instead")


class DTypePolicy:
    """A layer's dtype policy: `compute_dtype` (inputs, computations and outputs) and `variable_dtype` (weights).

    `name` is a dtype name ("float32", "float64", "bfloat16": both dtypes that one) or "mixed_bfloat16"
    (bfloat16 compute, float32 variables); "mixed_float16" and other Keras dtype names make policies too, which
    layers refuse (see `check_supported`). None means the global policy's name. Invalid names raise Keras's
    ValueError; a name that is not a string raises TypeError.
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
    """(compute dtype, variable dtype) of a policy name, as Keras parses it."""
    if not isinstance(name, str):
        raise TypeError(f"'name' must be a string, such as 'mixed_float16'. Received: name={name} "
                        f"(of type {type(name)})")
    if name in ("mixed_float16", "mixed_bfloat16"):
        return name[6:], "float32"
    dtype = "int64" if name == "int" else name
    if dtype not in _KERAS_DTYPES:
        raise ValueError(_INVALID.format(name))
    return dtype, dtype


def check_supported(policy, who):
    """ValueError naming `who` unless kcore computes in the policy's dtypes (the half-precision error points to
    mixed_bfloat16)."""
    for dtype in (policy.compute_dtype, policy.variable_dtype):
        if dtype == "float16":
            raise ValueError(f"{who}: " + _NO_HALF.format(policy.name))
        if dtype not in SUPPORTED:
            raise ValueError(f"{who}: kcore cannot compute in {dtype} (dtype policy '{policy.name}'); a policy "
                             f"names one of {', '.join(SUPPORTED)} or 'mixed_bfloat16'")
    if "bfloat16" in (policy.compute_dtype, policy.variable_dtype):
        _register_bfloat16()


def _from_string(name):
    """The policy a name in `get` / `set_dtype_policy` describes (names of quantized policies are refused)."""
    if name.startswith(_QUANTIZED):
        if len(name.split("_from_")) != 2:
            raise ValueError("Cannot convert `policy` into a valid pair (`mode`, `source_name`) to instantiate "
                             f"`QuantizedDTypePolicy`. Received: policy={name}")
        raise ValueError(f"The quantized dtype policy '{name}' is not supported by kcore (no quantized layers); "
                         "use a float policy such as 'float32' or 'mixed_bfloat16'")
    return DTypePolicy(name)


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
        return _from_string(identifier)
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
    """Sets the global policy new layers take (a name such as "mixed_bfloat16", or a DTypePolicy)."""
    global _GLOBAL_POLICY
    if not isinstance(policy, DTypePolicy):
        if not isinstance(policy, str):
            raise ValueError("Invalid `policy` argument. Expected the string name of a policy (such as "
                             f"'mixed_float16') or a `DTypePolicy` instance. Received: policy={policy} "
                             f"(of type {type(policy)})")
        policy = _from_string(policy)
    _GLOBAL_POLICY = policy


def _follow_floatx():
    """Forgets the global policy set, so that `dtype_policy()` follows `floatx()` again (for tests)."""
    global _GLOBAL_POLICY
    _GLOBAL_POLICY = None


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
