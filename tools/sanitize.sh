#!/usr/bin/env bash
# ASan + UBSan run of the test suite.
#
# Builds the engine as kcore._C_sanitize with -fsanitize=address,undefined
# -fno-sanitize-recover=undefined (any undefined behaviour aborts the test run) into build/sanitize,
# links it beside kcore/_C, and runs pytest with KCORE_ENGINE=_C_sanitize (kcore/backend/native.py)
# and libasan preloaded into Python. Leak detection is off: CPython and NumPy keep memory alive on
# purpose until exit.
#
# It takes far longer than CI allows (an -O1 instrumented build plus a suite several times slower
# than usual), so CI does not run it; run it by hand after touching csrc/:
#
#     tools/sanitize.sh [python] [pytest args...]      e.g. tools/sanitize.sh python -x tests/test_ops.py
#
# The build uses -j2 (override with KCORE_JOBS). A clean run ends with pytest's summary and exit 0.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${1:-python}
shift || true
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$(dirname "$PWD")}
if [ ! -f build/sanitize/build.ninja ]; then
  cmake -S . -B build/sanitize -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKCORE_SANITIZE=address,undefined \
    "${launcher[@]}" -DPython_EXECUTABLE="$(command -v "$PY")" -Dpybind11_DIR="$("$PY" -m pybind11 --cmakedir)" >/dev/null
fi
cmake --build build/sanitize -j "${KCORE_JOBS:-2}"
for so in build/sanitize/_C_sanitize*.so; do ln -sf "../$so" kcore/; done

CXX=${CXX:-c++}
ASAN_LIB=$("$CXX" -print-file-name=libasan.so)
STDCXX_LIB=$("$CXX" -print-file-name=libstdc++.so)
[ -f "$ASAN_LIB" ] || { echo "sanitize.sh: libasan.so not found (got '$ASAN_LIB')" >&2; exit 2; }
# libasan first; libstdc++ too, or ASan's __cxa_throw interceptor finds no real __cxa_throw (Python
# itself does not link libstdc++) and aborts on the first C++ exception
export LD_PRELOAD="$ASAN_LIB:$STDCXX_LIB${LD_PRELOAD:+:$LD_PRELOAD}"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export KCORE_ENGINE=_C_sanitize
if [ $# -eq 0 ]; then set -- -q tests; fi
exec "$PY" -m pytest -p no:cacheprovider "$@"
