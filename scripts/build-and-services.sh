#!/usr/bin/env bash
# Sourced by test.sh and bench.sh, which both build Toolroom and then talk to the same services.
# toolroom_build: dependencies as the lock file says, the TypeScript build and its assets.
# toolroom_services_up: Chromium if missing, then PostgreSQL, InfluxDB and an MQTT broker, all stopped
# when the calling script exits.

toolroom_build() {
  bash scripts/install.sh
  npx tsc -p tsconfig.json
  bash scripts/copy-assets.sh
}

toolroom_services_up() {
  source scripts/chromium.sh
  ensure_chromium
  source scripts/test-services.sh
  source scripts/influx-services.sh
  source scripts/mqtt-services.sh
  trap 'mqtt_down; influx_down; services_down' EXIT
  services_up
  influx_up
  mqtt_up
}
