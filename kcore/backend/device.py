"""The current device: where new tensors from host data and new weights are placed.

`kcore.set_device('cuda')` (or the environment variable KCORE_DEVICE=cuda) sends data and
newly created weights to the GPU; ops then run where their operands live. Default: 'cpu'.
"""
import os

_DEVICES = {"cpu": "cpu", "cuda": "cuda", "cuda:0": "cuda", "gpu": "cuda"}
_current = None


def _normalize(device):
    name = str(device).lower()
    if name not in _DEVICES:
        raise ValueError(f"unknown device {device!r}: kcore knows 'cpu' and 'cuda'")
    return _DEVICES[name]


def get_device():
    """The current device name, 'cpu' or 'cuda'."""
    global _current
    if _current is None:
        set_device(os.environ.get("KCORE_DEVICE", "cpu"))
    return _current


def set_device(device):
    """Makes `device` ('cpu' or 'cuda') current; raises RuntimeError when CUDA cannot be used."""
    global _current
    name = _normalize(device)
    if name == "cuda":
        from kcore import cuda

        cuda.require()
    _current = name
    return name


def to_device(native, device):
    """A native tensor on `device` (itself when already there); loads CUDA on first use."""
    device = _normalize(device)
    if native.device == device:
        return native
    if device == "cuda":
        from kcore import cuda

        cuda.require()
    from kcore.backend.native import _C

    return _C.to_device(native, device)
