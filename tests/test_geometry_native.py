"""The conv / pooling geometry shared by the CPU and CUDA kernels (csrc/ops/conv_geometry.h,
csrc/ops/pool_geometry.h). The CPU tests exercise the forward maps through the CPU kernels; the
inverse maps only the CUDA kernels use (which output reads an input cell: col2im and the pooling
backward gathers) are checked here against brute force by a small C++ program."""
import os
import shutil
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCE = os.path.join(ROOT, "tests", "native", "geometry_check.cpp")
CXX = shutil.which(os.environ.get("CXX", "c++")) or shutil.which("g++") or shutil.which("clang++")


@pytest.mark.skipif(not os.path.isdir(os.path.join(ROOT, "csrc")) or CXX is None,
                    reason="needs the source tree (csrc) and a C++ compiler")
def test_inverse_index_maps_match_brute_force(tmp_path):
    exe = tmp_path / "geometry_check"
    subprocess.run([CXX, "-std=c++17", "-O1", "-I", os.path.join(ROOT, "csrc"), SOURCE, "-o", str(exe)],
                   check=True, capture_output=True, text=True, timeout=300)
    run = subprocess.run([str(exe)], capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stdout
    assert run.stdout.startswith("ok ") and int(run.stdout.split()[1]) > 100000
