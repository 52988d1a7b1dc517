#!/usr/bin/env bash
# Developer build: compile kcore._C into build/dev and link it into the source tree's kcore/,
# so `python -m pytest tests` and `python -m kcore.examples.digits_mlp` run from this checkout
# without reinstalling. Uses ccache when present. Usage: tools/dev_build.sh [python]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${1:-python}
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$(dirname "$PWD")}
if [ ! -f build/dev/build.ninja ]; then
  cmake -S . -B build/dev -G Ninja -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" \
    -DPython_EXECUTABLE="$(command -v "$PY")" -Dpybind11_DIR="$("$PY" -m pybind11 --cmakedir)" >/dev/null
fi
cmake --build build/dev -j "$(nproc)"
for so in build/dev/_C*.so; do ln -sf "../$so" kcore/; done
