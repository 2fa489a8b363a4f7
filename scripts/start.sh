#!/usr/bin/env bash
# `npm start`: installs dependencies, brings up PostgreSQL, Redis and Docker if absent, builds, migrates and serves
# Wharf (role `all`: API + worker) on http://localhost:3000.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
[ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ] || { log "installing npm packages"; npm install --no-audit --no-fund --loglevel=error; }
if [ -z "${WHARF_SKIP_DOCKER:-}" ]; then
  bash scripts/ensure-services.sh --docker || {
    log "warning: the Docker engine is not available; deployments will fail until it is"
    bash scripts/ensure-services.sh
  }
else
  bash scripts/ensure-services.sh
fi
if [ -f .env ]; then set -a; source .env; set +a; fi
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/wharf}"
# Create the database on first start.
db=$(node -e 'console.log(new URL(process.argv[1]).pathname.slice(1))' "$DATABASE_URL")
admin=$(node -e 'const u=new URL(process.argv[1]); u.pathname="/postgres"; console.log(u.toString())' "$DATABASE_URL")
if [ "$(psql "$admin" -tAc "SELECT 1 FROM pg_database WHERE datname='$db'" 2>/dev/null)" != 1 ]; then
  log "creating database $db"
  psql "$admin" -qc "CREATE DATABASE \"$db\"" >/dev/null
fi
log "building"
npm run -s build
# shellcheck disable=SC2046
exec node $(cat scripts/node-flags) -r ./scripts/paths.js dist/apps/api/src/main.js
