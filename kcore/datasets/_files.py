"""Finding, downloading and safely reading the files of Keras's datasets.

Files live in Keras's cache: `$KERAS_HOME/datasets` when KERAS_HOME is set, else `~/.keras/datasets`
(`/tmp/.keras/datasets` when that is not writable), so files downloaded by real Keras are reused.
Downloads go to a temporary file that is renamed into place once complete.
"""
import hashlib
import os
import pickle
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile

import numpy as np

KERAS_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
_TMP_BASE = os.path.join(tempfile.gettempdir(), ".keras")


class DatasetNotFoundError(FileNotFoundError):
    """A dataset file is not in the cache and could not be downloaded."""


def keras_home():
    return os.path.expanduser(os.environ.get("KERAS_HOME") or os.path.join("~", ".keras"))


def cache_dirs(subdir="datasets"):
    """Folders searched for cached files, the preferred (Keras's own) first."""
    return [os.path.join(keras_home(), subdir), os.path.join(_TMP_BASE, subdir)]


def _writable_dir(subdir):
    for folder in cache_dirs(subdir):
        try:
            os.makedirs(folder, exist_ok=True)
        except OSError:
            continue
        if os.access(folder, os.W_OK):
            return folder
    raise DatasetNotFoundError(f"No writable cache folder among {cache_dirs(subdir)}")


def find_cached(name, subdir="datasets"):
    """The path of `name` (absolute, or relative to a cache folder) if it exists, else None."""
    if os.path.isabs(name):
        return name if os.path.exists(name) else None
    for folder in cache_dirs(subdir):
        path = os.path.join(folder, name)
        if os.path.exists(path):
            return path
    return None


def get_file(fname, origin, subdir="datasets", file_hash=None, what=None):
    """A cached file's path, downloading it from `origin` first if needed.

    `fname` may be an absolute path (used as is, downloaded there if missing). `file_hash`
    (sha256 or md5 hex) is checked on downloads. Raises DatasetNotFoundError naming the file and
    where to put it when the download fails.
    """
    found = find_cached(fname, subdir)
    if found is not None:
        return found
    target = fname if os.path.isabs(fname) else os.path.join(cache_dirs(subdir)[0], fname)
    try:
        if not os.path.isabs(fname):
            target = os.path.join(_writable_dir(subdir), fname)
        download(origin, target, file_hash)
    except (OSError, ValueError) as e:
        raise DatasetNotFoundError(_missing_message(what or fname, origin, target, e)) from e
    return target


def _missing_message(what, origin, target, error):
    reason = getattr(error, "reason", None) or error
    return (f"Could not find or download {what}: downloading {origin} failed ({reason}). "
            f"Without network access, download that file elsewhere and put it at {target} "
            f"(the cache folder is $KERAS_HOME/datasets when KERAS_HOME is set, else ~/.keras/datasets).")


def download(origin, target, file_hash=None, timeout=60):
    """Streams `origin` into `target` through a temporary file in the same folder (atomic rename)."""
    folder = os.path.dirname(os.path.abspath(target))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".part-", suffix=os.path.basename(target))
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(origin, timeout=timeout) as response:
            shutil.copyfileobj(response, out, length=1 << 20)
        if file_hash and not hash_matches(tmp, file_hash):
            raise ValueError(f"the downloaded file's hash does not match {file_hash} (corrupt or changed "
                             f"download)")
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def hash_matches(path, expected):
    algorithm = hashlib.sha256() if len(expected) == 64 else hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            algorithm.update(chunk)
    return algorithm.hexdigest() == expected


def extract_tar(archive, destination):
    """Extracts a (gzipped) tar into `destination`, refusing members that would land outside it."""
    staging = tempfile.mkdtemp(dir=os.path.dirname(os.path.abspath(destination)) or ".", prefix=".extract-")
    try:
        with tarfile.open(archive) as tar:
            root = os.path.realpath(staging)
            for member in tar.getmembers():
                path = os.path.realpath(os.path.join(staging, member.name))
                if os.path.commonpath([root, path]) != root or member.issym() or member.islnk():
                    raise ValueError(f"unsafe member {member.name!r} in {archive}")
            tar.extractall(staging)
        os.replace(staging, destination)
    finally:
        if os.path.exists(staging):
            shutil.rmtree(staging)


# -- npz files holding object arrays, without arbitrary unpickling --------------------------------------------


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles NumPy object arrays of plain Python values; anything else is refused."""

    _ALLOWED = {("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "_reconstruct"),
                ("numpy._core.multiarray", "_reconstruct"), ("numpy.core.multiarray", "scalar"),
                ("numpy._core.multiarray", "scalar")}

    def find_class(self, module, name):
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a dataset file")
        return super().find_class(module, name)


def load_npz(path):
    """{key: array} of an .npz file; object arrays are unpickled with only NumPy array types allowed."""
    out = {}
    with zipfile.ZipFile(path) as archive:
        for member in archive.namelist():
            if not member.endswith(".npy"):
                continue
            with archive.open(member) as f:
                out[member[:-4]] = _read_npy(f)
    return out


def _read_npy(f):
    version = np.lib.format.read_magic(f)
    read_header = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
    if version not in read_header:
        raise ValueError(f"unsupported .npy format version {version}")
    shape, fortran_order, dtype = read_header[version](f)
    if dtype.hasobject:
        array = _ArrayUnpickler(f).load()
    else:
        count = int(np.prod(shape)) if shape else 1
        array = np.frombuffer(f.read(count * dtype.itemsize), dtype=dtype, count=count)
        array = array.reshape(shape[::-1]).T if fortran_order else array.reshape(shape)
    return np.array(array)  # writable copy
