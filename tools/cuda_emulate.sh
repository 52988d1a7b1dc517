#!/usr/bin/env bash
# Builds kcore._C_cuda_emu (the CUDA conv / pooling / recurrent kernels emulated on the host, see
# csrc/cuda/emulate/runtime.cpp) in build/emu and links it into kcore/, so that
#   python -m pytest -q tests/test_cuda_nn.py
# runs the GPU op tests (not the training ones) on a machine without a GPU. Usage: tools/cuda_emulate.sh [python]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${1:-python}
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
if [ ! -f build/emu/build.ninja ]; then
  cmake -S . -B build/emu -G Ninja -DCMAKE_BUILD_TYPE=Release -DKCORE_CUDA_EMULATE=ON "${launcher[@]}" \
    -DPython_EXECUTABLE="$(command -v "$PY")" -Dpybind11_DIR="$("$PY" -m pybind11 --cmakedir)" >/dev/null
fi
cmake --build build/emu -j "${JOBS:-2}" --target _C_cuda_emu
for so in build/emu/_C_cuda_emu*.so; do ln -sf "../$so" kcore/; done
