"""Initializers against real Keras 3: constructor arguments, defaults and configs (references in
tests/data/keras_metrics_parity.json, from tests/data/gen/make_keras_metrics_parity.py), and the fans that
input_axes / output_axes select."""
import json
import os

import numpy as np
import pytest

from kcore import initializers

_DATA = json.load(open(os.path.join(os.path.dirname(__file__), "data", "keras_metrics_parity.json")))


@pytest.mark.parametrize("case", _DATA["initializer_configs"], ids=lambda c: f"{c['cls']}-{c['kwargs']}")
def test_initializer_configs_match_keras(case):
    cls = getattr(initializers, case["cls"])
    init = cls(**case["kwargs"])
    config = init.get_config()
    assert config == case["config"]
    clone = cls.from_config(config)
    assert type(clone) is cls and clone.get_config() == config
    assert initializers.get({"class_name": case["cls"], "config": config}).get_config() == config


def test_input_and_output_axes_choose_the_fans():
    assert initializers.compute_fans((3, 4, 5), input_axes=[0, 1], output_axes=[2]) == (12, 5)
    assert initializers.compute_fans((3, 4, 5)) == (12, 15)  # default: receptive field 3
    w = initializers.VarianceScaling(scale=2.0, mode="fan_in", distribution="untruncated_normal", seed=0,
                                     input_axes=[0, 1], output_axes=[2])((60, 50, 40))
    assert np.std(w) == pytest.approx(np.sqrt(2.0 / 3000), rel=0.02)
    w = initializers.HeUniform(seed=1, input_axes=[2], output_axes=[0])((30, 20, 500))
    assert np.abs(w).max() <= np.sqrt(6.0 / 500) and np.abs(w).max() > 0.95 * np.sqrt(6.0 / 500)


def test_legacy_aliases_and_arrays():
    for alias, cls in [("normal", initializers.RandomNormal), ("uniform", initializers.RandomUniform),
                       ("zero", initializers.Zeros), ("one", initializers.Ones),
                       ("OrthogonalInitializer", initializers.Orthogonal),
                       ("IdentityInitializer", initializers.Identity)]:
        assert type(initializers.get(alias)) is cls
    values = np.arange(6, dtype=np.float32).reshape(2, 3)
    fn = initializers.get(values)
    np.testing.assert_array_equal(fn((2, 3)), values)
    with pytest.raises(ValueError, match=r"initializer: the given array has shape \(2, 3\)"):
        fn((3, 2))
    with pytest.raises(ValueError, match="VarianceScaling: invalid distribution"):
        initializers.VarianceScaling(distribution="cauchy")
