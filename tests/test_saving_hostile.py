"""Hostile and damaged files: every one fails with a clear error naming the file, nothing outside the
file is read, and a failed load leaves the model's weights untouched."""
import builtins
import io
import json
import os
import re
import zipfile

import h5py
import numpy as np
import pytest

import kcore
from kcore import layers
from kcore.saving.h5_safety import CHECKSUM_ATTR, CHECKSUM_MARK, SafeH5Reader


def _model(seed=0):
    kcore.utils.set_random_seed(seed)
    return kcore.Sequential([kcore.Input((4,)), layers.Dense(3), layers.Dense(2)])


def _weights_file(tmp_path, keras_like=True):
    """A .weights.h5 of _model(); keras_like drops kcore's checksums, as in a file written by Keras."""
    path = tmp_path / "w.weights.h5"
    _model(1).save_weights(path)
    if keras_like:
        with h5py.File(path, "r+") as f:
            del f.attrs[CHECKSUM_MARK]
            f.visititems(lambda name, obj: obj.attrs.__delitem__(CHECKSUM_ATTR) if CHECKSUM_ATTR in obj.attrs else None)
    return path


def _expect_refused(model, path, pattern):
    before = model.get_weights()
    with pytest.raises(ValueError, match=pattern) as info:
        model.load_weights(path)
    assert str(path) in str(info.value)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)  # nothing was assigned
    return info.value


def _secret(tmp_path):
    secret = tmp_path / "secret.bin"
    secret.write_bytes(np.arange(12, dtype=np.float32).tobytes())
    return secret


def test_external_storage_is_refused_before_reading(tmp_path):
    path, secret = _weights_file(tmp_path), _secret(tmp_path)
    with h5py.File(path, "r+") as f:
        del f["layers/dense/vars/0"]
        f["layers/dense/vars"].create_dataset("0", shape=(4, 3), dtype="<f4", external=[(str(secret), 0, 48)])
    with h5py.File(path, "r") as f:  # what a trusting reader would load: the secret's bytes
        np.testing.assert_array_equal(f["layers/dense/vars/0"][()].ravel(), np.arange(12))
    err = _expect_refused(_model(), path, "external storage")
    assert "layers/dense/vars/0" in str(err)


def test_external_storage_inside_a_keras_archive_is_refused(tmp_path):
    model = _model(2)
    archive = tmp_path / "m.keras"
    model.save(archive)
    weights, secret = _weights_file(tmp_path), _secret(tmp_path)
    with h5py.File(weights, "r+") as f:
        del f["layers/dense/vars/0"]
        f["layers/dense/vars"].create_dataset("0", shape=(4, 3), dtype="<f4", external=[(str(secret), 0, 48)])
    _replace_member(archive, "model.weights.h5", weights.read_bytes())
    with pytest.raises(ValueError, match="external storage") as info:
        kcore.models.load_model(archive)
    assert str(archive) in str(info.value)
    _expect_refused(model, archive, "external storage")


def _replace_member(archive, name, data, compress=zipfile.ZIP_STORED):
    with zipfile.ZipFile(archive) as z:
        members = {n: z.read(n) for n in z.namelist()}
    members[name] = data
    with zipfile.ZipFile(archive, "w", compression=compress) as z:
        for n, d in members.items():
            z.writestr(n, d)


def test_virtual_dataset_is_refused(tmp_path):
    path = _weights_file(tmp_path)
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f["s"] = np.full((4, 3), 7.0, np.float32)
    with h5py.File(path, "r+") as f:
        del f["layers/dense/vars/0"]
        layout = h5py.VirtualLayout(shape=(4, 3), dtype="<f4")
        layout[:] = h5py.VirtualSource(str(other), "s", shape=(4, 3))
        f["layers/dense/vars"].create_virtual_dataset("0", layout)
    _expect_refused(_model(), path, "virtual dataset")


