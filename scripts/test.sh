#!/usr/bin/env bash
# `npm test`: installs dependencies, brings up the real components, type-checks and runs every test.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
[ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ] || { log "installing npm packages"; npm install --no-audit --no-fund --loglevel=error; }
bash scripts/ensure-services.sh --docker --browser --test
log "type-checking"
npx tsc -p tsconfig.json --noEmit
npx tsc -p apps/admin/tsconfig.spec.json --noEmit
# The browser tests need the built portal; rebuilt only when its sources changed.
bash scripts/build-admin.sh --if-stale
log "linting"
npx eslint apps libs migrations test --max-warnings 0
log "running tests"
exec npx jest --ci "$@"
