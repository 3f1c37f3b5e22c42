#!/usr/bin/env bash
# Services the test suites need, started for one test run and stopped after it.
# Source this file, call `services_up`, and `services_down` from an EXIT trap.
#
# PostgreSQL: the server at 127.0.0.1:5432 when one answers (a fresh database per run);
# otherwise a throwaway cluster from Debian's `postgresql` package (installed if missing),
# initdb'd in a temp dir as the postgres user, on a free loopback port. The client tools (pg_dump,
# pg_restore, psql) from Debian's `postgresql-client`, installed if missing.

TR_TMP="${TR_TMP:-$(mktemp -d /tmp/toolroom-test.XXXXXX)}"
chmod 755 "$TR_TMP"
TR_PG_STARTED=""
TR_PG_DB=""

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

pg_sql() { # pg_sql URL SQL
  node -e 'const {Client}=require("pg");const c=new Client({connectionString:process.argv[1]});c.connect().then(()=>c.query(process.argv[2])).then(()=>c.end()).catch(e=>{console.error(e.message);process.exit(1)})' "$1" "$2"
}

pg_answers() { node -e 'const {Client}=require("pg");const c=new Client({connectionString:process.argv[1],connectionTimeoutMillis:3000});c.connect().then(()=>c.end()).catch(()=>process.exit(1))' "$1" 2>/dev/null; }

postgres_up() {
  local admin_url="${TEST_PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
  if ! pg_answers "$admin_url"; then
    echo "test-services: no PostgreSQL server answers at $admin_url; starting a throwaway one" >&2
    if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
      as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2
    fi
    local bin; bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
    local port; port="$(free_port)"
    local dir="$TR_TMP/pg"
    mkdir -p "$dir" && chown postgres "$dir" 2>/dev/null || true
    local run=(); [ "$(id -un)" = postgres ] || run=(as_root -u postgres)
    [ "$(id -u)" = 0 ] && run=(runuser -u postgres --)
    "${run[@]}" "$bin/initdb" -D "$dir/data" -A trust -U postgres >/dev/null
    "${run[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off" start >&2
    TR_PG_STARTED="$bin/pg_ctl -D $dir/data"
    admin_url="postgres://postgres@127.0.0.1:$port/postgres"
  fi
  TR_PG_DB="toolroom_test_$$_$RANDOM"
  pg_sql "$admin_url" "CREATE DATABASE $TR_PG_DB"
  TR_PG_ADMIN_URL="$admin_url"
  export TEST_DATABASE_URL="${admin_url%/*}/$TR_PG_DB"
  echo "test-services: PostgreSQL database $TEST_DATABASE_URL" >&2
}

postgres_down() {
  if [ -n "$TR_PG_DB" ]; then
    pg_sql "$TR_PG_ADMIN_URL" "DROP DATABASE IF EXISTS $TR_PG_DB WITH (FORCE)" || true
  fi
  if [ -n "$TR_PG_STARTED" ]; then
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- $TR_PG_STARTED -m fast stop >&2 || true
    else as_root -u postgres $TR_PG_STARTED -m fast stop >&2 || true; fi
  fi
}

# The backup suites run pg_dump, pg_restore and psql (Debian's postgresql-client), as `toolroom backup` does.
pg_client_up() {
  if ! command -v pg_dump >/dev/null || ! command -v pg_restore >/dev/null || ! command -v psql >/dev/null; then
    echo "test-services: installing Debian's postgresql-client (pg_dump, pg_restore, psql)" >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql-client >&2
  fi
}

# The Compose stack's checks (test/app/compose.test.ts): Debian's docker-compose validates docker-compose.yml
# (no Docker engine is needed for `config`), Debian's caddy validates deploy/Caddyfile.
deploy_tools_up() {
  if ! command -v docker-compose >/dev/null || ! command -v caddy >/dev/null; then
    echo "test-services: installing Debian's docker-compose and caddy (to validate the Compose stack)" >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker-compose caddy >&2
    # The package starts a Caddy service on port 80 where systemd runs: only its binary is wanted.
    if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then as_root systemctl disable --now caddy >&2 || true; fi
  fi
}

services_up() { pg_client_up; deploy_tools_up; postgres_up; }
services_down() { postgres_down; rm -rf "$TR_TMP"; }
