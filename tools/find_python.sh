# find_python X.Y: prints the path of a working CPython X.Y interpreter: pyenv's installed one first,
# else pythonX.Y on PATH (pyenv's shims on PATH only work for the versions pyenv has selected).
find_python() {
  local v=$1 p candidate
  for candidate in $(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$v".*/bin/python"$v" 2>/dev/null | sort -rV) \
                   "$(command -v "python$v" 2>/dev/null || true)"; do
    if [ -n "$candidate" ] && "$candidate" -c "import sys" >/dev/null 2>&1; then
      echo "$candidate"
      return 0
    fi
  done
  echo "no working python$v found (pyenv or PATH)" >&2
  return 1
}
