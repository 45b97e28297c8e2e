#!/usr/bin/env bash
# The site's front-end library (Leaflet), pinned by host/tynys/publish/web/package-lock.json and
# installed from the npm registry with `npm ci`; tynys publish copies it into every site (no CDN).
set -euo pipefail
cd "$(dirname "$0")/../host/tynys/publish/web"
if ! command -v npm >/dev/null 2>&1; then
    echo "setup: npm is missing, so tynys publish cannot copy Leaflet into a site and the site tests will be skipped." \
         "Install it with: apt-get install npm (scripts/system-deps.sh does it as root)" >&2
    exit 0
fi
# npm ci starts from scratch; skip it when node_modules already holds this lock file's packages.
if cmp -s package-lock.json node_modules/.tynys-installed-lock 2>/dev/null; then
    exit 0
fi
npm ci --no-audit --no-fund --loglevel=error >&2
cp package-lock.json node_modules/.tynys-installed-lock
