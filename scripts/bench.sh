#!/usr/bin/env bash
# `npm run bench`: build, start the services the benchmarks need (PostgreSQL, InfluxDB, MQTT), run every
# bench/*.ts (or the compiled ones named, e.g. `npm run bench -- dist/bench/core-list.js`).
# BENCH_CPUS=0 (a taskset CPU list) pins each bench and what it starts to those CPUs, a stand-in for a
# Pi's slower cores; the PostgreSQL server it finds already running is not pinned.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/install.sh
npx tsc -p tsconfig.json
bash scripts/copy-assets.sh
source scripts/chromium.sh
ensure_chromium
source scripts/test-services.sh
source scripts/influx-services.sh
source scripts/mqtt-services.sh
trap 'mqtt_down; influx_down; services_down' EXIT
services_up
influx_up
mqtt_up
export BENCH_DATABASE_URL="$TEST_DATABASE_URL"
if [ $# -eq 0 ]; then set -- dist/bench/*.js; fi
for b in "$@"; do
  case "$b" in */lib.js|*/actors.js) continue ;; esac
  echo "=== $b"
  if [ -n "${BENCH_CPUS:-}" ]; then
    echo "(pinned to CPU ${BENCH_CPUS}: taskset -c ${BENCH_CPUS})"
    taskset -c "$BENCH_CPUS" node --expose-gc "$b"
  else
    node --expose-gc "$b"
  fi
done
