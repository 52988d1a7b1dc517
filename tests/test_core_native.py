"""Core helpers checked by small C++ programs (built under the address and undefined-behaviour
sanitizers when the compiler has them):
- kcore::Shape (csrc/core/shape.h), the small vector with inline storage every tensor keeps its dims
  and strides in, against std::vector<int64_t> over random operation sequences;
- OpScope (csrc/core/op_scope.cpp): one running op per top-level call, nested entry points included.
The Python-facing side of Shape (shapes from tuples/lists, back as tuples, ranks past the inline
size) is checked through the engine."""
import os
import shutil
import subprocess

import numpy as np
import pytest

from kcore.backend.native import _C as C

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CSRC = os.path.join(ROOT, "csrc")
CXX = shutil.which(os.environ.get("CXX", "c++")) or shutil.which("g++") or shutil.which("clang++")
needs_compiler = pytest.mark.skipif(not os.path.isdir(CSRC) or CXX is None,
                                    reason="needs the source tree (csrc) and a C++ compiler")


def _build_and_run(tmp_path, *sources):
    """Compiles tests/native/<sources[0]> with the csrc files after it; returns the program's stdout."""
    exe = tmp_path / "check"
    paths = [os.path.join(ROOT, "tests", "native", sources[0])] + [os.path.join(CSRC, s) for s in sources[1:]]
    base = [CXX, "-std=c++17", "-O1", "-I", CSRC, *paths, "-o", str(exe)]
    sanitized = subprocess.run(base + ["-fsanitize=address,undefined", "-fno-sanitize-recover=all"],
                               capture_output=True, text=True, timeout=300, check=False)
    if sanitized.returncode != 0:  # no sanitizer runtime here: the plain build still checks the values
        subprocess.run(base, check=True, capture_output=True, text=True, timeout=300)
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.startswith("ok "), run.stdout
    return run.stdout


@needs_compiler
def test_shape_behaves_like_std_vector(tmp_path):
    out = _build_and_run(tmp_path, "shape_check.cpp")
    assert int(out.split()[1]) > 100000


@needs_compiler
def test_one_op_scope_per_top_level_call(tmp_path):
    out = _build_and_run(tmp_path, "op_scope_check.cpp", "core/op_scope.cpp")
    assert int(out.split()[1]) == 12


@pytest.mark.parametrize("shape", [(), (3,), (2, 3), (1, 2, 1, 2, 1, 2), (2, 1, 2, 1, 2, 1, 2), (1,) * 12 + (3,)])
def test_shapes_of_any_rank_round_trip(shape):
    a = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
    t = C.from_numpy(a)
    assert t.shape == shape and isinstance(t.shape, tuple)
    assert t.strides == tuple(s // 4 for s in a.strides) or a.size <= 1
    flat = C.reshape(t, [a.size])
    back = C.reshape(flat, list(shape))
    assert back.shape == shape
    np.testing.assert_array_equal(np.asarray(back), a)
    z = C.zeros(shape, "float32")  # a tuple converts as a list does
    assert z.shape == shape and np.asarray(z).shape == shape


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(5, 3), (7, 1500), (3, 4, 1100)])
def test_sum_rows_over_column_blocks(shape, dtype):
    # sum_rows accumulates columns in double in fixed-size stack blocks; wide rows span several.
    x = np.random.default_rng(3).standard_normal(shape).astype(dtype)
    got = np.asarray(C.sum_rows(C.from_numpy(x)))
    want = x.reshape(-1, shape[-1]).astype(np.float64).sum(axis=0)
    assert got.dtype == dtype and got.shape == (shape[-1],)
    np.testing.assert_allclose(got, want.astype(dtype), rtol=1e-6 if dtype == np.float32 else 1e-12)
