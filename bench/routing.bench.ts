/**
 * Routing benchmark (`npm run bench -- routing`, not part of `npm test`): the cost of applying one domain change —
 * validate the domain, render the application's Traefik file, serialize it and write it atomically through
 * TraefikFileAdapter (temp file + fsync + rename + directory fsync) — with 10, 100 and 1,000 applications' files
 * (2 domains each) present in the directory Traefik watches. Goal: < 50 ms (p95) and flat as the count grows (the
 * median at 1,000 within 1.5 × — or 2 ms of — the median at 10), because one change touches one file.
 * The counts are measured in interleaved rounds (machine load affects each alike); render (validate + render + YAML)
 * and write (compare + temp + fsync + rename + directory fsync) are reported apart.
 * Also reported: re-applying every application unchanged (reads and compares only, nothing written).
 * Writes its rows as JSON to $WHARF_BENCH_RESULT when set (scripts/bench.sh prints the summary).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
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
interface Timed {
  changed: boolean;
  /** validate + render + serialize */
  cpuMs: number;
  /** compare + temp file + fsync + rename + directory fsync */
  writeMs: number;
}

/** What the worker will do for one application: validate, render, serialize, write (only if changed). */
async function apply(adapter: TraefikFileAdapter, i: number, revision: number): Promise<Timed> {
  const t0 = performance.now();
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
  const text = toTraefikYaml(config);
  const t1 = performance.now();
  const { changed } = await adapter.write(applicationFileKey(appId(i)), text);
  return { changed, cpuMs: t1 - t0, writeMs: performance.now() - t1 };
}

interface Setup {
  count: number;
  root: string;
  adapter: TraefikFileAdapter;
  revisions: Map<number, number>;
  total: number[];
  cpu: number[];
  write: number[];
}

async function main(): Promise<void> {
  const rows: Array<{ metric: string; value: number; unit: string; goal?: string; ok?: boolean }> = [];
  const setups: Setup[] = [];
  try {
    for (const count of COUNTS) {
      const root = mkdtempSync(path.join(tmpdir(), 'wharf-routing-bench-'));
      const adapter = new TraefikFileAdapter({ directory: path.join(root, 'dynamic'), installId: INSTALL });
      await adapter.ensureDirectory();
      const setup: Setup = { count, root, adapter, revisions: new Map(), total: [], cpu: [], write: [] };
      setups.push(setup);
      for (let i = 0; i < count; i++) await apply(adapter, i, 0);
      for (let w = 0; w < 20; w++) await apply(adapter, w % count, 1_000_000 + w); // warm-up
      for (let w = 0; w < 20; w++) setup.revisions.set(w % count, 1_000_000 + w);
    }
    // Rounds interleave the counts, so load from other processes on the machine affects every count alike.
    for (let n = 0; n < CHANGES; n++) {
      for (const s of setups) {
        const i = (n * 7919) % s.count;
        const r = await apply(s.adapter, i, n + 1);
        if (!r.changed) throw new Error('a changed domain did not rewrite its file');
        s.revisions.set(i, n + 1);
        s.total.push(r.cpuMs + r.writeMs);
        s.cpu.push(r.cpuMs);
        s.write.push(r.writeMs);
      }
    }
    console.log(`\nrouting: one domain change (validate + render + atomic write of one file), ${CHANGES} changes per count, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${cpus().length} CPUs\n`);
    console.log('applications  domains   median ms   p95 ms   max ms   render p95   write p95   re-apply all unchanged');
    for (const s of setups) {
      const files = (await s.adapter.list()).length;
      if (files !== s.count) throw new Error(`expected ${s.count} files, found ${files}`);
      const started = performance.now();
      let rewritten = 0;
      for (let i = 0; i < s.count; i++) if ((await apply(s.adapter, i, s.revisions.get(i) ?? 0)).changed) rewritten++;
      const reapply = performance.now() - started;
      if (rewritten > 0) throw new Error(`re-applying unchanged domains rewrote ${rewritten} files`);

      const [median, p95, max] = [quantile(s.total, 0.5), quantile(s.total, 0.95), Math.max(...s.total)];
      const [cpu95, write95] = [quantile(s.cpu, 0.95), quantile(s.write, 0.95)];
      console.log(`${String(s.count).padStart(12)}  ${String(s.count * 2).padStart(7)}  ${median.toFixed(2).padStart(10)}  ${p95.toFixed(2).padStart(7)}  ${max.toFixed(2).padStart(7)}  ${cpu95.toFixed(2).padStart(11)}  ${write95.toFixed(2).padStart(10)}  ${reapply.toFixed(0).padStart(8)} ms (0 written)`);
      rows.push({ metric: `${s.count} apps (${s.count * 2} domains): one change, median`, value: median, unit: 'ms' });
      rows.push({ metric: `${s.count} apps (${s.count * 2} domains): one change, p95`, value: p95, unit: 'ms', goal: `< ${GOAL_MS} ms`, ok: p95 < GOAL_MS });
      rows.push({ metric: `${s.count} apps: render p95 / write p95`, value: cpu95, unit: `ms / ${write95.toFixed(2)} ms` });
      rows.push({ metric: `${s.count} apps: re-apply all unchanged`, value: reapply, unit: 'ms' });
    }
  } finally {
    for (const s of setups) rmSync(s.root, { recursive: true, force: true });
  }
  const medians = setups.map((s) => quantile(s.total, 0.5));
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
