#!/usr/bin/env bash
# `npm run bench`: build, start the services the benchmarks need, run every bench/*.ts (or the ones named).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ -d node_modules ] || npm ci --no-audit --no-fund
npx tsc -p tsconfig.json
source scripts/test-services.sh
trap services_down EXIT
services_up
export BENCH_DATABASE_URL="$TEST_DATABASE_URL"
if [ $# -eq 0 ]; then set -- dist/bench/*.js; fi
for b in "$@"; do
  case "$b" in */lib.js) continue ;; esac
  echo "=== $b"
  node --expose-gc "$b"
done
