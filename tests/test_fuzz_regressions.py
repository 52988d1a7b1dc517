"""Regressions from the issue-11 fuzz campaign (tools/fuzz.py): each input once crashed, hung or gave an
unhelpful exception; now each is refused with a ValueError/TypeError naming the file, layer or argument."""
import os
import struct
import subprocess
import sys
import warnings
import zipfile

import numpy as np
import pytest

import kcore

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HOSTILE = os.path.join(ROOT, "tests", "data", "hostile")


def _model():
    model = kcore.Sequential([kcore.Input((3,)), kcore.layers.Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    return model


def _load_in_subprocess(path, loader="load_model"):
    """(exception type, message) of loading `path` in a fresh interpreter, so that a regression to a segfault
    or an endless loop inside libhdf5 fails this test instead of killing or hanging the test run."""
    code = ("import sys, warnings; warnings.simplefilter('ignore'); import kcore\n"
            "m = kcore.Sequential([kcore.Input((3,)), kcore.layers.Dense(2)])\n"
            "try:\n"
            f"    kcore.models.load_model(sys.argv[1]) if {loader == 'load_model'} else m.load_weights(sys.argv[1])\n"
            "    print('LOADED')\n"
            "except Exception as e:\n"
            "    print('ValueError' if isinstance(e, ValueError) else type(e).__name__, '|', e)\n")
    proc = subprocess.run([sys.executable, "-c", code, path], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, f"the loader died (status {proc.returncode}): {proc.stderr[-2000:]}"
    kind, _, message = proc.stdout.strip().partition(" | ")
    return kind, message


def _save_legacy(model, path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.save(path)


def test_a_global_heap_object_of_size_zero_is_refused_not_looped_on(tmp_path):
    """libhdf5 loops forever decoding a global heap whose object has size 0 (reading a vlen string attribute)."""
    from kcore.saving.h5_safety import check_global_heaps

    path = str(tmp_path / "m.h5")
    _save_legacy(_model(), path)
    data = bytearray(open(path, "rb").read())
    at = data.find(b"GCOL")
    assert at >= 0
    check_global_heaps(bytes(data), path)  # the intact file passes
    struct.pack_into("<HHIQ", data, at + 16, 0, 0, 0, 0)  # first object: free space of size 0
    with pytest.raises(ValueError, match="global heap"):
        check_global_heaps(bytes(data), path)
    bad = tmp_path / "bad.h5"
    bad.write_bytes(bytes(data))
    for loader in ("load_model", "load_weights"):
        kind, message = _load_in_subprocess(str(bad), loader)
        assert kind == "ValueError" and str(bad) in message and "global heap" in message, (kind, message)


def test_an_oversized_global_heap_object_is_refused(tmp_path):
    from kcore.saving.h5_safety import check_global_heaps

    path = str(tmp_path / "m.h5")
    _save_legacy(_model(), path)
    data = bytearray(open(path, "rb").read())
    at = data.find(b"GCOL")
    struct.pack_into("<Q", data, at + 16 + 8, 2 ** 63)
    with pytest.raises(ValueError, match="impossible size"):
        check_global_heaps(bytes(data), path)


@pytest.mark.parametrize("name", ["vlen_model_config.h5", "looping_global_heap.h5"])
def test_fuzz_found_files_are_refused_naming_the_file(name):
    """Byte-flipped .h5 models from the campaign: one made h5py segfault (model_config's string type turned
    into a variable-length sequence), the other made libhdf5 loop forever in its global heap."""
    path = os.path.join(HOSTILE, name)
    kind, message = _load_in_subprocess(path)
    assert kind == "ValueError" and path in message, (kind, message)


def test_an_attribute_of_variable_length_numbers_is_refused(tmp_path):
    import h5py

    path = str(tmp_path / "m.h5")
    _save_legacy(_model(), path)
    with h5py.File(path, "a") as f:
        del f.attrs["model_config"]
        value = np.empty((), dtype=object)
        value[()] = np.array([1, 2, 3], dtype="i4")
        f.attrs.create("model_config", value, dtype=h5py.vlen_dtype("i4"))
    with pytest.raises(ValueError, match=r"m\.h5.*model_config.*TypeVlenID"):
        kcore.models.load_model(path)


def test_a_legacy_config_error_names_the_file(tmp_path):
    import h5py

    path = str(tmp_path / "garbled.h5")
    _save_legacy(_model(), path)
    with h5py.File(path, "a") as f:
        f.attrs["model_config"] = f.attrs["model_config"].replace('"Dense"', '"Dxnse"')
    with pytest.raises(ValueError, match=r"garbled\.h5.*Dxnse"):
        kcore.models.load_model(path)


def test_an_unsupported_zip_version_names_the_file(tmp_path):
    """zipfile raises NotImplementedError for a member needing a newer zip version; it reaches the user as a
    ValueError naming the file."""
    path = str(tmp_path / "m.keras")
    model = _model()
    model.save(path)
    data = bytearray(open(path, "rb").read())
    central = data.find(b"PK\x01\x02")
    data[central + 6] = 215  # "version needed to extract": 21.5
    open(path, "wb").write(bytes(data))
    with pytest.raises(NotImplementedError):  # what zipfile itself says
        zipfile.ZipFile(path)
    for load in (lambda: kcore.models.load_model(path), lambda: model.load_weights(path)):
        with pytest.raises(ValueError, match=r"m\.keras.*not a valid \.keras archive"):
            load()


# -- layers -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("axis,shape", [(-1, ()), (5, (4, 3, 1)), (-5, (4, 4)), (1, (4,))])
def test_batch_normalization_axis_out_of_range_names_the_layer(axis, shape):
    layer = kcore.layers.BatchNormalization(axis=axis)
    with pytest.raises(ValueError, match=r"BatchNormalization.*axis .* out of bounds"):
        layer(np.zeros(shape, "float32"))


def test_batch_normalization_axis_must_be_one_int():
    with pytest.raises(TypeError, match="BatchNormalization.*'axis'"):
        kcore.layers.BatchNormalization(axis=(1, 2))
    with pytest.raises(TypeError, match="BatchNormalization.*'axis'"):
        kcore.layers.BatchNormalization(axis=1.5)
    layer = kcore.layers.BatchNormalization(axis=[1])
    assert layer.axis == 1
    assert layer(np.ones((2, 3), "float32")).shape == (2, 3)


def test_dot_compute_output_shape_needs_two_shapes():
    layer = kcore.layers.Dot(axes=-1)
    with pytest.raises(ValueError, match=r"Dot.*two shapes"):
        layer.compute_output_shape((2, 3))
    assert layer.compute_output_shape([(2, 3), (2, 3)]) == (2, 1)


# -- fit arguments --------------------------------------------------------------------------------------------

def _fit(**kwargs):
    x = np.ones((8, 3), "float32")
    y = np.eye(2, dtype="float32")[[0, 1] * 4]
    _model().fit(x, y, verbose=0, **kwargs)


@pytest.mark.parametrize("kwargs,error,pattern", [
    ({"epochs": 1.5}, TypeError, "fit.*'epochs' must be an integer"),
    ({"initial_epoch": "0"}, TypeError, "fit.*'initial_epoch' must be an integer"),
    ({"sample_weight": "w"}, TypeError, "sample_weight must be an array of numbers"),
    ({"sample_weight": ["a"] * 8}, ValueError, "sample_weight must be an array of numbers"),
    ({"class_weight": {0: "a"}}, ValueError, "class_weight must map integer class indices to numbers"),
    ({"class_weight": [1.0, 2.0]}, TypeError, "class_weight must be a dict"),
    ({"class_weight": {0: 1.0}, "sample_weight": np.ones(9)}, ValueError, r"sample_weight has shape \(9,\)"),
    ({"class_weight": {0: 1.0}, "sample_weight": "w"}, TypeError, "sample_weight must be an array of numbers"),
])
def test_fit_rejects_odd_arguments_by_name(kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        _fit(**kwargs)


def test_class_weight_with_empty_targets_names_the_argument():
    with pytest.raises(ValueError, match="class_weight needs non-empty numeric targets"):
        _model().fit(np.zeros((0, 3), "float32"), np.zeros((0,), "int64"), class_weight={0: 1.0}, verbose=0)


def test_fit_still_takes_numpy_integers_and_integral_float_class_keys():
    _fit(epochs=np.int64(1), class_weight={0.0: 1.0, np.int64(1): 2.0}, sample_weight=np.ones(8))
