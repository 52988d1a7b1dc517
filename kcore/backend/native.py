"""Loads the native extension. Every numeric op goes through this module.

A portable (wheel) build ships the engine compiled three times; the best variant the CPU
supports is loaded: _C_avx512, then _C_avx2, then the baseline _C (KCORE_ENGINE=_C_avx2, say,
forces one). A local build has only _C, compiled for the host CPU."""
import importlib
import os


def _cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def _load():
    forced = os.environ.get("KCORE_ENGINE")  # e.g. "_C" to run the baseline build on any CPU
    if forced:
        return importlib.import_module(f"kcore.{forced}")
    flags = _cpu_flags()
    candidates = []
    if {"avx512f", "avx512bw", "avx512vl", "avx512dq", "avx2", "fma"} <= flags:
        candidates.append("_C_avx512")
    if {"avx2", "fma", "bmi2"} <= flags:
        candidates.append("_C_avx2")
    candidates.append("_C")
    for name in candidates:
        try:
            return importlib.import_module(f"kcore.{name}")
        except ImportError:
            if name == "_C":
                raise
    raise ImportError("kcore's native engine is missing")  # pragma: no cover


_C = _load()

BinaryOp = _C.BinaryOp
UnaryOp = _C.UnaryOp
ReduceOp = _C.ReduceOp
ErrorKind = _C.ErrorKind
