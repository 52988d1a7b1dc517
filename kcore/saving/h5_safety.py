"""Reading HDF5 weight files without trusting them.

An HDF5 file can make a reader open other files: external links, soft links, datasets whose
bytes live in another file (external storage), virtual datasets that map other files, and
filters that load plugins. Every weight reader in kcore (.weights.h5, the weights inside
.keras, legacy .h5) goes through `SafeH5Reader`, which refuses all of those before any data
is read, checks each dataset's dtype and shape against what the model expects, and verifies
the CRC-32 that kcore stores with every dataset it writes (files without it, such as files
written by Keras, still load).
"""
import os
import zlib

import numpy as np

CHECKSUM_ATTR = "kcore_crc32"  # on each dataset kcore writes
CHECKSUM_MARK = "kcore_checksums"  # on the file: every dataset in it carries CHECKSUM_ATTR

# Filters built into libhdf5 / h5py (deflate, shuffle, fletcher32, szip, nbit, scaleoffset, lzf); any other
# id would make libhdf5 search its plugin path for a shared library.
_BUILTIN_FILTERS = {1, 2, 3, 4, 5, 6, 32000}
# A dataset whose declared size is above the floor and this many times what the file stores is a bomb
# (a huge shape filled by the fill value or by a tiny compressed chunk).
_BOMB_FLOOR_BYTES = 1 << 28
_MAX_EXPANSION = 1000


def _h5py():
    import h5py

    return h5py


def checksum(value):
    """CRC-32 of an array's dtype, shape and C-order bytes."""
    value = np.ascontiguousarray(value)
    head = f"{value.dtype.str}{value.shape}".encode()
    return np.uint32(zlib.crc32(value, zlib.crc32(head)))  # reads the buffer in place, no copy


def write_dataset(group, name, value):
    """Creates dataset `name` holding `value` with its checksum (what SafeH5Reader.read verifies)."""
    value = np.asarray(value)
    ds = group.create_dataset(name, data=value)
    ds.attrs[CHECKSUM_ATTR] = checksum(value)
    return ds


def mark_checksummed(h5file):
    """Records that every dataset in the file carries a checksum, so a missing one is an error."""
    h5file.attrs[CHECKSUM_MARK] = "crc32"


