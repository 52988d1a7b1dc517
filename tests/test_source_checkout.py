"""A source checkout without a built engine: it borrows an installed engine, or says what to do."""
import os
import shutil
import subprocess
import sys

import numpy as np

import kcore


def _copy_sources(dst):
    """kcore's Python files only, as in a fresh clone (no compiled engine)."""
    src = os.path.dirname(kcore.__file__)
    shutil.copytree(src, os.path.join(dst, "kcore"),
                    ignore=shutil.ignore_patterns("_C*.so", "_C*.pyd", "__pycache__", "data"))


def _run(code, cwd, *args, env=None):
    return subprocess.run([sys.executable, *args, "-c", code], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env=env)


def test_checkout_borrows_the_installed_engine(tmp_path):
    _copy_sources(tmp_path)
    installed = os.path.dirname(os.path.dirname(kcore.__file__))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), installed]))
    code = ("import kcore, kcore.backend.native as n; print(kcore.__file__); print(n._C.__file__);"
            "print(kcore.ops.add([1.0], [2.0]).numpy()[0])")
    out = _run(code, tmp_path, env=env)
    assert out.returncode == 0, out.stderr
    kcore_file, engine_file, value = out.stdout.split()
    assert kcore_file.startswith(str(tmp_path))          # the checkout's Python code runs...
    assert not engine_file.startswith(str(tmp_path))     # ...on the installed engine
    assert float(value) == 3.0


def test_checkout_without_any_engine_says_what_to_do(tmp_path):
    _copy_sources(tmp_path / "src")
    site = tmp_path / "site"
    site.mkdir()
    os.symlink(os.path.dirname(np.__file__), site / "numpy")  # NumPy only: no installed kcore
    code = (f"import sys; sys.path[:0] = [{str(tmp_path / 'src')!r}, {str(site)!r}]\n"
            "try:\n    import kcore\nexcept ImportError as e:\n    print(e)\nelse:\n    print('imported')")
    out = _run(code, tmp_path, "-S", "-E")
    assert out.returncode == 0, out.stderr
    assert "native engine (kcore._C) is not built" in out.stdout
    assert "pip install ." in out.stdout and "tools/dev_build.sh" in out.stdout


def test_import_does_not_load_optional_machinery():
    code = ("import sys, kcore; heavy = ['urllib.request', 'zipfile', 'h5py', 'tarfile', 'numpy.random',"
            " 'kcore.datasets']; print([m for m in heavy if m in sys.modules])")
    out = _run(code, os.getcwd())
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
    out = _run("import kcore; print(kcore.datasets.digits.__name__, kcore.saving.__name__)", os.getcwd())
    assert out.stdout.split() == ["kcore.datasets.digits", "kcore.saving"], out.stderr
