#!/usr/bin/env bash
# Lint: ruff over the Python tree (when ruff is installed) and clang-format --dry-run -Werror over csrc/.
# Exits non-zero when either finds something. Usage: tools/lint.sh [--fix]
#   --fix   apply ruff's safe fixes and clang-format -i instead of only reporting
# Config: pyproject.toml [tool.ruff], .clang-format. Install the tools with: pip install ruff clang-format
set -uo pipefail
cd "$(dirname "$0")/.."
fix=0
[ "${1:-}" = "--fix" ] && fix=1
status=0

if command -v ruff >/dev/null; then
  if [ $fix = 1 ]; then ruff check --fix . || status=1; else ruff check . || status=1; fi
else
  echo "lint: ruff is not installed; skipping the Python checks (pip install ruff)" >&2
fi

if command -v clang-format >/dev/null; then
  mapfile -t sources < <(find csrc -type f \( -name '*.h' -o -name '*.cpp' -o -name '*.cu' -o -name '*.cuh' \) | sort)
  if [ $fix = 1 ]; then
    clang-format -i "${sources[@]}" || status=1
  else
    clang-format --dry-run -Werror "${sources[@]}" || status=1
  fi
else
  echo "lint: clang-format is not installed; skipping the C++ checks (pip install clang-format)" >&2
  status=1
fi
exit $status
