#!/usr/bin/env bash
# The one test command (README: `npm test`): install, build, lint, start the services the
# suites talk to, run every suite on both database backends, stop the services.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ -d node_modules ] || npm ci --no-audit --no-fund
npx tsc -p tsconfig.json
npx eslint .
source scripts/test-services.sh
trap services_down EXIT
services_up
export TOOLROOM_REQUIRE_SERVER=1
if [ $# -eq 0 ]; then set -- "dist/test/**/*.test.js"; fi
npx mocha "$@"
