#!/usr/bin/env bash
# `npm run build:admin`: builds the Angular portal (apps/admin) into dist/admin/browser, which the API serves at /.
# Prints the initial bundle's raw and gzip sizes (Angular's budgets in angular.json measure raw sizes) and fails when
# the initial JavaScript exceeds WHARF_ADMIN_GZIP_BUDGET_KB gzipped (default 110).
#   --if-stale   skip the build when dist/admin/browser is newer than every input (used by scripts/test.sh)
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
OUT=dist/admin/browser
if [ "${1:-}" = --if-stale ] && [ -f "$OUT/index.html" ]; then
  newer=$(find apps/admin libs/contracts/src angular.json package-lock.json -newer "$OUT/index.html" -type f -print -quit 2>/dev/null)
  if [ -z "$newer" ]; then log "portal is up to date ($OUT)"; exit 0; fi
fi
log "building the portal"
npx ng build --configuration production --progress=false
node - "$OUT" "${WHARF_ADMIN_GZIP_BUDGET_KB:-110}" <<'NODE'
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');
const [dir, budgetKb] = process.argv.slice(2);
const html = fs.readFileSync(path.join(dir, 'index.html'), 'utf8');
const files = [...html.matchAll(/(?:src|href)="([^"]+\.(?:js|css))"/g)].map((m) => m[1]);
let raw = 0, gz = 0, jsGz = 0;
for (const f of files) {
  const buf = fs.readFileSync(path.join(dir, f));
  const g = zlib.gzipSync(buf, { level: 9 }).length;
  raw += buf.length; gz += g;
  if (f.endsWith('.js')) jsGz += g;
}
// Preloaded initial chunks (modulepreload links) are listed above; `main` imports the rest statically.
const kb = (n) => (n / 1024).toFixed(1) + ' KB';
console.error(`[wharf] portal initial bundle: ${kb(raw)} raw, ${kb(gz)} gzip (JavaScript ${kb(jsGz)} gzip, budget ${budgetKb} KB)`);
if (jsGz > Number(budgetKb) * 1024) { console.error('[wharf] the portal\'s initial JavaScript is over its gzip budget'); process.exit(1); }
NODE