@pytest.mark.parametrize("kind", ["external", "soft"])
def test_links_are_refused(tmp_path, kind):
    path = _weights_file(tmp_path)
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f["vars/0"] = np.ones((4, 3), np.float32)
        f["vars/1"] = np.ones((3,), np.float32)
    with h5py.File(path, "r+") as f:
        f.move("layers/dense/vars", "layers/dense/old")
        f["layers/dense/vars"] = (h5py.ExternalLink(str(other), "/vars") if kind == "external"
                                  else h5py.SoftLink("/layers/dense/old"))
    _expect_refused(_model(), path, "Link")


@pytest.mark.parametrize("value, pattern", [
    (np.ones((3, 4), np.float32), r"shape \(3, 4\), expected \(4, 3\)"),
    (np.ones((4, 3), np.int32), "dtype int32"),
    (np.ones((4, 3), np.complex64), "dtype complex64"),
    (np.array([[b"abc"] * 3] * 4), "dtype"),
    (np.zeros((4, 3), dtype=[("a", "<f4")]), "dtype"),
])
def test_wrong_shape_or_dtype_is_refused_before_reading(tmp_path, value, pattern):
    path = _weights_file(tmp_path)
    with h5py.File(path, "r+") as f:
        del f["layers/dense/vars/0"]
        f["layers/dense/vars/0"] = value
    _expect_refused(_model(), path, pattern)


def test_variable_length_and_plugin_filters_are_refused(tmp_path):
    path = _weights_file(tmp_path)
    with h5py.File(path, "r+") as f:
        del f["layers/dense/vars/0"], f["layers/dense/vars/1"]
        f["layers/dense/vars"].create_dataset("0", shape=(4, 3), dtype="<f4", chunks=(2, 3), compression=32004,
                                              allow_unknown_filter=True)
        f["layers/dense/vars"].create_dataset("1", shape=(3,), dtype=h5py.vlen_dtype(np.float32))
    _expect_refused(_model(), path, "filter plugin 32004")


def test_shape_bomb_is_refused_by_the_reusable_check(tmp_path):
    path = tmp_path / "bomb.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("big", shape=(1 << 30, 64), dtype="<f4", chunks=(1024, 64), compression="gzip")
        f["small"] = np.arange(5.0)
    with h5py.File(path, "r") as f:
        reader = SafeH5Reader(f, str(path))
        with pytest.raises(ValueError, match=re.escape(str(path)) + ".*decompression bomb"):
            reader.read("big")  # no expected shape given (as a legacy loader may not know it)
        np.testing.assert_array_equal(reader.read("small"), np.arange(5.0))
        with pytest.raises(ValueError, match="'/missing' is missing"):
            reader.read("missing")


def test_a_flipped_data_byte_fails_the_checksum(tmp_path):
    path = tmp_path / "w.weights.h5"
    model = _model(3)
    model.save_weights(path)
    raw = bytearray(path.read_bytes())
    kernel = model.layers[0].kernel.numpy().tobytes()
    at = raw.find(kernel)
    assert at > 0
    raw[at + 5] ^= 0x10
    path.write_bytes(bytes(raw))
    _expect_refused(_model(), path, "fails its checksum")


def test_single_byte_flips_never_load_different_weights(tmp_path):
    path = tmp_path / "w.weights.h5"
    model = _model(4)
    model.save_weights(path)
    good, expected = path.read_bytes(), model.get_weights()
    target = _model(5)
    positions = np.random.default_rng(0).choice(len(good), size=300, replace=False)
    outcomes = {"refused": 0, "identical": 0}
    for pos in positions:
        raw = bytearray(good)
        raw[pos] ^= 1 << int(pos % 8)
        path.write_bytes(bytes(raw))
        target.set_weights([np.zeros_like(w) for w in expected])
        try:
            target.load_weights(path)
        except ValueError as e:
            assert str(path) in str(e), e
            outcomes["refused"] += 1
            continue
        for a, b in zip(target.get_weights(), expected):
            np.testing.assert_array_equal(a, b, err_msg=f"flip at byte {pos} loaded different weights")
        outcomes["identical"] += 1
    assert outcomes["refused"] > 0 and outcomes["identical"] > 0