class SafeH5Reader:
    """Validated access to an open h5py File; `label` names the file in every error."""

    def __init__(self, h5file, label):
        self.file = h5file
        self.label = label
        self.checksummed = CHECKSUM_MARK in _safe_attr_names(h5file, label)

    def _error(self, where, message):
        return ValueError(f"{self.label}: '{where}' {message}")

    def get(self, path, base=None):
        """The Group or Dataset at `path` (below the Group `base`, else the file's root), or None when absent.
        Refuses soft, external and user-defined links on the way, before following them."""
        h5py = _h5py()
        node = self.file if base is None else base
        where = node.name.rstrip("/")
        for part in path.split("/"):
            if not part:
                continue
            where = f"{where}/{part}"
            if not isinstance(node, h5py.Group):
                raise self._error(where, "lies below a dataset, not a group")
            if part not in node:
                return None
            link = node.get(part, getlink=True)
            if not isinstance(link, h5py.HardLink):
                raise self._error(where, f"is a {type(link).__name__}: links to other objects or files are not "
                                         "allowed in a weights file")
            node = node[part]
        return node

    def group(self, path, base=None):
        node = self.get(path, base)
        if node is not None and not isinstance(node, _h5py().Group):
            raise self._error(node.name, f"should be a group but is a {type(node).__name__}")
        return node

    def check_dataset(self, ds, shape=None, kinds="biuf"):
        """Raises unless `ds` is a plain dataset stored inside this file, of a real numeric dtype whose kind
        is in `kinds`, and (when given) of `shape`. Reads no data."""
        h5py = _h5py()
        where = ds.name
        if not isinstance(ds, h5py.Dataset):
            raise self._error(where, f"should be a dataset but is a {type(ds).__name__}")
        plist = ds.id.get_create_plist()
        layout = plist.get_layout()
        if layout == h5py.h5d.VIRTUAL:
            raise self._error(where, "is a virtual dataset (it maps data from other files); refused")
        if plist.get_external_count():
            raise self._error(where, "uses external storage (its bytes live in another file, "
                                     f"{ds.external[0][0]!r}); refused")
        if layout not in (h5py.h5d.COMPACT, h5py.h5d.CONTIGUOUS, h5py.h5d.CHUNKED):
            raise self._error(where, f"has an unsupported storage layout ({layout}); refused")
        for i in range(plist.get_nfilters()):
            fid = plist.get_filter(i)[0]
            if fid not in _BUILTIN_FILTERS:
                raise self._error(where, f"needs HDF5 filter plugin {fid}; only built-in filters are allowed")
        dtype = ds.dtype
        if dtype.fields is not None or dtype.subdtype is not None or dtype.kind not in kinds or \
                h5py.check_dtype(vlen=dtype) is not None or h5py.check_dtype(ref=dtype) is not None or \
                (h5py.check_dtype(enum=dtype) is not None and dtype.kind != "b"):
            raise self._error(where, f"has dtype {dtype}, expected a numeric dtype of kind {kinds!r}")
        if ds.shape is None:
            raise self._error(where, "holds no data (a null dataspace)")
        if shape is not None and tuple(ds.shape) != tuple(shape):
            raise self._error(where, f"has shape {tuple(ds.shape)}, expected {tuple(shape)}")
        declared = int(np.prod(ds.shape, dtype=object)) * dtype.itemsize
        if declared > _BOMB_FLOOR_BYTES and declared > _MAX_EXPANSION * ds.id.get_storage_size():
            raise self._error(where, f"declares {declared} bytes but stores only {ds.id.get_storage_size()}; "
                                     "refusing a decompression bomb")
        return ds

    def read(self, path, shape=None, kinds="biuf", base=None):
        """The checked array at `path`; verifies its checksum when it has one (or the file says all do)."""
        ds = self.get(path, base)
        where = f"{'' if base is None else base.name.rstrip('/')}/{path}"
        if ds is None:
            raise self._error(where, "is missing")
        self.check_dataset(ds, shape, kinds)
        value = np.asarray(ds[()])
        names = _safe_attr_names(ds, self.label)
        if CHECKSUM_ATTR in names:
            stored = ds.attrs[CHECKSUM_ATTR]
            if np.shape(stored) != () or np.asarray(stored).dtype.kind not in "iu" or \
                    int(stored) != int(checksum(value)):
                raise self._error(ds.name, "fails its checksum: the file is corrupted")
        elif self.checksummed:
            raise self._error(ds.name, "has no checksum although the file was written with them: the file is "
                                       "corrupted")
        return value


    def attr(self, obj, name, max_elements=1 << 20):
        """Attribute `name` of `obj` (a Group or Dataset from this reader), or None when absent. Only strings
        and real numbers, at most `max_elements` of them, are read."""
        h5py = _h5py()
        if name not in _safe_attr_names(obj, self.label):
            return None
        where = f"{obj.name}@{name}"
        aid = h5py.h5a.open(obj.id, name.encode())
        dtype, shape = aid.dtype, aid.shape
        # the stored type's class decides: a damaged file can turn a string into a variable-length sequence
        # of anything, which libhdf5 would follow into arbitrary memory
        text = isinstance(aid.get_type(), h5py.h5t.TypeStringID) and (
            dtype.kind in "SU" or h5py.check_dtype(vlen=dtype) in (str, bytes))
        if not text and not isinstance(aid.get_type(), (h5py.h5t.TypeIntegerID, h5py.h5t.TypeFloatID)):
            raise self._error(where, f"has a stored type of class {type(aid.get_type()).__name__}; only strings and "
                                     "real numbers are read from attributes")
        if not text and (dtype.kind not in "biuf" or dtype.fields is not None or dtype.subdtype is not None or
                         h5py.check_dtype(ref=dtype) is not None or h5py.check_dtype(vlen=dtype) is not None):
            raise self._error(where, f"has dtype {dtype}; only strings and real numbers are read from attributes")
        count = int(np.prod(shape, dtype=object)) if shape is not None else 0
        if count > max_elements:
            raise self._error(where, f"holds {count} elements, more than the {max_elements} allowed")
        return obj.attrs[name]


def check_global_heaps(data, label):
    """Refuses a file whose global heaps (where HDF5 keeps variable-length strings) are malformed: libhdf5
    would loop forever on an object of size 0 or run past the heap on an oversized one. `data` is the file's
    bytes (or an mmap of them); each 'GCOL' collection is walked as libhdf5 walks it."""
    import struct

    at = data.find(b"GCOL")
    while at >= 0:
        if at + 16 <= len(data) and data[at + 4] == 1 and data[at + 5:at + 8] == b"\0\0\0":
            end = at + struct.unpack_from("<Q", data, at + 8)[0]
            p = at + 16
            while p + 16 <= end:
                if p + 16 > len(data):
                    raise ValueError(f"{label}: a global heap at byte {at} runs past the end of the file; the file "
                                     "is truncated or corrupted")
                index, size = struct.unpack_from("<H", data, p)[0], struct.unpack_from("<Q", data, p + 8)[0]
                need = 16 + ((size + 7) & ~7) if index else size
                if need <= 0 or p + need > end:
                    raise ValueError(f"{label}: the global heap at byte {at} holds an object of impossible size "
                                     f"{size} at byte {p}; the file is corrupted")
                p += need
        at = data.find(b"GCOL", at + 1)


def check_global_heaps_in(path, label=None):
    """check_global_heaps on the file at `path`, mapped rather than read."""
    import mmap

    with open(path, "rb") as f:
        if os.fstat(f.fileno()).st_size == 0:
            return
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
            check_global_heaps(data, label or path)


def _safe_attr_names(obj, label):
    try:
        return set(obj.attrs.keys())
    except (OSError, RuntimeError, KeyError) as e:
        raise ValueError(f"{label}: the attributes of '{obj.name}' are unreadable (the file is corrupted): {e}") from e
