#!/usr/bin/env bash
# Create ./venv and install the program's and the tests' Python dependencies (idempotent).
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
if ! command -v "$python" >/dev/null; then
  echo "error: $python not found. Install Python 3.11 or newer." >&2
  exit 1
fi
if [ ! -x venv/bin/python ]; then
  "$python" -m venv venv
fi
stamp=venv/.requirements.sha
want=$(cat requirements.txt requirements-dev.txt | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  venv/bin/python -m pip install --quiet --upgrade pip
  venv/bin/python -m pip install --quiet -r requirements-dev.txt
  echo "$want" > "$stamp"
fi
echo venv
