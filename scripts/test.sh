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
# With arguments (a path, a pattern, --selectProjects …) one Jest run takes them as they are.
[ $# -gt 0 ] && exec npx jest --ci "$@"
# The whole suite in two passes, so it stays well inside CI's time: unit, portal and integration files two at a time
# (Docker test files share the engine under a shared lock, each with its own install id), then the browser tests one
# at a time, when nothing else changes the machine's network under Chromium. One summary of both at the end.
results="$(mktemp -d)"
trap 'rm -rf "$results"' EXIT
status=0
npx jest --ci --selectProjects unit admin integration --maxWorkers=2 --json --outputFile="$results/1.json" || status=1
npx jest --ci --selectProjects browser --runInBand --json --outputFile="$results/2.json" || status=1
node - "$results/1.json" "$results/2.json" <<'JS' || status=1
const fs = require('node:fs');
const runs = process.argv.slice(2).filter((f) => fs.existsSync(f)).map((f) => JSON.parse(fs.readFileSync(f, 'utf8')));
const sum = (k) => runs.reduce((a, r) => a + (r[k] ?? 0), 0);
const failed = runs.flatMap((r) => r.testResults.flatMap((f) =>
  f.assertionResults.filter((a) => a.status === 'failed').map((a) => `  ✕ ${f.name.replace(process.cwd() + '/', '')} › ${a.fullName}`)
    .concat(f.status === 'failed' && f.assertionResults.every((a) => a.status !== 'failed') ? [`  ✕ ${f.name.replace(process.cwd() + '/', '')}: ${String(f.message).split('\n').find((l) => l.trim()) ?? 'failed'}`] : [])));
console.log('\n=== npm test: both passes ===');
if (failed.length) console.log(`Failed:\n${failed.join('\n')}`);
console.log(`Test Suites: ${sum('numFailedTestSuites') ? `${sum('numFailedTestSuites')} failed, ` : ''}${sum('numPassedTestSuites')} passed, ${sum('numTotalTestSuites')} total`);
console.log(`Tests:       ${sum('numFailedTests') ? `${sum('numFailedTests')} failed, ` : ''}${sum('numPassedTests')} passed, ${sum('numTotalTests')} total`);
process.exit(runs.length === 2 && runs.every((r) => r.success) ? 0 : 1);
JS
exit $status
