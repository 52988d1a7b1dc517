"""kcore.mixed_precision / kcore.dtype_policies: the policy API, layers' dtype arguments and properties, autocast,
and configs, against values real Keras 3 produced (tests/data/gen/make_keras_mixed_precision_reference.py)."""
import json
import os

import numpy as np
import pytest

import kcore
from kcore import dtype_policies, layers, mixed_precision

DATA = os.path.join(os.path.dirname(__file__), "data")
with open(os.path.join(DATA, "keras3_mixed_precision.json")) as f:
    REF = json.load(f)


@pytest.fixture(autouse=True)
def _float32_global_policy():
    dtype_policies._follow_floatx()
    yield
    dtype_policies._follow_floatx()


@pytest.mark.parametrize("name", sorted(REF["policy"]["policies"]))
def test_policy_values_match_keras(name):
    want = REF["policy"]["policies"][name]
    for cls in (mixed_precision.Policy, mixed_precision.DTypePolicy, dtype_policies.DTypePolicy, kcore.DTypePolicy):
        p = cls(name)
        assert (p.name, p.compute_dtype, p.variable_dtype) == (want["name"], want["compute_dtype"],
                                                               want["variable_dtype"])
        assert repr(p) == want["repr"]
        assert p.get_config() == want["config"]
        assert dtype_policies.serialize(p) == want["serialized"]
        assert dtype_policies.deserialize(want["serialized"]) == p
        assert dtype_policies.get(want["serialized"]) == p


@pytest.mark.parametrize("key", sorted(REF["policy"]["errors"]))
def test_invalid_policies_raise_keras_errors(key):
    label, bad = key.split("|")
    bad = eval(bad)  # the repr of a str or an int
    fn = {"Policy": mixed_precision.Policy, "set_global_policy": mixed_precision.set_global_policy,
          "get": dtype_policies.get}[label]
    kind, message = REF["policy"]["errors"][key]
    with pytest.raises({"TypeError": TypeError, "ValueError": ValueError}[kind]) as info:
        fn(bad)
    assert str(info.value) == message


@pytest.mark.parametrize("name", ["float16", "mixed_float16"])
def test_layers_refuse_half_precision_and_point_to_bfloat16(name):
    mixed_precision.set_global_policy(name)  # the policy API accepts it, as Keras's does
    assert mixed_precision.global_policy().compute_dtype == "float16"
    with pytest.raises(ValueError, match="Dense: Layer 'dense.*only as bfloat16.*mixed_bfloat16"):
        layers.Dense(2)
    with pytest.raises(ValueError, match="only as bfloat16"):
        layers.LSTM(2, dtype=name)


def test_layers_refuse_dtypes_kcore_cannot_compute_in():
    with pytest.raises(ValueError, match="kcore cannot compute in uint8"):
        layers.Dense(2, dtype="uint8")
    assert kcore.Input((3,), dtype="uint8").dtype == "uint8"  # an Input only declares its data's dtype
    with pytest.raises(ValueError, match="quantized dtype policy 'int8_from_float32' is not supported"):
        dtype_policies.get("int8_from_float32")
    with pytest.raises(ValueError, match="quantized dtype policy"):
        mixed_precision.set_global_policy("int8_from_mixed_bfloat16")


def test_global_policy_api_and_aliases():
    assert repr(mixed_precision.global_policy()) == REF["policy"]["default_global"]
    mixed_precision.set_global_policy("mixed_bfloat16")
    assert repr(mixed_precision.global_policy()) == REF["global_after_set"]
    assert mixed_precision.dtype_policy() is mixed_precision.global_policy()
    assert mixed_precision.Policy().name == "mixed_bfloat16"  # None: the global policy's name
    assert dtype_policies.get(None) is mixed_precision.global_policy()
    mixed_precision.set_dtype_policy(mixed_precision.Policy("float64"))
    assert mixed_precision.global_policy().name == "float64"
    assert kcore.mixed_precision.global_policy is kcore.dtype_policies.dtype_policy
    kcore.config.set_dtype_policy("mixed_bfloat16")
    assert kcore.config.dtype_policy().name == "mixed_bfloat16" and kcore.config.floatx() == "float32"


def test_global_policy_follows_floatx_until_set():
    kcore.backend.set_floatx("float64")
    try:
        assert mixed_precision.global_policy().name == "float64"
        assert layers.Dense(2).dtype == "float64"
    finally:
        kcore.backend.set_floatx("float32")
    mixed_precision.set_global_policy("mixed_bfloat16")
    kcore.backend.set_floatx("float64")
    try:
        assert mixed_precision.global_policy().name == "mixed_bfloat16"  # a policy set stays (Keras)
    finally:
        kcore.backend.set_floatx("float32")


