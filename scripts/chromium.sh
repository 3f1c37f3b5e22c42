#!/usr/bin/env bash
# Debian's Chromium for the dashboard end-to-end tests and bench (playwright-core drives it; its
# own browser download cannot work here). Source it and call ensure_chromium: installs the
# `chromium` package when /usr/bin/chromium (or $CHROMIUM_PATH) is missing, with sudo when not root.
ensure_chromium() {
  local bin="${CHROMIUM_PATH:-/usr/bin/chromium}"
  if [ -x "$bin" ]; then return 0; fi
  echo "chromium: $bin missing, installing Debian's chromium" >&2
  local sudo=""
  if [ "$(id -u)" != "0" ]; then sudo="sudo"; fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get update -qq >&2 || return 1
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >&2 || return 1
  [ -x "$bin" ] || { echo "chromium: still no $bin after apt-get install" >&2; return 1; }
}
# Run directly: install if needed.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  ensure_chromium
fi
