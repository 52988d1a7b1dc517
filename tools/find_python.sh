# find_python X.Y: prints the path of a CPython X.Y interpreter (pythonX.Y on PATH, else pyenv's).
find_python() {
  local v=$1 p
  p=$(command -v "python$v" 2>/dev/null || true)
  [ -n "$p" ] || p=$(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$v".*/bin/python"$v" 2>/dev/null | sort -V | tail -n 1)
  [ -n "$p" ] || { echo "no python$v found (PATH or pyenv)" >&2; return 1; }
  echo "$p"
}
