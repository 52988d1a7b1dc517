#!/usr/bin/env bash
# Installs each built wheel into a fresh virtualenv of its own Python with no compiler reachable
# (CC/CXX point at `false`, binary packages only) and runs the test suite against the installed
# kcore, from a folder outside the source tree.
#
#   tools/test_wheels.sh [DIST_DIR] [PYTHON_VERSION ...]   (default: dist/, every wheel found there)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
dist=${1:-dist}
shift || true
versions=("$@")
if [ ${#versions[@]} -eq 0 ]; then
  mapfile -t versions < <(ls "$dist"/kcore-*.whl | sed -E 's/.*-cp3([0-9]+)-.*/3.\1/' | sort -uV)
fi
source "$root/tools/find_python.sh"
status=0
for v in "${versions[@]}"; do
  tag="cp${v/./}"
  whl=$(ls "$dist"/kcore-*-"$tag"-*.whl | head -n 1)
  py=$(find_python "$v")
  venv="$root/build/wheeltest-$v"
  rm -rf "$venv" && "$py" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --upgrade pip
  CC=false CXX=false "$venv/bin/python" -m pip install -q --only-binary :all: "$whl[test]"
  work=$(mktemp -d)
  cp -r "$root/tests" "$root/tools" "$work/"  # tests/test_fuzz.py runs tools/fuzz.py
  echo "== CPython $v: $(basename "$whl")"
  (cd "$work" && "$venv/bin/pytest" -q -p no:cacheprovider tests | tail -n 1) || status=1
  rm -rf "$work"
done
exit $status
