"""File-level safety for saving and loading: atomic writes that keep the user's umask, bounded
reads of .keras archive members, bounded JSON configs, and errors that name the file."""
import contextlib
import json
import os
import stat

# Limits no real model comes near; a file past them is refused rather than allowed to exhaust memory
# or the interpreter's stack.
MAX_CONFIG_BYTES = 64 << 20  # config.json
MAX_METADATA_BYTES = 1 << 20  # metadata.json
MAX_CONFIG_DEPTH = 128  # nesting of JSON objects/lists in config.json
MAX_EXPANSION = 100  # a compressed archive member may inflate at most this much ...
EXPANSION_FLOOR_BYTES = 1 << 20  # ... once it is larger than this


class FileLoadError(ValueError):
    """A file cannot be loaded; the message names the file."""


@contextlib.contextmanager
def naming_file(label, what="cannot be loaded"):
    """Re-raises errors raised while reading `label` as FileLoadError naming it. OS errors about the
    file itself (permissions, missing file) keep their type."""
    try:
        yield
    except FileLoadError:
        raise
    except (PermissionError, FileNotFoundError, IsADirectoryError, MemoryError, KeyboardInterrupt):
        raise
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError, RecursionError,
            NotImplementedError, OSError, EOFError, RuntimeError) as e:
        message = str(e) if isinstance(e, ValueError) else f"{type(e).__name__}: {e}"
        if len(message) > 2000:
            message = message[:2000] + " ..."
        if label not in message:
            message = f"{label} {what}: {message}"
        raise FileLoadError(message) from e


def file_mode(target):
    """The permission bits a plain open(target, 'w') would leave: the existing file's, else 0o666 & ~umask."""
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        pass
    umask = _current_umask()
    return 0o666 & ~umask


def _current_umask():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    umask = os.umask(0o022)  # no /proc: read it by setting it, and put it straight back
    os.umask(umask)
    return umask


def atomic_write(filepath, write, overwrite):
    """Calls write(tmp_path) on a temporary file next to `filepath`, then moves it into place, so a crash
    never leaves a half-written file where a good one was. The result gets the mode a plain write gives."""
    import tempfile

    filepath = os.fspath(filepath)
    if os.path.exists(filepath) and not overwrite:
        raise FileExistsError(f"{filepath} exists and overwrite=False")
    folder = os.path.dirname(os.path.abspath(filepath))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".kcore-", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, file_mode(filepath))
        os.replace(tmp, filepath)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def open_archive(filepath):
    """The .keras file as a ZipFile holding config.json and model.weights.h5."""
    import zipfile

    filepath = os.fspath(filepath)
    if not os.path.exists(filepath):
        raise FileNotFoundError(f"No file or directory found at {filepath}")
    open(filepath, "rb").close()  # PermissionError / IsADirectoryError surface as themselves
    try:
        archive = zipfile.ZipFile(filepath)
        names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, KeyError, OverflowError) as e:
        raise FileLoadError(f"{filepath} is not a valid .keras archive (it is truncated, corrupted or another "
                            f"format): {e}") from e
    missing = {"config.json", "model.weights.h5"} - names
    if missing:
        archive.close()
        raise FileLoadError(f"{filepath} is a zip file but not a Keras model archive: it lacks {sorted(missing)}")
    return archive


def read_member(archive, name, label, limit=None):
    """The bytes of archive member `name`, refusing members that declare more than `limit` bytes or inflate
    far beyond their stored size (zip bombs); reads at most what the header declares."""
    import zipfile

    info = archive.getinfo(name)
    where = f"{label}/{name}"
    if limit is not None and info.file_size > limit:
        raise FileLoadError(f"{where} declares {info.file_size} bytes, more than the {limit} any real model needs; "
                            "refused")
    if info.file_size > EXPANSION_FLOOR_BYTES and info.file_size > MAX_EXPANSION * max(info.compress_size, 1):
        raise FileLoadError(f"{where} declares {info.file_size} bytes but stores {info.compress_size}: a "
                            "decompression bomb; refused")
    try:
        with archive.open(name) as member:
            data = member.read(info.file_size + 1)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as e:
        raise FileLoadError(f"{where} is damaged: {e}") from e
    if len(data) != info.file_size:
        raise FileLoadError(f"{where} holds {len(data)} bytes, not the {info.file_size} its header declares")
    return data


def parse_json(data, where, limit=MAX_CONFIG_BYTES, max_depth=MAX_CONFIG_DEPTH):
    """JSON from bytes, refusing texts over `limit` bytes or nested deeper than `max_depth`."""
    if len(data) > limit:
        raise FileLoadError(f"{where} is {len(data)} bytes, more than the {limit} any real model needs; refused")
    depth = json_depth(data)
    if depth > max_depth:
        raise FileLoadError(f"{where} nests {depth} levels deep, more than the {max_depth} any real model needs; "
                            "refused")
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as e:
        raise FileLoadError(f"{where} is not valid JSON: {e}") from e


def json_depth(data):
    """Deepest nesting of [ and { in a JSON text (outside strings), found without recursion."""
    import re

    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    brackets = re.sub(rb"[^\[\]{}]", b"", re.sub(rb'"(?:[^"\\]|\\.)*"', b"", data))
    depth = deepest = 0
    for byte in brackets:
        depth += 1 if byte in b"[{" else -1
        deepest = max(deepest, depth)
    return deepest
