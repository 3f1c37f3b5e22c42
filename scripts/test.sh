#!/usr/bin/env bash
# The one test command (README: `npm test`): install, build, lint, install Chromium if missing, start the services the
# suites talk to (PostgreSQL, InfluxDB, an MQTT broker), run every suite, stop the services.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/install.sh
npx tsc -p tsconfig.json
bash scripts/copy-assets.sh
npx eslint .
source scripts/chromium.sh
ensure_chromium
source scripts/test-services.sh
source scripts/influx-services.sh
source scripts/mqtt-services.sh
trap 'mqtt_down; influx_down; services_down' EXIT
services_up
influx_up
mqtt_up
export TOOLROOM_REQUIRE_SERVER=1
if [ $# -eq 0 ]; then set -- "dist/test/**/*.test.js"; fi
npx mocha "$@"
