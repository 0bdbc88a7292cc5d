#!/bin/sh
# localstripe's own virtual environment (default .venv-localstripe at the repo root), from the
# pinned requirements beside this script. `make localstripe-venv` runs it.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
venv=${1:-"$here/../../../.venv-localstripe"}
python=${PYTHON:-python3}
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps \
  -r "$here/requirements.txt"
"$venv/bin/python" -m pip check
"$venv/bin/python" -c "import localstripe.server"
touch "$venv/.installed"
