#!/usr/bin/env bash
# Starts Wharf with the README's start command on a scratch database and port, waits for /health/ready, stops it.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
command -v curl >/dev/null || apt_install curl
# A test harness: it creates and drops a scratch database as the postgres user, like the tests.
bash scripts/ensure-services.sh --test
port=${SMOKE_PORT:-3917}
db="wharf_smoke_$$"
export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$db" PORT=$port WHARF_DATA_DIR="$(mktemp -d)" WHARF_QUEUE_PREFIX="smoke$$" LOG_LEVEL=info
logf=$(mktemp)
setsid npm start >"$logf" 2>&1 < /dev/null &
pid=$!
cleanup() {
  kill -TERM -- "-$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -KILL -- "-$pid" 2>/dev/null || true
  psql postgres://postgres@127.0.0.1:5432/postgres -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT
if wait_for 300 curl -sf "http://127.0.0.1:$port/health/ready"; then
  log "smoke: npm start answered /health/ready on port $port"
  curl -s "http://127.0.0.1:$port/health/ready"; echo
  grep -q 'setup token' "$logf" && log "smoke: first boot printed a setup token" || true
else
  log "smoke: npm start did not become ready; its log follows"
  tail -50 "$logf" >&2
  exit 1
fi
