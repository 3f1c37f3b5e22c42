#!/usr/bin/env bash
# An MQTT broker for one test or bench run: the machine's Mosquitto at 127.0.0.1:1883 when one answers there,
# else Debian's `mosquitto` (installed if missing) started on a free loopback port with its files in a temp dir,
# stopped and removed after. Source this file, call `mqtt_up` (exports TEST_MQTT_URL=mqtt://127.0.0.1:PORT)
# and `mqtt_down` from an EXIT trap.

mqtt_free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

mqtt_as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

mqtt_answers() { # PORT -> 0 when something accepts TCP there
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

mqtt_install() {
  command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] && return 0
  echo "mqtt-services: mosquitto not found; installing Debian's mosquitto" >&2
  mqtt_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q mosquitto >&2 || {
    mqtt_as_root apt-get update -q >&2 && mqtt_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q mosquitto >&2
  }
}

mqtt_up() {
  if [ -n "${TEST_MQTT_URL:-}" ]; then return 0; fi
  if mqtt_answers 1883; then
    export TEST_MQTT_URL="mqtt://127.0.0.1:1883"
    echo "mqtt-services: using the broker at $TEST_MQTT_URL" >&2
    return 0
  fi
  mqtt_install || return 1
  local bin port i
  bin="$(command -v mosquitto || echo /usr/sbin/mosquitto)"
  TEST_MQTT_DIR="$(mktemp -d /tmp/toolroom-mqtt.XXXXXX)"
  port="$(mqtt_free_port)"
  cat >"$TEST_MQTT_DIR/mosquitto.conf" <<CONF
listener $port 127.0.0.1
allow_anonymous true
persistence false
log_dest file $TEST_MQTT_DIR/mosquitto.log
CONF
  setsid "$bin" -c "$TEST_MQTT_DIR/mosquitto.conf" >>"$TEST_MQTT_DIR/mosquitto.log" 2>&1 </dev/null &
  echo $! >"$TEST_MQTT_DIR/mosquitto.pid"
  export TEST_MQTT_DIR
  export TEST_MQTT_URL="mqtt://127.0.0.1:$port"
  for i in $(seq 1 100); do
    if mqtt_answers "$port"; then echo "mqtt-services: Mosquitto at $TEST_MQTT_URL" >&2; return 0; fi
    sleep 0.1
  done
  echo "mqtt-services: mosquitto did not answer at $TEST_MQTT_URL; its log:" >&2
  tail -20 "$TEST_MQTT_DIR/mosquitto.log" >&2
  return 1
}

mqtt_down() {
  [ -n "${TEST_MQTT_DIR:-}" ] || return 0
  local pid i
  pid="$(cat "$TEST_MQTT_DIR/mosquitto.pid" 2>/dev/null || true)"
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -rf "$TEST_MQTT_DIR"
  unset TEST_MQTT_DIR TEST_MQTT_URL
}
