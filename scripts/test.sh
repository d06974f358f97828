#!/usr/bin/env bash
# The gate: ruff, mypy --strict, pytest. CI runs exactly this (after installing the Debian tools).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/venv.sh >/dev/null
echo "== ruff"
venv/bin/ruff check .
echo "== mypy --strict"
venv/bin/mypy --strict components tests tools
echo "== pytest"
venv/bin/python -m pytest -q "$@"
