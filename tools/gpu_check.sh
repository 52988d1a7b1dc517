#!/usr/bin/env bash
# One short run on a GPU machine that verifies kcore's CUDA backend (issue 16) and writes what it
# finds under $OUT (default build/gpu_check): build for the card, the CUDA tests (every op and
# gradient against the CPU engine, GPU-vs-CPU training), compute-sanitizer memcheck on a subset,
# and the CUDA benchmarks against PyTorch CUDA (cuBLAS / cuDNN).
#
#   tools/gpu_check.sh                 # everything (about 6-9 minutes on an H200 with 16 cores)
#   GPU_CHECK_STEPS="build test" tools/gpu_check.sh      # a subset of: env build test memcheck bench cpu
# Where one command may run 10 minutes at most, split it in two calls on the same (warm) machine:
#   GPU_CHECK_STEPS="env build test" tools/gpu_check.sh   then   GPU_CHECK_STEPS="memcheck bench" tools/gpu_check.sh
# (the second reuses build/gpu and the kcore/_C*.so links of the first).
#
# Knobs: PYTHON (default python3), KCORE_CUDA_ARCH (default 90: sm_90 SASS + compute_90 PTX),
# KCORE_CUBLAS_ROOT (default: the toolkit's cuBLAS, else pip's nvidia/cu13 or nvidia/cublas),
# BENCH_ARGS (default empty; e.g. --quick), JOBS (default nproc).
# The CPU engine links scipy-openblas32; where it is not installed and nothing can be fetched,
# carry its wheel in .whl/ (made on a connected machine, e.g.
#   pip download --no-deps --only-binary=:all: --python-version 3.12 --platform manylinux2014_x86_64 \
#       -d .whl scipy-openblas32
# ); any .whl/*.whl is installed into /tmp/site first. Without it the build falls back to
# KCORE_BLAS=openblas / generic (a system BLAS).
# Files under $OUT (at most 8): summary.txt env.txt build.log tests.log memcheck.log bench.log
# bench_cuda.json cpu_tests.log. The exit status is the number of failed steps.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=${OUT:-$ROOT/build/gpu_check}
mkdir -p "$OUT"
PY=${PYTHON:-python3}
ARCH=${KCORE_CUDA_ARCH:-90}
JOBS=${JOBS:-$(nproc)}
STEPS=${GPU_CHECK_STEPS:-env build test memcheck bench}
BUILD=$ROOT/build/gpu
export PYTHONUNBUFFERED=1
failed=0

note() { echo "== $*" | tee -a "$OUT/summary.txt"; }
want() { [[ " $STEPS " == *" $1 "* ]]; }
# step NAME LOG TIMEOUT CMD...: runs CMD with a time limit, appends to LOG, records the outcome.
step() {
  local name=$1 log=$2 limit=$3
  shift 3
  local start=$SECONDS
  timeout "$limit" "$@" >>"$log" 2>&1
  local rc=$?
  if [ $rc -eq 0 ]; then
    note "$name: ok ($((SECONDS - start)) s)"
  else
    note "$name: FAILED rc=$rc ($((SECONDS - start)) s; see $(basename "$log"))"
    failed=$((failed + 1))
  fi
  return $rc
}

: >"$OUT/summary.txt"
note "kcore GPU check $(date -u +%FT%TZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'), arch $ARCH"

