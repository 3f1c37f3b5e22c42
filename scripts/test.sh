#!/usr/bin/env bash
# The one test command (README: `npm test`): install, build, lint, install Chromium if missing, start the services the
# suites talk to (PostgreSQL, InfluxDB, an MQTT broker), run every suite, stop the services.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/build-and-services.sh
toolroom_build
npx eslint .
toolroom_services_up
export TOOLROOM_REQUIRE_SERVER=1
if [ $# -eq 0 ]; then set -- "dist/test/**/*.test.js"; fi
npx mocha "$@"
