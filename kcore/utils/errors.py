"""Every rejection names what rejected it: the op, the layer (or the file).

`name_error(e, prefix, names)` prefixes a ValueError/TypeError's message with `prefix`
unless the message already names it; `named(fn, name)` wraps a public function so that its errors
are named. The exception keeps its type and traceback.
"""
import functools
import re

_CONVERT_PREFIX = "convert_to_tensor: "


def name_error(exc, prefix, names=None):
    """`exc` with its message prefixed by `prefix` unless it already mentions one of `names` (default: prefix).

    ValueError/TypeError are changed in place; a MemoryError (NumPy's keeps its text elsewhere)
    comes back as a new MemoryError. Returns the exception to raise.
    """
    if isinstance(exc, UnicodeError):
        return exc
    msg = str(exc)
    if msg.startswith(_CONVERT_PREFIX):
        msg = msg[len(_CONVERT_PREFIX):]
    elif any(n and re.search(rf"(?<![\w]){re.escape(n)}(?![\w])", msg) for n in names or (prefix,)):
        return exc
    if isinstance(exc, MemoryError):
        return MemoryError(f"{prefix}: {msg}").with_traceback(exc.__traceback__)
    if len(exc.args) <= 1:
        exc.args = (f"{prefix}: {msg}",)
    return exc


def named(fn, name=None):
    """`fn` whose ValueError/TypeError messages name it."""
    name = name or fn.__name__

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (ValueError, TypeError, MemoryError) as e:
            named_e = name_error(e, name)
            if named_e is e:
                raise
            raise named_e from None

    return wrapper
