#!/usr/bin/env bash
# `npm run bench`: brings up the real components, runs every bench/<name>.bench.ts in turn (each prints its own table
# and may write its figures as JSON to $WHARF_BENCH_RESULT), then prints a summary. Exits non-zero if a benchmark fails.
# Run a subset with: npm run bench -- deploy api
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
bash scripts/ensure-services.sh --docker

files=()
if [ $# -gt 0 ]; then
  for n in "$@"; do files+=("bench/${n%.bench.ts}.bench.ts"); done
else
  shopt -s nullglob
  files=(bench/*.bench.ts)
fi
[ ${#files[@]} -gt 0 ] || { log "no benchmarks found under bench/"; exit 1; }

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
status=0
for f in "${files[@]}"; do
  name="$(basename "$f" .bench.ts)"
  log "benchmark $name ($f)"
  start=$(date +%s)
  if WHARF_BENCH_RESULT="$out/$name.json" node scripts/run-ts.js "$f"; then result=ok; else result=FAILED; status=1; fi
  printf '%s\t%s\t%s\n' "$name" "$result" "$(( $(date +%s) - start ))" >> "$out/summary.tsv"
done

node - "$out" <<'JS'
const fs = require('node:fs');
const path = require('node:path');
const dir = process.argv[2];
console.log('\n=== benchmark summary ===');
for (const line of fs.readFileSync(path.join(dir, 'summary.tsv'), 'utf8').trim().split('\n')) {
  const [name, result, seconds] = line.split('\t');
  console.log(`\n${name}: ${result} (${seconds} s)`);
  const file = path.join(dir, `${name}.json`);
  if (!fs.existsSync(file)) continue;
  const { rows = [] } = JSON.parse(fs.readFileSync(file, 'utf8'));
  const w = Math.max(...rows.map((r) => r.metric.length), 6);
  for (const r of rows) {
    const value = `${Number.isInteger(r.value) ? r.value : Number(r.value).toFixed(2)} ${r.unit ?? ''}`.trim();
    const goal = r.goal ? `  goal ${r.goal}: ${r.ok ? 'met' : 'NOT met'}` : '';
    console.log(`  ${r.metric.padEnd(w)}  ${value.padStart(12)}${goal}`);
  }
}
JS
exit $status
