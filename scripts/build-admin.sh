#!/usr/bin/env bash
# `npm run build:admin`: builds the Angular portal (apps/admin) into dist/admin/browser, which the API serves at /.
# Prints the initial bundle's raw and gzip sizes and fails when the initial JavaScript exceeds
# WHARF_ADMIN_GZIP_BUDGET_KB gzipped (default 110): what users download is the compressed size, so that is the gate
# (Angular's budgets in angular.json measure raw sizes and only catch a runaway bundle).
# Then writes a brotli (.br) and a gzip (.gz) file beside each js/css/html/svg/json file (the API serves them by
# Accept-Encoding), and last the stamp dist/admin/.compressed.
#   --if-stale   skip the build when the stamp is newer than every input (used by scripts/test.sh)
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
OUT=dist/admin/browser
STAMP=dist/admin/.compressed
if [ "${1:-}" = --if-stale ] && [ -f "$OUT/index.html" ] && [ -f "$STAMP" ]; then
  newer=$(find apps/admin libs/contracts/src angular.json package-lock.json scripts/build-admin.sh -newer "$STAMP" -type f -print -quit 2>/dev/null)
  if [ -z "$newer" ]; then log "portal is up to date ($OUT)"; exit 0; fi
fi
log "building the portal"
rm -f "$STAMP"
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
node - "$OUT" "$STAMP" <<'NODE'
// Pre-compression at build time: brotli at its best quality and gzip level 9, each kept only when smaller.
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');
const [dir, stamp] = process.argv.slice(2);
const walk = (d) => fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]));
let raw = 0, br = 0, gz = 0, count = 0;
for (const file of walk(dir).filter((f) => /\.(js|css|html|svg|json)$/.test(f))) {
  const buf = fs.readFileSync(file);
  const variants = {
    '.br': zlib.brotliCompressSync(buf, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11, [zlib.constants.BROTLI_PARAM_SIZE_HINT]: buf.length, [zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT } }),
    '.gz': zlib.gzipSync(buf, { level: 9 }),
  };
  for (const [suffix, out] of Object.entries(variants)) {
    if (out.length < buf.length) fs.writeFileSync(file + suffix, out);
    else fs.rmSync(file + suffix, { force: true });
  }
  raw += buf.length; br += Math.min(buf.length, variants['.br'].length); gz += Math.min(buf.length, variants['.gz'].length); count++;
}
fs.writeFileSync(stamp, new Date().toISOString() + '\n');
const kb = (n) => (n / 1024).toFixed(1) + ' KB';
console.error(`[wharf] pre-compressed ${count} files: ${kb(raw)} raw, ${kb(br)} brotli, ${kb(gz)} gzip`);
NODE