def test_files_without_checksums_still_load(tmp_path):
    path = _weights_file(tmp_path, keras_like=True)
    model = _model()
    model.load_weights(path)
    for a, b in zip(model.get_weights(), _model(1).get_weights()):
        np.testing.assert_array_equal(a, b)


def test_a_checksummed_file_missing_one_checksum_is_refused(tmp_path):
    path = tmp_path / "w.weights.h5"
    _model(1).save_weights(path)
    with h5py.File(path, "r+") as f:
        del f["layers/dense_1/vars/1"].attrs[CHECKSUM_ATTR]
    _expect_refused(_model(), path, "has no checksum")


def test_not_hdf5_names_the_file(tmp_path):
    path = tmp_path / "w.weights.h5"
    path.write_bytes(b"this is not an HDF5 file" * 10)
    _expect_refused(_model(), path, "cannot be loaded")


# -- .keras archives and configs -------------------------------------------------------------------


def _saved(tmp_path, model=None):
    path = tmp_path / "m.keras"
    (model or _model(6)).save(path)
    return path


def _config(path):
    with zipfile.ZipFile(path) as z:
        return json.loads(z.read("config.json"))


def _expect_load_refused(path, pattern, **kwargs):
    with pytest.raises(ValueError, match=pattern) as info:
        kcore.models.load_model(path, **kwargs)
    assert str(path) in str(info.value)
    return info.value


def test_zip_bomb_member_is_refused(tmp_path):
    path = _saved(tmp_path)
    _replace_member(path, "model.weights.h5", b"\0" * (8 << 20), compress=zipfile.ZIP_DEFLATED)
    _expect_load_refused(path, "decompression bomb")
    with pytest.raises(ValueError, match="decompression bomb"):
        _model().load_weights(path)


def test_oversized_config_is_refused(tmp_path, monkeypatch):
    from kcore.saving import saving_api

    path = _saved(tmp_path)
    monkeypatch.setattr(saving_api, "MAX_CONFIG_BYTES", 1000)
    _expect_load_refused(path, r"config.json declares \d+ bytes, more than the 1000")


@pytest.mark.parametrize("depth", [150, 100_000])
def test_deeply_nested_config_is_refused_not_a_recursion_error(tmp_path, depth):
    path = _saved(tmp_path)
    config = _config(path)
    text = json.dumps(config).replace('"units": 3', '"units": ' + "[" * depth + "3" + "]" * depth, 1)
    _replace_member(path, "config.json", text.encode())
    _expect_load_refused(path, f"nests {depth + 5} levels deep")


def test_reshape_overflow_then_cropping_is_refused_naming_the_layer(tmp_path):
    model = kcore.Sequential([kcore.Input((None,)), layers.Reshape((2**62 + 2, 4), name="huge"),
                              layers.Cropping1D((1, 1))])
    path = _saved(tmp_path, model)
    err = _expect_load_refused(path, r"Layer 'huge' \(Reshape\)")
    assert "2**40" in str(err) or str(1 << 40) in str(err)