def test_get_accepts_dtypes_and_policies():
    p = mixed_precision.Policy("mixed_bfloat16")
    assert dtype_policies.get(p) is p
    assert dtype_policies.get(np.float32) == mixed_precision.Policy("float32")
    assert dtype_policies.get(np.dtype("float64")).name == "float64"
    assert dtype_policies.get(float).name == "float32" and dtype_policies.get(bool).name == "bool"
    assert dtype_policies.FloatDTypePolicy("float32") == mixed_precision.Policy("float32")
    assert mixed_precision.Policy("float32") != "float32"
    assert dtype_policies.get({"class_name": "DTypePolicy", "config": {"name": "mixed_bfloat16"}}).name == \
        "mixed_bfloat16"


def test_layers_take_the_global_policy_at_construction():
    mixed_precision.set_global_policy("mixed_bfloat16")
    mixed = layers.Dense(2)
    own = layers.Dense(2, dtype="float32")
    mixed_precision.set_global_policy("float32")
    assert repr(mixed.dtype_policy) == '<DTypePolicy "mixed_bfloat16">'
    assert (mixed.compute_dtype, mixed.variable_dtype, mixed.dtype) == ("bfloat16", "float32", "float32")
    assert repr(own.dtype_policy) == '<DTypePolicy "float32">'
    assert layers.Dense(2).compute_dtype == "float32"


def test_layer_dtype_arguments():
    policy = mixed_precision.Policy("mixed_bfloat16")
    for layer in (layers.Dense(2, dtype=policy), layers.Dense(2, dtype="mixed_bfloat16"),
                  layers.Dense(2, dtype_policy="mixed_bfloat16"),
                  layers.Dense(2, dtype={"module": "keras", "class_name": "DTypePolicy",
                                         "config": {"name": "mixed_bfloat16"}, "registered_name": None})):
        assert layer.dtype_policy == policy and layer.compute_dtype == "bfloat16" and layer.dtype == "float32"
    assert layers.Dense(2, dtype=np.float64).dtype_policy.name == "float64"
    layer = layers.Dense(2)
    layer.dtype_policy = "mixed_bfloat16"  # the setter, as in Keras
    assert layer.compute_dtype == "bfloat16"
    with pytest.raises(ValueError, match="Cannot convert 'foo'"):
        layers.Dense(2, dtype="foo")
    with pytest.raises(ValueError, match="Cannot interpret `dtype` argument.*dtype=3.5"):
        layers.Dense(2, dtype=3.5)


def test_weights_are_created_in_the_variable_dtype():
    layer = layers.Dense(3, dtype="mixed_bfloat16")
    layer.build((None, 4))
    assert [w.dtype for w in layer.weights] == ["float32", "float32"]
    assert [w.dtype for w in layer.get_weights()] == [np.float32, np.float32]


def test_config_carries_the_policy_as_keras_writes_it():
    want = REF["models"]["cnn_config"]["config"]["layers"]
    layer = layers.Dense(10, dtype="mixed_bfloat16")
    head = layers.Activation("softmax", dtype="float32")
    assert layer.get_config()["dtype"] == want[4]["config"]["dtype"]
    assert head.get_config()["dtype"] == want[5]["config"]["dtype"]
    again = layers.Dense.from_config(layer.get_config())
    assert again.dtype_policy == layer.dtype_policy
    assert layers.Activation.from_config(head.get_config()).dtype_policy.name == "float32"


class _Probe(layers.Layer):
    """Records the dtype of its weight as `call` sees it."""

    def build(self, input_shape):
        self.w = self.add_weight("w", (input_shape[-1],), "ones")
        self.raw = self.add_weight("raw", (input_shape[-1],), "ones", autocast=False)

    def call(self, x):
        self.seen = (x.dtype, self.w.dtype, type(self.w).__name__, self.raw.dtype)
        return kcore.ops.multiply(x, self.w)


class _Outer(layers.Layer):
    def __init__(self, inner, **kwargs):
        super().__init__(**kwargs)
        self.inner = inner

    def build(self, input_shape):
        self.v = self.add_weight("v", (input_shape[-1],), "ones")

    def call(self, x):
        self.seen = self.v.dtype
        return self.inner(x)


def test_weights_are_read_in_the_compute_dtype_inside_call_only():
    probe = _Probe(dtype="mixed_bfloat16")
    y = probe(np.ones((2, 3), np.float32))
    assert probe.seen == ("bfloat16", "bfloat16", "Tensor", "float32")
    assert y.dtype == "bfloat16"
    assert isinstance(probe.w, kcore.Variable) and probe.w.dtype == "float32"  # put back after the call
    plain = _Probe()
    plain(np.ones((2, 3), np.float32))
    assert plain.seen == ("float32", "float32", "Variable", "float32")


