#!/usr/bin/env bash
# InfluxDB 1.x for one test or bench run: Debian's `influxdb` (installed if `influxd` is missing),
# started on free loopback ports with its data in a temp dir, stopped and removed after.
# Source this file, call `influx_up` (exports TEST_INFLUX_URL=http://127.0.0.1:PORT/toolroom_test)
# and `influx_down` from an EXIT trap. Tests that stop and restart InfluxDB on purpose call
# `influx_stop` / `influx_start`, which act on TEST_INFLUX_DIR (config, pid file and log live there).

influx_free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

influx_as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

influx_install() {
  command -v influxd >/dev/null 2>&1 && return 0
  echo "influx-services: influxd not found; installing Debian's influxdb" >&2
  # Debian images forbid service starts during installs (policy-rc.d); none is wanted here either.
  influx_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q influxdb >&2 || {
    influx_as_root apt-get update -q >&2 && influx_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q influxdb >&2
  }
  command -v influxd >/dev/null 2>&1 || { echo "influx-services: influxd still missing after install" >&2; return 1; }
}

influx_write_config() { # DIR HTTP_PORT RPC_PORT
  cat >"$1/influxd.conf" <<EOF
reporting-disabled = true
bind-address = "127.0.0.1:$3"

[meta]
  dir = "$1/meta"

[data]
  dir = "$1/data"
  wal-dir = "$1/wal"
  query-log-enabled = false
  trace-logging-enabled = false

[coordinator]
  log-queries-after = "0s"

[monitor]
  store-enabled = false

[subscriber]
  enabled = false

[continuous_queries]
  enabled = false

[http]
  enabled = true
  bind-address = "127.0.0.1:$2"
  auth-enabled = false
  log-enabled = false

[logging]
  level = "warn"
EOF
}

influx_ping() { # URL-BASE -> 0 when /ping answers 204
  [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$1/ping" 2>/dev/null)" = 204 ]
}

# Start influxd from the config in TEST_INFLUX_DIR and wait until it answers.
influx_start() {
  local dir="$TEST_INFLUX_DIR" base="${TEST_INFLUX_URL%/*}"
  setsid influxd -config "$dir/influxd.conf" >>"$dir/influxd.log" 2>&1 </dev/null &
  echo $! >"$dir/influxd.pid"
  local i
  for i in $(seq 1 150); do
    if influx_ping "$base"; then return 0; fi
    if ! kill -0 "$(cat "$dir/influxd.pid")" 2>/dev/null; then break; fi
    sleep 0.1
  done
  echo "influx-services: influxd did not answer at $base; its log:" >&2
  tail -20 "$dir/influxd.log" >&2
  return 1
}

# Stop the influxd whose pid is in TEST_INFLUX_DIR (a test may have restarted it) and wait for it to exit.
influx_stop() {
  local pidfile="$TEST_INFLUX_DIR/influxd.pid" pid i
  [ -f "$pidfile" ] || return 0
  pid="$(cat "$pidfile")"
  kill "$pid" 2>/dev/null || { rm -f "$pidfile"; return 0; }
  for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$pidfile"
}

influx_up() {
  influx_install || return 1
  TEST_INFLUX_DIR="$(mktemp -d /tmp/toolroom-influx.XXXXXX)"
  local http_port rpc_port
  http_port="$(influx_free_port)"
  rpc_port="$(influx_free_port)"
  while [ "$rpc_port" = "$http_port" ]; do rpc_port="$(influx_free_port)"; done
  influx_write_config "$TEST_INFLUX_DIR" "$http_port" "$rpc_port"
  export TEST_INFLUX_DIR
  export TEST_INFLUX_URL="http://127.0.0.1:$http_port/toolroom_test"
  influx_start || return 1
  echo "influx-services: InfluxDB $(influxd version 2>/dev/null | head -1) at $TEST_INFLUX_URL" >&2
}

influx_down() {
  [ -n "${TEST_INFLUX_DIR:-}" ] || return 0
  influx_stop
  rm -rf "$TEST_INFLUX_DIR"
  unset TEST_INFLUX_DIR TEST_INFLUX_URL
}
