#!/usr/bin/env bash
# The gate: ruff, mypy --strict, pytest. CI runs exactly this (after installing the Debian tools).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/venv.sh >/dev/null
echo "== ruff"
venv/bin/ruff check .
echo "== mypy --strict"
venv/bin/mypy --strict components tests tools
venv/bin/mypy --strict __main__.py
# The policy pack is its own Pulumi project with its own __main__.py.
(cd policy && ../venv/bin/mypy --strict --config-file ../pyproject.toml __main__.py dreamscape_policy)
echo "== pytest"
# On every core (pytest-xdist): each worker evaluates the session's stacks once and keeps its own daemons on
# free ports. Arguments come after, so `scripts/test.sh -n 0` runs in one process (DEVELOPERS.md, "Tests").
venv/bin/python -m pytest -q -n auto "$@"
