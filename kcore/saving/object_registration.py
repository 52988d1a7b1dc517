"""Custom objects: registration under 'package>name', scopes, and the safe-mode switch.

A saved config names a custom class or function by its registered name (Keras 3's format), and
loading finds it in, by priority: the active `custom_object_scope`s, the objects registered
with `register_keras_serializable`, then the `custom_objects=` given to the loading call."""
import threading

_GLOBAL_CUSTOM_OBJECTS = {}  # registered name -> object (what get_custom_objects() returns)
_GLOBAL_CUSTOM_NAMES = {}  # object -> registered name
_STATE = threading.local()  # per thread: scopes (a list of dicts), safe_mode (None / True / False)
_UNSAFE_GLOBALLY = [False]


def _scopes():
    if not hasattr(_STATE, "scopes"):
        _STATE.scopes = []
    return _STATE.scopes


class CustomObjectScope:
    """`with CustomObjectScope({"MyLayer": MyLayer}):` makes the objects visible to loading and
    deserialization inside the block (nested scopes add to the outer ones)."""

    def __init__(self, *custom_objects):
        merged = {}
        for objects in custom_objects:
            if objects is None:
                continue
            if not isinstance(objects, dict):
                raise TypeError(f"CustomObjectScope expects dicts of {{name: object}}, got {type(objects).__name__}")
            merged.update(objects)
        self.custom_objects = merged

    def __enter__(self):
        _scopes().append(self.custom_objects)
        return self

    def __exit__(self, *exc):
        _scopes().pop()
        return False


custom_object_scope = CustomObjectScope


def get_custom_objects():
    """The live global dict of registered custom objects ({registered name: object}); adding to it registers."""
    return _GLOBAL_CUSTOM_OBJECTS


def register_keras_serializable(package="Custom", name=None):
    """Class or function decorator: registers the object as '{package}>{name}' (name defaults to the
    object's __name__) so saved configs refer to it and loading finds it without `custom_objects`."""
    if not isinstance(package, str) or ">" in package or not package:
        raise ValueError(f"register_keras_serializable: package must be a non-empty string without '>', "
                         f"got {package!r}")

    def decorator(obj):
        registered = f"{package}>{name if name is not None else obj.__name__}"
        if isinstance(obj, type) and not hasattr(obj, "get_config"):
            raise ValueError(f"Cannot register class {obj.__name__}: it has no get_config() method")
        _GLOBAL_CUSTOM_OBJECTS[registered] = obj
        _GLOBAL_CUSTOM_NAMES[obj] = registered
        return obj

    return decorator


def get_registered_name(obj):
    """The name `obj` is registered under, else its __name__."""
    try:
        return _GLOBAL_CUSTOM_NAMES[obj]
    except (KeyError, TypeError):
        return obj.__name__


def is_registered(obj):
    try:
        return obj in _GLOBAL_CUSTOM_NAMES
    except TypeError:
        return False


def get_registered_object(name, custom_objects=None, module_objects=None):
    """The object for `name` from the active scopes, the registry, `custom_objects` or `module_objects`;
    None when none has it."""
    for scope in reversed(_scopes()):
        if name in scope:
            return scope[name]
    if name in _GLOBAL_CUSTOM_OBJECTS:
        return _GLOBAL_CUSTOM_OBJECTS[name]
    for objects in (custom_objects, module_objects):
        if objects and name in objects:
            return objects[name]
    return None


def find_custom_object(names, custom_objects=None):
    """The first of `names` (registered names, then plain names) any lookup resolves; names registered as
    'package>name' are also found by their plain name in `custom_objects` (Keras <= 3.6 files)."""
    for name in names:
        if isinstance(name, str):
            obj = get_registered_object(name, custom_objects)
            if obj is not None:
                return obj
    for name in names:
        if isinstance(name, str) and ">" in name:
            obj = get_registered_object(name.split(">", 1)[1], custom_objects)
            if obj is not None:
                return obj
    return None


# -- safe mode --------------------------------------------------------------------------------


class SafeModeScope:
    """Sets whether deserialization may run code stored in a file (Lambda bytecode) inside the block."""

    def __init__(self, safe_mode=True):
        self.safe_mode = safe_mode

    def __enter__(self):
        self._previous = getattr(_STATE, "safe_mode", None)
        _STATE.safe_mode = self.safe_mode
        return self

    def __exit__(self, *exc):
        _STATE.safe_mode = self._previous
        return False


def enable_unsafe_deserialization():
    """Allows loading Lambda layers whose Python bytecode is stored in the file, everywhere from now on."""
    _UNSAFE_GLOBALLY[0] = True


def in_safe_mode(safe_mode=None):
    """Whether stored code must be refused: an explicit `safe_mode`, else the innermost SafeModeScope, else
    True unless enable_unsafe_deserialization() was called."""
    if safe_mode is not None:
        return bool(safe_mode)
    scoped = getattr(_STATE, "safe_mode", None)
    if scoped is not None:
        return bool(scoped) and not _UNSAFE_GLOBALLY[0]
    return not _UNSAFE_GLOBALLY[0]
