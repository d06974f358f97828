#!/usr/bin/env bash
# Create a virtualenv and install exactly the locked Python dependencies (idempotent).
#   scripts/venv.sh            ./venv from requirements-dev.lock (the program, the tests, the linters)
#   scripts/venv.sh --policy   policy/venv from policy/requirements.lock (`pulumi preview --policy-pack policy`)
# The *.lock files pin every package with hashes (scripts/lock.sh writes them; docs/release.md).
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
if ! command -v "$python" >/dev/null; then
  echo "error: $python not found. Install Python 3.11 or newer." >&2
  exit 1
fi
case "${1:-}" in
  --policy) dir=policy/venv; lock=policy/requirements.lock ;;
  "") dir=venv; lock=requirements-dev.lock ;;
  *) echo "usage: scripts/venv.sh [--policy]" >&2; exit 2 ;;
esac
if [ ! -x "$dir/bin/python" ]; then
  "$python" -m venv "$dir"
fi
stamp=$dir/.requirements.sha
want=$(sha256sum "$lock" | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  # --require-hashes: a package whose file does not match the lock's hash is refused.
  "$dir/bin/python" -m pip install --quiet --require-hashes -r "$lock"
  echo "$want" > "$stamp"
fi
echo "$dir"
