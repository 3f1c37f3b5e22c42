#!/usr/bin/env bash
# `npm run bench`: build, start the services the benchmarks need (PostgreSQL, InfluxDB, MQTT), run every
# bench/*.ts (or the compiled ones named, e.g. `npm run bench -- dist/bench/core-list.js`).
# BENCH_CPUS=0 (a taskset CPU list) pins each bench and what it starts to those CPUs, a stand-in for a
# Pi's slower cores; the PostgreSQL server it finds already running is not pinned.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/build-and-services.sh
toolroom_build
toolroom_services_up
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
