/**
 * Routing benchmark (`npm run bench -- routing`, not part of `npm test`): the cost of applying one domain change —
 * validate the domain, render the application's Traefik file, serialize it and write it atomically through
 * TraefikFileAdapter (temp file + fsync + rename + directory fsync) — with 10, 100 and 1,000 applications' files
 * (2 domains each) present in the directory Traefik watches. Goal: < 50 ms (p95) and flat as the count grows (the
 * median at 1,000 within 1.5 × — or 2 ms of — the median at 10), because one change touches one file.
 * Also reported: re-applying every application unchanged (reads and compares only, nothing written).
 * Writes its rows as JSON to $WHARF_BENCH_RESULT when set (scripts/bench.sh prints the summary).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import bcrypt from 'bcryptjs';
import { TraefikFileAdapter } from '@wharf/orchestration';
import { applicationFileKey, renderApplicationConfig, toTraefikYaml, validateDomainSpec, ValidDomainSpec } from '@wharf/routing';

const COUNTS = [10, 100, 1000];
const CHANGES = Number(process.env.WHARF_BENCH_RUNS ?? 200);
const GOAL_MS = 50;
const INSTALL = 'bench';
const HASH = bcrypt.hashSync('secret', 4);

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
const appId = (i: number) => `0190f3c2-7a4b-7c1d-8e2f-${i.toString(16).padStart(12, '0')}`;

function domainsOf(i: number, revision: number): unknown[] {
  return [
    {
      host: `app-${i}.apps.example.com`,
      port: 8080,
      https: true,
      redirectHttpToHttps: true,
      wwwRedirect: true,
      responseHeaders: { 'X-Revision': String(revision), 'X-Frame-Options': 'DENY' },
      basicAuth: [{ username: 'admin', passwordHash: HASH }],
      ipAllowList: ['10.0.0.0/8'],
      rateLimit: { average: 100, burst: 50 },
    },
    { host: `app-${i}.example.org`, pathPrefix: '/api', stripPrefix: true, port: 3000, https: false, redirects: [{ regex: '^http://app\\.example\\.org/old/(.*)', replacement: '/new/${1}', permanent: true }] },
  ];
}

/** What the worker will do for one application: validate, render, serialize, write (only if changed). */
const revisions = new Map<number, number>();
async function apply(adapter: TraefikFileAdapter, i: number, revision: number): Promise<boolean> {
  revisions.set(i, revision);
  const domains = domainsOf(i, revision).map((d) => {
    const r = validateDomainSpec(d);
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    return r.value;
  }) as ValidDomainSpec[];
  const config = renderApplicationConfig({
    installId: INSTALL,
    applicationId: appId(i),
    serviceName: `wharf-app-${i}`,
    domains,
    certificates: [{ certFile: `/certs/app-${i}/chain.pem`, keyFile: `/certs/app-${i}/key.pem` }],
  });
  const { changed } = await adapter.write(applicationFileKey(appId(i)), toTraefikYaml(config));
  return changed;
}

async function main(): Promise<void> {
  const rows: Array<{ metric: string; value: number; unit: string; goal?: string; ok?: boolean }> = [];
  const medians: number[] = [];
  console.log(`\nrouting: one domain change (validate + render + atomic write of one file), ${CHANGES} changes per count\n`);
  console.log('applications  domains   median ms   p95 ms   max ms   re-apply all unchanged ms');
  for (const count of COUNTS) {
    const root = mkdtempSync(path.join(tmpdir(), 'wharf-routing-bench-'));
    try {
      revisions.clear();
      const adapter = new TraefikFileAdapter({ directory: path.join(root, 'dynamic'), installId: INSTALL });
      await adapter.ensureDirectory();
      for (let i = 0; i < count; i++) await apply(adapter, i, 0);
      for (let w = 0; w < 20; w++) await apply(adapter, w % count, 1_000_000 + w); // warm-up

      const times: number[] = [];
      for (let n = 0; n < CHANGES; n++) {
        const i = (n * 7919) % count;
        const start = performance.now();
        const changed = await apply(adapter, i, n + 1);
        times.push(performance.now() - start);
        if (!changed) throw new Error('a changed domain did not rewrite its file');
      }
      const files = (await adapter.list()).length;
      if (files !== count) throw new Error(`expected ${count} files, found ${files}`);

      const started = performance.now();
      let rewritten = 0;
      for (let i = 0; i < count; i++) if (await apply(adapter, i, revisions.get(i) ?? 0)) rewritten++;
      const reapply = performance.now() - started;

      const [median, p95, max] = [quantile(times, 0.5), quantile(times, 0.95), Math.max(...times)];
      medians.push(median);
      console.log(`${String(count).padStart(12)}  ${String(count * 2).padStart(7)}  ${median.toFixed(2).padStart(10)}  ${p95.toFixed(2).padStart(7)}  ${max.toFixed(2).padStart(7)}  ${reapply.toFixed(1).padStart(10)} (${rewritten} rewritten)`);
      rows.push({ metric: `${count} apps (${count * 2} domains): one change, median`, value: median, unit: 'ms' });
      rows.push({ metric: `${count} apps (${count * 2} domains): one change, p95`, value: p95, unit: 'ms', goal: `< ${GOAL_MS} ms`, ok: p95 < GOAL_MS });
      rows.push({ metric: `${count} apps: re-apply all unchanged`, value: reapply, unit: 'ms' });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }
  const [first, last] = [medians[0], medians[medians.length - 1]];
  const flat = last <= first * 1.5 || last - first <= 2;
  rows.push({ metric: `median at ${COUNTS[COUNTS.length - 1]} / at ${COUNTS[0]} apps`, value: Number((last / first).toFixed(2)), unit: '×', goal: '≤ 1.5 (or ≤ 2 ms apart)', ok: flat });
  console.log(`\nflat: median ${last.toFixed(2)} ms at ${COUNTS[COUNTS.length - 1]} vs ${first.toFixed(2)} ms at ${COUNTS[0]} (${(last / first).toFixed(2)} ×): ${flat ? 'yes' : 'NO'}\n`);
  if (process.env.WHARF_BENCH_RESULT) writeFileSync(process.env.WHARF_BENCH_RESULT, JSON.stringify({ name: 'routing', rows }, null, 2));
  if (rows.some((r) => r.ok === false)) process.exitCode = 1;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
