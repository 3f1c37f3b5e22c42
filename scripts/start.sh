#!/usr/bin/env bash
# `npm start` (run by scripts/node24.sh, so on Node 24): install when needed, build when a source
# changed since the last build, then run the app (app/start.ts: Node-RED 5 + Toolroom + Dashboard 2).
# Environment: PORT (1880), TOOLROOM_DATA_DIR (./data), DATABASE_URL, TOOLROOM_HOST (127.0.0.1),
# TOOLROOM_SEED=0 or --no-seed to skip the demo plant on the first start, --simulate or TOOLROOM_SIMULATOR=1
# for the press simulator in process (PRESS_SIM_PORT 48400, PRESS_SIM_CYCLE_MS 5000).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/install.sh
out=dist/app/start.js
if [ ! -f "$out" ] || [ -n "$(find app core http lib nodes migrations scripts sim -name '*.ts' -newer "$out" -print -quit 2>/dev/null)" ]; then
  echo "start: building" >&2
  # Type errors do not stop tsc from emitting; report them and run what was built.
  npx tsc -p tsconfig.json >&2 || echo "start: tsc reported type errors (see above); starting with what it emitted" >&2
fi
bash scripts/copy-assets.sh
# Embedded PGlite (no DATABASE_URL): V8's optimizing compiler (TurboFan) on PGlite's 9 MB of
# WebAssembly takes some 550 MB for seconds at a time (a first start peaked at 844 MB RSS, 260 MB with
# the baseline compiler alone; issue 16), so it runs on Liftoff only unless TOOLROOM_PGLITE_OPTIMIZE=1
# (queries about 4x slower: batched shot counting 2,500 instead of 10,000 readings/s, still far beyond a plant).
# A V8 flag: it only takes effect on the command line.
flags=()
if [ -z "${DATABASE_URL:-}" ] && [ "${TOOLROOM_PGLITE_OPTIMIZE:-0}" != 1 ]; then flags+=(--liftoff-only); fi
exec node "${flags[@]}" "$out" "$@"
