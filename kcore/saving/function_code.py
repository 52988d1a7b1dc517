"""Python lambdas stored as bytecode (what Keras 3 writes for Lambda layers).

The code object is marshalled and base64-encoded with its defaults and closure values. Loading
it runs code taken from the file, so it is refused unless safe mode is off (`safe_mode=False`
or `kcore.saving.enable_unsafe_deserialization()`). Bytecode only loads in the Python version
(major.minor) that wrote it."""
import base64
import binascii
import dis
import marshal
import sys
import types

import numpy as np

from kcore.saving.object_registration import in_safe_mode

UNSAFE_MESSAGE = (
    "{what} holds a Python lambda saved as bytecode. Loading it would run code taken from the file, which "
    "kcore refuses by default (safe_mode=True). If you trust where the file comes from, load it with "
    "`safe_mode=False` (e.g. kcore.models.load_model(path, safe_mode=False)) or call "
    "`kcore.saving.enable_unsafe_deserialization()` first.")


def is_lambda(fn):
    return isinstance(fn, types.LambdaType) and fn.__name__ == "<lambda>"


def dump_function(fn):
    """{'class_name': '__lambda__', 'config': {'code', 'defaults', 'closure'}} for a Python lambda."""
    code = base64.encodebytes(marshal.dumps(fn.__code__)).decode("ascii")
    closure = None
    if fn.__closure__:
        closure = [_jsonable(cell.cell_contents, fn) for cell in fn.__closure__]
    defaults = [_jsonable(d, fn) for d in fn.__defaults__] if fn.__defaults__ else None
    return {"class_name": "__lambda__", "config": {"code": code, "defaults": defaults, "closure": closure,
                                                   "python_version": _PYTHON}}


_PYTHON = f"{sys.version_info[0]}.{sys.version_info[1]}"


def _check_python_version(code, written_by, what):
    """Marshalled bytecode is only valid in the CPython version that wrote it: another version misreads it
    silently and can crash the interpreter. kcore records the version; for files without one (Keras writes
    none) every 3.11+ code object must begin by RESUME-ing (after its cell set-up), which another version's
    bytecode does not decode to."""
    if written_by is not None and written_by != _PYTHON:
        raise ValueError(f"{what}: the lambda's bytecode was written by Python {written_by} and cannot run in "
                         f"Python {_PYTHON}; load the file with Python {written_by}, or rebuild the Lambda")
    if written_by is None and not _resumes(code):
        raise ValueError(f"{what}: the lambda's bytecode was not written by this Python ({_PYTHON}) and cannot "
                         "run here; load the file with the Python version that saved it, or rebuild the Lambda")


def _resumes(code):
    if sys.version_info < (3, 11):
        return all(op in dis.opmap.values() for op in code.co_code[::2])
    first = [ins.opname for _, ins in zip(range(4), dis.get_instructions(code))]
    nested = [c for c in code.co_consts if isinstance(c, types.CodeType)]
    return "RESUME" in first and all(_resumes(c) for c in nested)


def _jsonable(value, fn):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v, fn) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: _jsonable(v, fn) for k, v in value.items()}
    raise TypeError(f"Cannot save the lambda {fn!r}: it captures a value of type {type(value).__name__} "
                    f"({value!r:.80}); a saved lambda may only capture numbers, strings and lists of them. Use a "
                    "named function registered with kcore.saving.register_keras_serializable() instead")


def _globals():
    import builtins

    import kcore

    # Lambdas are written as `lambda x: ops.foo(x)` or `keras.ops.foo(x)` with kcore imported as keras
    return {"__builtins__": builtins, "kcore": kcore, "keras": kcore, "ops": kcore.ops, "np": np, "numpy": np}


def load_function(config, what, safe_mode=None):
    """The function a '__lambda__' config holds; refused in safe mode."""
    if in_safe_mode(safe_mode):
        raise ValueError(UNSAFE_MESSAGE.format(what=what))
    inner = config.get("config") if isinstance(config, dict) else None
    if not isinstance(inner, dict):
        raise ValueError(f"{what}: malformed '__lambda__' config {config!r:.200}")
    code, defaults, closure = inner.get("code"), inner.get("defaults"), inner.get("closure")
    if "value" in inner and code is None:  # serialize_keras_object's form: {"value": [code, defaults, closure]}
        code, defaults, closure = (list(inner["value"]) + [None, None])[:3]
    if not isinstance(code, str):
        raise ValueError(f"{what}: the lambda's code must be a base64 string")
    try:
        code = marshal.loads(base64.decodebytes(code.encode("ascii")))
    except (binascii.Error, ValueError, EOFError, TypeError, UnicodeError) as e:
        raise ValueError(f"{what}: the lambda's bytecode cannot be read (it may come from another Python "
                         f"version): {e}") from e
    if not isinstance(code, types.CodeType):
        raise ValueError(f"{what}: the lambda's bytecode does not hold a code object")
    _check_python_version(code, inner.get("python_version"), what)
    if len(code.co_freevars) != len(closure or ()):
        raise ValueError(f"{what}: the lambda needs {len(code.co_freevars)} closure values, the file has "
                         f"{len(closure or ())}")
    cells = tuple(types.CellType(v) for v in closure) if closure else None
    return types.FunctionType(code, _globals(), code.co_name, tuple(defaults) if defaults else None, cells)
