"""The current device: where new tensors from host data and new weights are placed.

`kcore.set_device('cuda')` (or the environment variable KCORE_DEVICE=cuda) sends data and
newly created weights to the GPU; ops then run where their operands live. Default: 'cpu'.
"""
import contextlib
import functools
import os

_DEVICES = {"cpu": "cpu", "cuda": "cuda", "cuda:0": "cuda", "gpu": "cuda"}
_current = None
_cuda_used = False  # until something goes to cuda, models are on the cpu: no per-call checks


def _normalize(device):
    name = str(device).lower()
    if name not in _DEVICES:
        raise ValueError(f"unknown device {device!r}: kcore knows 'cpu' and 'cuda'")
    return _DEVICES[name]


def get_device() -> str:
    """The current device name, 'cpu' or 'cuda'."""
    global _current
    if _current is None:
        set_device(os.environ.get("KCORE_DEVICE", "cpu"))
    return _current


def set_device(device: str) -> str:
    """Makes `device` ('cpu' or 'cuda') current; raises RuntimeError when CUDA cannot be used."""
    global _current, _cuda_used
    name = _normalize(device)
    if name == "cuda":
        from kcore import cuda

        cuda.require()
        _cuda_used = True
    _current = name
    return name


def to_device(native, device):
    """A native tensor on `device` (itself when already there); loads CUDA on first use."""
    global _cuda_used
    device = _normalize(device)
    if native.device == device:
        return native
    if device == "cuda":
        from kcore import cuda

        cuda.require()
        _cuda_used = True
    from kcore.backend.native import _C

    return _C.to_device(native, device)


@contextlib.contextmanager
def use_device(device: str):
    """Within the block, `device` is current; the previous device is restored after."""
    global _current
    previous = get_device()
    set_device(device)
    try:
        yield
    finally:
        _current = previous


def on_device_of(locate):
    """A method decorator: `method(obj, ...)` runs with the device `locate(obj)` names current (None: the
    current one stays), so host data it creates goes there. `locate` is only asked once CUDA has been used."""

    def decorate(method):
        @functools.wraps(method)
        def run(obj, *args, **kwargs):
            if not _cuda_used:
                return method(obj, *args, **kwargs)
            device = locate(obj) or get_device()
            if device == get_device():
                return method(obj, *args, **kwargs)
            with use_device(device):
                return method(obj, *args, **kwargs)

        return run

    return decorate
