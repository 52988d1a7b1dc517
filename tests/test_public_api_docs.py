"""Every public class and function of kcore's user-facing packages has a docstring.

Public: the names a package lists in `__all__`, else its names not starting with '_', that kcore itself defines
(re-exported NumPy or typing names are not kcore's to document)."""
import importlib
import inspect

import pytest

PACKAGES = ["kcore", "kcore.activations", "kcore.backend", "kcore.callbacks", "kcore.constraints", "kcore.datasets",
            "kcore.initializers", "kcore.layers", "kcore.losses", "kcore.metrics", "kcore.models", "kcore.ops",
            "kcore.ops.image", "kcore.optimizers", "kcore.optimizers.schedules", "kcore.regularizers",
            "kcore.saving", "kcore.utils", "kcore.testing", "kcore.distribution"]


def public_objects():
    """(qualified name, object) of each public class and function, once each."""
    seen = {}
    for package in PACKAGES:
        module = importlib.import_module(package)
        names = getattr(module, "__all__", None) or [n for n in vars(module) if not n.startswith("_")]
        for name in names:
            obj = getattr(module, name, None)
            if not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue
            if not (getattr(obj, "__module__", None) or "").startswith("kcore"):
                continue
            seen.setdefault(f"{obj.__module__}.{obj.__qualname__}", obj)
    return sorted(seen.items())


def _documented(obj):
    return bool((obj.__doc__ or "").strip()) if inspect.isclass(obj) else bool(inspect.getdoc(obj))


def test_the_public_api_is_large_enough_to_check():
    assert len(public_objects()) > 300


@pytest.mark.parametrize("package", PACKAGES)
def test_public_classes_and_functions_have_docstrings(package):
    module = importlib.import_module(package)
    names = getattr(module, "__all__", None) or [n for n in vars(module) if not n.startswith("_")]
    missing = []
    for name in names:
        obj = getattr(module, name, None)
        if (inspect.isclass(obj) or inspect.isfunction(obj)) and (obj.__module__ or "").startswith("kcore") \
                and not _documented(obj):
            missing.append(f"{name} ({obj.__module__}.{obj.__qualname__})")
    assert missing == [], f"{package}: no docstring on {missing}"


def test_public_ops_and_backend_functions_are_annotated():
    """kcore.ops and kcore.backend functions declare their return type (the recurrent ops are left to their own
    change)."""
    import kcore

    bare = []
    for module in (kcore.ops, kcore.backend):
        for name in getattr(module, "__all__", None) or [n for n in vars(module) if not n.startswith("_")]:
            fn = inspect.unwrap(getattr(module, name))
            if inspect.isfunction(fn) and fn.__module__ != "kcore.ops.rnn" \
                    and inspect.signature(fn).return_annotation is inspect.Signature.empty:
                bare.append(f"{module.__name__}.{name}")
    assert bare == []