if ls .whl/*.whl >/dev/null 2>&1; then
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    && export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi

if want env; then
  {
    nvidia-smi || true
    nvcc --version || true
    "$PY" --version
    "$PY" -c "import numpy, sys; print('numpy', numpy.__version__)"
    "$PY" -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.is_available(),
torch.backends.cudnn.version())" || echo "no torch"
    command -v compute-sanitizer || echo "no compute-sanitizer"
  } >"$OUT/env.txt" 2>&1
  note "env: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -1)"
fi

if want build; then
  blas=()
  if "$PY" -c "import scipy_openblas32" 2>/dev/null; then
    blas=(-DKCORE_BLAS=scipy-openblas)
  elif ldconfig -p 2>/dev/null | grep -q libopenblas; then
    blas=(-DKCORE_BLAS=openblas)
  else
    blas=(-DKCORE_BLAS=generic)
  fi
  cublas=()
  if [ -n "${KCORE_CUBLAS_ROOT:-}" ]; then
    cublas=(-DKCORE_CUBLAS_ROOT="$KCORE_CUBLAS_ROOT")
  elif ! ls /usr/local/cuda/lib64/libcublas.so* >/dev/null 2>&1 && ! ls /usr/local/cuda/targets/*/lib/libcublas.so* >/dev/null 2>&1; then
    site=$("$PY" -c "import os, nvidia; print(os.path.dirname(list(nvidia.__path__)[0]))" 2>/dev/null)
    for d in "$site/nvidia/cu13" "$site/nvidia/cublas"; do
      if ls "$d"/lib/libcublas.so* >/dev/null 2>&1; then cublas=(-DKCORE_CUBLAS_ROOT="$d"); break; fi
    done
  fi
  : >"$OUT/build.log"
  step "configure (${blas[*]} ${cublas[*]})" "$OUT/build.log" 300 \
    cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DKCORE_CUDA=ON -DKCORE_CUDA_ARCH="$ARCH" \
    -DPython_EXECUTABLE="$(command -v "$PY")" -Dpybind11_DIR="$("$PY" -m pybind11 --cmakedir)" "${blas[@]}" "${cublas[@]}" \
    && step "build" "$OUT/build.log" 420 cmake --build "$BUILD" -j "$JOBS" \
    && for so in "$BUILD"/_C*.so; do ln -sf "$so" kcore/; done
fi
if "$PY" -c "import kcore, sys; sys.exit(0 if kcore.cuda.is_available() else 1)" >/dev/null 2>&1; then
  note "CUDA usable: $("$PY" -c "import kcore; print(kcore.cuda.get_device_properties())" 2>&1 | tail -1)"
else
  note "CUDA NOT usable: $("$PY" -c "import kcore; print(kcore.cuda.unavailable_reason())" 2>&1 | tail -1)"
  failed=$((failed + 1))
fi

if want test; then
  : >"$OUT/tests.log"
  step "tests/test_cuda.py tests/test_cuda_routing.py tests/test_cuda_nn.py tests/test_geometry_native.py" "$OUT/tests.log" 300 \
    "$PY" -m pytest -q -rs -p no:cacheprovider tests/test_cuda.py tests/test_cuda_routing.py tests/test_cuda_nn.py tests/test_geometry_native.py
  note "  $(grep -E '[0-9]+ (passed|failed)' "$OUT/tests.log" | tail -1)"
  if grep -q "CUDA not available" "$OUT/tests.log"; then note "  GPU tests SKIPPED (see tests.log)"; fi
fi

if want memcheck; then
  : >"$OUT/memcheck.log"
  if command -v compute-sanitizer >/dev/null; then
    # one case of every kernel family, float64 and float32, small shapes; the multi-chunk conv path too
    subset="test_conv_forward_and_backward and (2d_strided_padded or 3d or 2d_depthwise) and float32"
    subset="$subset or test_conv_transpose and 2d_same_odd and float32 or test_pool_forward and 3d and float32"
    subset="$subset or test_rnn_forward_and_backward and float32 and (mask_backwards or dropout_mask)"
    subset="$subset or test_tiny_cnn"
    step "compute-sanitizer memcheck (subset)" "$OUT/memcheck.log" 300 \
      compute-sanitizer --tool memcheck --error-exitcode 7 --leak-check no "$PY" -m pytest -q -x -p no:cacheprovider \
      tests/test_cuda.py tests/test_cuda_nn.py -k "$subset"
    note "  $(grep -E 'ERROR SUMMARY|[0-9]+ passed' "$OUT/memcheck.log" | tail -2 | tr '\n' ' ')"
  else
    note "memcheck: compute-sanitizer not on PATH"
  fi
fi

if want bench; then
  : >"$OUT/bench.log"
  # shellcheck disable=SC2086
  step "python -m kcore.bench --device cuda ${BENCH_ARGS:-}" "$OUT/bench.log" 300 \
    "$PY" -m kcore.bench --device cuda ${BENCH_ARGS:-} --json "$OUT/bench_cuda.json"
  grep -E "^(cuda |case|matmul|Conv|LSTM|GRU|seed)" "$OUT/bench.log" >>"$OUT/summary.txt"
fi

if want cpu; then
  : >"$OUT/cpu_tests.log"
  step "CPU suite (python -m pytest tests)" "$OUT/cpu_tests.log" 900 "$PY" -m pytest -q -x -p no:cacheprovider tests
  note "  $(grep -E '[0-9]+ (passed|failed)' "$OUT/cpu_tests.log" | tail -1)"
fi

note "failed steps: $failed"
exit "$failed"
