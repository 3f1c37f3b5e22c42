#!/usr/bin/env bash
# Dependencies as the lock file says: installed on first use, and again whenever package-lock.json
# is newer than the last install (npm records that in node_modules/.package-lock.json).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
