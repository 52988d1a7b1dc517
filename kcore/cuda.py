"""kcore on NVIDIA GPUs: availability, devices, memory, settings.

The CUDA extension (kcore._C_cuda) is imported on first use only; `import kcore` never
touches CUDA. When it loads and a GPU is usable, its kernels are registered into the
engine and tensors on 'cuda' run on the GPU.

    import kcore
    if kcore.cuda.is_available():
        kcore.set_device("cuda")
    else:
        print(kcore.cuda.unavailable_reason())
"""
from kcore.backend.native import _C

_state = {"tried": False, "module": None, "reason": None}


def _load():
    """The loaded and registered extension, or None (the reason is kept)."""
    if _state["tried"]:
        return _state["module"]
    _state["tried"] = True
    try:
        from kcore import _C_cuda
    except ImportError as e:
        _state["reason"] = ("kcore was built without its CUDA extension (kcore._C_cuda could not be imported: "
                            f"{e}); build with -DKCORE_CUDA=ON on a machine with the CUDA toolkit")
        return None
    ok, why = _C_cuda.availability()
    if not ok:
        _state["reason"] = why
        return None
    _C._register_cuda_ops(_C_cuda.kernel_table())
    _state["module"] = _C_cuda
    return _C_cuda


def is_available():
    """True when the CUDA extension is built, a driver is present and a GPU is visible."""
    return _load() is not None


def unavailable_reason():
    """Why CUDA cannot be used, in words; None when it can."""
    _load()
    return _state["reason"]


def availability():
    """(is_available(), reason) in one call."""
    return is_available(), unavailable_reason()


def require():
    """The extension module; RuntimeError carrying the reason when CUDA cannot be used."""
    mod = _load()
    if mod is None:
        raise RuntimeError(f"CUDA is not available: {_state['reason']}")
    return mod


def device_count():
    """Number of visible CUDA GPUs (0 when CUDA is not available)."""
    mod = _load()
    return mod.device_count() if mod is not None else 0


def get_device_properties(device=0):
    """Name, compute capability, memory size and multiprocessor count of a GPU."""
    return require().device_properties(device)


def memory_stats():
    """Bytes held by kcore's caching allocator: in tensors now and at peak, reserved from the driver."""
    return require().memory_stats()


def reset_peak_memory_stats():
    require().reset_peak_memory_stats()


def empty_cache():
    """Returns cached, unused blocks to the driver."""
    require().empty_cache()


def synchronize():
    """Waits for all queued GPU work."""
    require().synchronize()


def set_allow_tf32(allow):
    """TF32 tensor-core matmuls (faster, ~10-bit mantissa). Off by default: full FP32."""
    require().set_allow_tf32(bool(allow))


def allow_tf32():
    return require().allow_tf32()
