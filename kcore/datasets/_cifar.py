"""Shared CIFAR reading: the python-pickle batches inside cifar-{10,100}-python.tar.gz.

An extracted folder is looked for in Keras 3's layout (`<name>-target/<name>/`) and Keras 2's
(`<name>/`); otherwise a cached archive is extracted (Keras 3 `<name>-target_archive`, Keras 2
`<name>.tar.gz`, or the origin's own file name), and only then is the archive downloaded.
"""
import os
import pickle

import numpy as np

from kcore.backend.config import image_data_format
from kcore.datasets._files import DatasetNotFoundError, cache_dirs, extract_tar, find_cached, get_file


def dataset_folder(name, origin, file_hash, member_files):
    """The folder holding `member_files` of CIFAR set `name` (e.g. "cifar-10-batches-py")."""
    archive_names = (f"{name}-target_archive", f"{name}.tar.gz", os.path.basename(origin))
    for folder in (os.path.join(f"{name}-target", name), name):
        found = find_cached(folder)
        if found and all(os.path.exists(os.path.join(found, f)) for f in member_files):
            return found
    archive = next((p for p in map(find_cached, archive_names) if p), None)
    if archive is None:
        archive = get_file(f"{name}.tar.gz", origin, file_hash=file_hash,
                           what=f"{name} (the archive {os.path.basename(origin)}, saved as {name}.tar.gz, "
                                f"or its extracted folder {os.path.join(cache_dirs()[0], name)}/)")
    target = os.path.join(os.path.dirname(archive), f"{name}-target")
    if not os.path.exists(os.path.join(target, name)):
        extract_tar(archive, target)
    folder = os.path.join(target, name)
    missing = [f for f in member_files if not os.path.exists(os.path.join(folder, f))]
    if missing:
        raise DatasetNotFoundError(f"{archive} did not contain {name}/{missing[0]}; delete it and {target} and "
                                   f"try again")
    return folder


def load_batch(path, label_key="labels"):
    """(data (n, 3, 32, 32) uint8, labels list) of one pickled CIFAR batch."""
    with open(path, "rb") as f:
        batch = pickle.load(f, encoding="bytes")
    batch = {k.decode("utf8") if isinstance(k, bytes) else k: v for k, v in batch.items()}
    if "data" not in batch or label_key not in batch:
        raise ValueError(f"{path} is not a CIFAR batch with keys 'data' and {label_key!r}")
    data = np.asarray(batch["data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
    return data, list(batch[label_key])


def to_data_format(x):
    """CIFAR's channels-first (n, 3, 32, 32) to the configured image_data_format."""
    return x.transpose(0, 2, 3, 1) if image_data_format() == "channels_last" else x
