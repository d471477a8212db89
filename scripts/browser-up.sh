#!/usr/bin/env bash
# Install Debian's Chromium for the browser tests when it is missing (never `playwright install`:
# the tests drive the system's browser).
set -euo pipefail

if [ ! -x /usr/bin/chromium ]; then
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q chromium
fi
