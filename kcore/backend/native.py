"""Loads the native extension. Every numeric op goes through this module.

A portable (wheel) build ships the engine compiled three times; the best variant the CPU
supports is loaded: _C_avx512, then _C_avx2, then the baseline _C (KCORE_ENGINE=_C_avx2, say,
forces one). A local build has only _C, compiled for the host CPU."""
import importlib
import importlib.machinery
import os
import sys


def _cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _has_engine(folder):
    suffixes = importlib.machinery.EXTENSION_SUFFIXES
    try:
        names = os.listdir(folder)
    except OSError:
        return False
    return any(n.startswith("_C") and n.endswith(tuple(suffixes)) for n in names)


def _use_installed_engine():
    """A source checkout without a built engine (say, the clone's root after `pip install .`)
    borrows the engine of the installed kcore: its folder joins the package's search path, as
    pkgutil.extend_path does for split packages. Returns whether one was found."""
    import kcore

    if _has_engine(_PACKAGE_DIR):
        return False
    for entry in sys.path:
        folder = os.path.realpath(os.path.join(entry or os.getcwd(), "kcore"))
        if folder != os.path.realpath(_PACKAGE_DIR) and _has_engine(folder):
            kcore.__path__.append(folder)
            return True
    return False


def _missing_engine_error(exc):
    return ImportError(
        f"kcore's native engine (kcore._C) is not built: {_PACKAGE_DIR} is a source checkout and no "
        "installed kcore was found on sys.path. Run `pip install .` in the checkout (then `import kcore` "
        "works from any folder, the checkout included), or `tools/dev_build.sh` to build the engine in "
        f"place. ({exc})")


def _load():
    try:
        return _load_variant()
    except ModuleNotFoundError as exc:
        if not (exc.name or "").startswith("kcore._C"):
            raise
        if not _use_installed_engine():
            raise _missing_engine_error(exc) from None
    return _load_variant()


def _load_variant():
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
