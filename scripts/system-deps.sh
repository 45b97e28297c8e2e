#!/usr/bin/env bash
# System packages that service tests start themselves: Mosquitto (MQTT broker), Debian's Chromium
# (Playwright drives it for the site tests), PostgreSQL (the server database; tests run a private
# server in a temporary directory); and npm, which installs the site's Leaflet.
# Installs them with apt when missing and we may; otherwise says what to install.
set -uo pipefail
need=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need+=(mosquitto)
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || command -v postgres >/dev/null 2>&1 || need+=(postgresql)
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v npm >/dev/null 2>&1 || need+=(npm)
if [ ${#need[@]} -eq 0 ]; then
    echo "setup: system packages present: mosquitto, postgresql, chromium, npm" >&2
    exit 0
fi
sudo=""
[ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && sudo="sudo -n"
if command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" -eq 0 ] || [ -n "$sudo" ]; }; then
    echo "setup: installing ${need[*]} (apt)" >&2
    $sudo apt-get update -qq >/dev/null 2>&1 || true
    # Several set-ups may run at once: wait for apt's lock rather than fail.
    if DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq -o DPkg::Lock::Timeout=600 --no-install-recommends "${need[@]}" >/dev/null; then
        # The Debian packages start a system broker on :1883 and a server on :5432; tests run their
        # own on free ports.
        exit 0
    fi
fi
echo "setup: could not install ${need[*]}; tests that need it will be skipped (and fail under CI=true). Install it with: apt-get install ${need[*]}" >&2
exit 0