def test_nested_layers_read_weights_in_their_own_compute_dtype():
    outer = _Outer(_Probe(dtype="float32"), dtype="mixed_bfloat16")
    y = outer(np.ones((2, 3), np.float32))
    assert outer.seen == "bfloat16"
    assert outer.inner.seen == ("float32", "float32", "Variable", "float32")
    assert y.dtype == "float32"
    built = _Probe(dtype="float32")
    built.build((None, 3))  # its weights exist when the outer call casts them
    outer = _Outer(built, dtype="mixed_bfloat16")
    outer(np.ones((2, 3), np.float32))
    assert outer.seen == "bfloat16" and built.seen == ("float32", "float32", "Variable", "float32")
    outer = _Outer(_Probe(dtype="mixed_bfloat16"), dtype="float32")
    outer(np.ones((2, 3), np.float32))
    assert outer.seen == "float32" and outer.inner.seen[:2] == ("bfloat16", "bfloat16")
    assert isinstance(outer.inner.w, kcore.Variable) and isinstance(outer.v, kcore.Variable)


def test_gradients_reach_float32_variables_in_float32():
    layer = layers.Dense(3, dtype="mixed_bfloat16")
    x = kcore.convert_to_tensor(np.random.default_rng(0).standard_normal((4, 5)).astype(np.float32))
    with kcore.GradientTape() as tape:
        tape.watch(x)
        y = layer(x)
        loss = kcore.ops.sum(kcore.ops.cast(y, "float32"))
    grads = tape.gradient(loss, layer.trainable_weights + [x])
    assert [g.dtype for g in grads] == ["float32", "float32", "float32"]
    np.testing.assert_allclose(grads[1].numpy(), np.full(3, 4.0))  # d sum / d bias = batch size


class _Listed(layers.Layer):
    """Keeps its weights in a list attribute."""

    def build(self, input_shape):
        self.ws = [self.add_weight(f"w{i}", (input_shape[-1],), "ones") for i in range(2)]

    def call(self, x):
        self.seen = [w.dtype for w in self.ws]
        return kcore.ops.multiply(kcore.ops.multiply(x, self.ws[0]), self.ws[1])


def test_weights_in_list_attributes_are_cast_too():
    layer = _Listed(dtype="mixed_bfloat16")
    x = kcore.convert_to_tensor(np.full((2, 3), 2.0, np.float32))
    with kcore.GradientTape() as tape:
        y = layer(x)
        loss = kcore.ops.sum(kcore.ops.cast(y, "float32"))
    assert layer.seen == ["bfloat16", "bfloat16"] and y.dtype == "bfloat16"
    assert all(isinstance(w, kcore.Variable) for w in layer.ws)
    grads = tape.gradient(loss, layer.ws)
    assert [g.dtype for g in grads] == ["float32", "float32"]
    np.testing.assert_array_equal(grads[0].numpy(), np.full(3, 4.0))


def test_autocast_false_keeps_inputs_and_weights():
    probe = _Probe(dtype="mixed_bfloat16", autocast=False)
    probe(kcore.convert_to_tensor(np.ones((2, 3), np.float32)))
    assert probe.seen == ("float32", "float32", "Variable", "float32")


class _MaskProbe(layers.Layer):
    def call(self, x, mask=None):
        self.seen = (x.dtype, mask)
        return x


def test_cast_inputs_keep_their_mask():
    x = kcore.convert_to_tensor(np.ones((1, 2), np.float32))
    x._keras_mask = np.array([True, False])
    probe = _MaskProbe(dtype="mixed_bfloat16")
    probe.supports_masking = True
    y = probe(x)
    assert probe.seen[0] == "bfloat16" and probe.seen[1].tolist() == [True, False]
    assert np.asarray(y._keras_mask).tolist() == [True, False]


def test_integer_inputs_are_not_cast():
    layer = layers.Embedding(10, 3, dtype="mixed_bfloat16")
    y = layer(np.array([[1, 2], [3, 4]]))
    assert y.dtype == "bfloat16" and layer.embeddings.dtype == "float32"


def test_symbolic_outputs_carry_the_compute_dtype():
    mixed_precision.set_global_policy("mixed_bfloat16")
    inputs = kcore.Input((6,))
    a = layers.Dense(4)(inputs)
    out = layers.Activation("softmax", dtype="float32")(a)
    assert (inputs.dtype, a.dtype, out.dtype) == ("float32", "bfloat16", "float32")


def test_info_prints_the_global_policy(capsys):
    from kcore import info

    mixed_precision.set_global_policy("mixed_bfloat16")
    info.main()
    assert "mixed_bfloat16" in capsys.readouterr().out

