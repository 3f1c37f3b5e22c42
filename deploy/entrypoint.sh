#!/bin/sh
# The Toolroom image's entrypoint (Dockerfile). Every command the Compose stack runs goes through
# here, and each runs as well outside a container (test/app/entrypoint.test.ts runs them natively):
#   start            Node-RED + Toolroom: migrates the database, first start makes user admin
#                    (TOOLROOM_ADMIN_PASSWORD[_FILE]), serves /healthz            (the default)
#   healthcheck      exit 0 when /healthz answers 200 (Docker HEALTHCHECK of the toolroom service)
#   backup           one backup now (toolroom backup)
#   backup-nightly   a backup every day at TOOLROOM_BACKUP_TIME (HH:MM, UTC, default 02:30), then the
#                    retention purge (only after a good backup: nothing goes that no archive holds); a
#                    failed backup is audited, logged and retried the next night; never exits on its own
#   purge            the retention purge now (toolroom purge)
#   backup-healthcheck  exit 0 when the newest archive is younger than TOOLROOM_HEALTH_BACKUP_MAX_AGE_HOURS
#                    (26), or the job started less than that ago
#   next-backup      seconds until the next nightly backup
#   restore | verify | keygen ...   toolroom restore / verify / keygen (see `toolroom --help`)
#   verify-audit ... check the audit hash chain
# Secrets come from files (Docker secrets): VAR_FILE sets VAR for TOOLROOM_ADMIN_PASSWORD, PGPASSWORD
# (the database password; libpq and node-postgres both read it), DATABASE_URL and INFLUX_URL.
set -eu

APP="${TOOLROOM_APP_DIR:-$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)}"
[ -f "$APP/dist/app/start.js" ] || APP=/app

for var in TOOLROOM_ADMIN_PASSWORD PGPASSWORD DATABASE_URL INFLUX_URL; do
  eval "file=\${${var}_FILE:-}"
  if [ -n "$file" ]; then
    if [ ! -r "$file" ]; then echo "toolroom: ${var}_FILE=$file cannot be read" >&2; exit 2; fi
    # The value without its trailing newline; the _FILE variable is not passed on.
    value="$(cat "$file")"
    export "$var=$value"
    unset "${var}_FILE"
  fi
done

next_backup() {
  at="${TOOLROOM_BACKUP_TIME:-02:30}"
  case "$at" in
    [0-1][0-9]:[0-5][0-9] | 2[0-3]:[0-5][0-9]) ;;
    *) echo "toolroom: TOOLROOM_BACKUP_TIME must be HH:MM (UTC), not $at" >&2; return 2 ;;
  esac
  now="${TOOLROOM_NOW:-$(date -u +%s)}"
  day="$(date -u -d "@$now" +%Y-%m-%d)"
  target="$(date -u -d "$day $at UTC" +%s)"
  [ "$target" -gt "$now" ] || target=$((target + 86400))
  echo $((target - now))
}

command="${1:-start}"
[ $# -gt 0 ] && shift
case "$command" in
  start)
    exec node "$APP/dist/app/start.js" "$@" ;;
  healthcheck)
    exec node -e '
      const port = process.env.PORT || 1880;
      fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(4000) })
        .then((r) => process.exit(r.status === 200 ? 0 : 1), () => process.exit(1));' ;;
  backup)
    exec node "$APP/dist/scripts/toolroom.js" backup "$@" ;;
  next-backup)
    next_backup ;;
  backup-nightly)
    wait_s="$(next_backup)"
    date -u +%s > "${TMPDIR:-/tmp}/toolroom-backup-started"
    while :; do
      echo "toolroom: next backup in ${wait_s} s (at ${TOOLROOM_BACKUP_TIME:-02:30} UTC)"
      sleep "$wait_s" & wait $!
      if node "$APP/dist/scripts/toolroom.js" backup; then
        node "$APP/dist/scripts/toolroom.js" purge || echo "toolroom: the retention purge FAILED" >&2
      else
        echo "toolroom: the backup FAILED (audited as backup.fail; /healthz shows backup failing until the next good one)" >&2
      fi
      wait_s="$(next_backup)"
    done ;;
  backup-healthcheck)
    hours="${TOOLROOM_HEALTH_BACKUP_MAX_AGE_HOURS:-26}"
    recent="$(find "${TOOLROOM_BACKUP_DIR:?TOOLROOM_BACKUP_DIR is not set}" -maxdepth 1 -name 'toolroom-*.tar.age' -mmin "-$((hours * 60))" 2>/dev/null | head -n 1)"
    [ -n "$recent" ] && exit 0
    started="$(cat "${TMPDIR:-/tmp}/toolroom-backup-started" 2>/dev/null || echo 0)"
    [ $(( $(date -u +%s) - started )) -lt $((hours * 3600)) ] ;;
  restore | verify | keygen | purge)
    exec node "$APP/dist/scripts/toolroom.js" "$command" "$@" ;;
  verify-audit)
    exec node "$APP/dist/scripts/verify-audit.js" "$@" ;;
  *)
    echo "toolroom: unknown command $command (start, healthcheck, backup, backup-nightly, backup-healthcheck, next-backup, restore, verify, keygen, purge, verify-audit)" >&2
    exit 2 ;;
esac
