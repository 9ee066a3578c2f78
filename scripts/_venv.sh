# Sourced by scripts/demo and scripts/test: find Python >= 3.11 and make .venv with the project in it.
# usage: . scripts/_venv.sh EXTRAS   (EXTRAS: "" or "[dev]")

find_python() {
  for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
    [ -n "$candidate" ] || continue
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      echo "$candidate"
      return 0
    fi
  done
  echo "databank needs Python 3.11 or newer (set PYTHON=/path/to/python3.11)" >&2
  return 1
}

ensure_venv() {
  local extras="$1"
  if [ ! -x .venv/bin/python ]; then
    local python
    python=$(find_python)
    echo "== creating .venv with $python"
    "$python" -m venv .venv
    .venv/bin/python -m pip install --quiet --upgrade pip
  fi
  echo "== installing databank$extras into .venv"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".$extras"
}