@pytest.mark.parametrize("edit, pattern", [
    (lambda c: c["config"]["layers"][1]["config"].update(units=2**50), r"Layer 'dense.*' \(Dense\).*'units'"),
    (lambda c: c["config"]["layers"][1]["config"].update(units=-3), r"Layer 'dense.*' \(Dense\).*units"),
    (lambda c: c["config"]["layers"][1]["config"].update(units="many"), r"Layer 'dense.*' \(Dense\).*units"),
    (lambda c: c["config"]["layers"][1].update(build_config={"input_shape": [None, 2**30, 2**30]}),
     r"\(Dense\).*elements"),
    (lambda c: c["config"]["layers"][0]["config"].update(batch_shape=[None, 2**30, 2**30]), r"elements"),
    (lambda c: c["config"]["layers"][1].update(config=[1, 2]), "config that is not a dict"),
    (lambda c: c["config"]["layers"].append(["not", "a", "layer"]), "must be a dict"),
    (lambda c: c["config"].update(layers="dense"), "list of 'layers'"),
    (lambda c: c["config"]["layers"][2].update(class_name="Nonexistent"), "Unknown layer: 'Nonexistent'"),
    (lambda c: c.update(config=None), "must be a dict"),
])
def test_hostile_configs_give_clear_errors(tmp_path, edit, pattern):
    path = _saved(tmp_path)
    config = _config(path)
    edit(config)
    _replace_member(path, "config.json", json.dumps(config).encode())
    _expect_load_refused(path, pattern)


def test_hostile_functional_config_names_the_layer(tmp_path):
    inputs = kcore.Input((None,))
    out = layers.Cropping1D((1, 1))(layers.Reshape((8, 4), name="grow")(inputs))
    path = _saved(tmp_path, kcore.Model(inputs, out))
    config = _config(path)
    grow = next(entry for entry in config["config"]["layers"] if entry["name"] == "grow")
    grow["config"]["target_shape"] = [2**39, 2**10]
    _replace_member(path, "config.json", json.dumps(config).encode())
    _expect_load_refused(path, r"Layer 'grow' \(Reshape\).*elements")


def test_permission_denied_is_a_permission_error(tmp_path, monkeypatch):
    archive, weights = _saved(tmp_path), tmp_path / "w.weights.h5"
    _model().save_weights(weights)
    for path in (archive, weights):
        path.chmod(0)
    if os.geteuid() == 0:  # root reads anything: make open() answer as it would for another user
        real_open = builtins.open

        def denying_open(file, *args, **kwargs):
            if os.fspath(file) in (str(archive), str(weights)):
                raise PermissionError(13, "Permission denied", os.fspath(file))
            return real_open(file, *args, **kwargs)

        monkeypatch.setattr(builtins, "open", denying_open)
        monkeypatch.setattr(io, "open", denying_open)
    with pytest.raises(PermissionError, match=re.escape(str(archive))):
        kcore.models.load_model(archive)
    for path in (archive, weights):
        with pytest.raises(PermissionError, match=re.escape(str(path))):
            _model().load_weights(path)


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_saved_files_get_the_users_umask(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        _model().save(tmp_path / "m.keras")
        _model().save_weights(tmp_path / "w.weights.h5")
    finally:
        os.umask(old)
    for name in ("m.keras", "w.weights.h5"):
        assert oct((tmp_path / name).stat().st_mode & 0o777) == oct(mode)


def test_overwriting_keeps_the_existing_mode(tmp_path):
    path = tmp_path / "m.keras"
    _model().save(path)
    path.chmod(0o640)
    _model().save(path)
    assert oct(path.stat().st_mode & 0o777) == oct(0o640)


def test_attributes_are_read_only_when_plain(tmp_path):
    path = tmp_path / "a.h5"
    with h5py.File(path, "w") as f:
        f.attrs["text"] = "config"
        f.attrs["names"] = np.array([b"dense_1", b"dense_2"])
        f.attrs["many"] = np.zeros(50, np.float32)
        f.attrs.create("ref", f.ref, dtype=h5py.ref_dtype)
    with h5py.File(path, "r") as f:
        reader = SafeH5Reader(f, str(path))
        assert reader.attr(f, "text") == "config"
        assert list(reader.attr(f, "names")) == [b"dense_1", b"dense_2"]
        assert reader.attr(f, "absent") is None
        with pytest.raises(ValueError, match="holds 50 elements, more than the 10"):
            reader.attr(f, "many", max_elements=10)
        with pytest.raises(ValueError, match=re.escape(str(path)) + ".*only strings and real numbers"):
            reader.attr(f, "ref")
