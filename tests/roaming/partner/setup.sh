#!/bin/sh
# The independent OCPI partner's own virtual environment (default .venv-partner at the repo
# root), from the pinned requirements beside this script. `make partner-venv` runs it.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
venv=${1:-"$here/../../../.venv-partner"}
python=${PYTHON:-python3}
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps \
  -r "$here/requirements.txt"
"$venv/bin/python" -m pip check
"$venv/bin/python" -c "import py_ocpi, uvicorn"
touch "$venv/.installed"
