/**
 * API benchmark (issue: platform foundation), run by `npm run bench`:
 *  1. authenticated GET /api/v1/organizations/{id}/projects with 50 projects, 10 connections, 15 s → req/s, p50, p99
 *     (goal: p99 < 25 ms on the 2-core machine);
 *  2. resident memory of the `all` role after 60 s idle (goal: < 150 MB).
 * Wharf runs as a production build in its own process (NODE_ENV=production) on a fresh database.
 */
import { spawn, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import autocannon from 'autocannon';
import { createTestDatabase } from '../test/support/database';
import { freePort } from '../test/support/docker/swarm-test-run';

const ROOT = resolve(__dirname, '..');
const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 60);
const NODE_FLAGS = readFileSync(join(ROOT, 'scripts', 'node-flags'), 'utf8').trim().split(/\s+/).filter(Boolean);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a benchmark script reading its own API answers
async function json(url: string, init: RequestInit = {}): Promise<any> {
  const res = await fetch(url, { ...init, headers: { 'content-type': 'application/json', ...(init.headers ?? {}) } });
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${url}: ${res.status} ${await res.text()}`);
  return res.status === 204 ? null : res.json();
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function main(): Promise<void> {
  console.log('building the backend (tsc)…');
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
  const db = await createTestDatabase();
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const setupToken = randomBytes(24).toString('base64url');
  // The same Node flags as `npm start` (scripts/start.sh).
  const child = spawn(process.execPath, [...NODE_FLAGS, '-r', './scripts/paths.js', 'dist/apps/api/src/main.js'], {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_ENV: 'production',
      WHARF_ROLE: 'all',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATABASE_URL: db.url,
      WHARF_QUEUE_PREFIX: `bench${randomBytes(3).toString('hex')}`,
      WHARF_SECRET_KEY: randomBytes(32).toString('hex'),
      WHARF_SETUP_TOKEN: setupToken,
      WHARF_DATA_DIR: mkdtempSync(join(tmpdir(), 'wharf-bench-')),
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(`${base}/health/ready`)).ok) break;
      } catch {
        /* not yet */
      }
      if (i > 300) throw new Error('Wharf did not become ready');
      await sleep(100);
    }
    console.log(`idling ${IDLE_SECONDS} s after start before reading resident memory…`);
    await sleep(IDLE_SECONDS * 1000);
    const rss = rssMb(child.pid!);
    const owner = await json(`${base}/api/v1/auth/setup`, {
      method: 'POST',
      body: JSON.stringify({ setupToken, email: 'bench@example.com', name: 'Bench', password: 'bench password 123', organizationName: 'Bench' }),
    });
    const auth = { authorization: `Bearer ${owner.accessToken}` };
    for (let i = 0; i < 50; i++) await json(`${base}/api/v1/organizations/${owner.organizationId}/projects`, { method: 'POST', headers: auth, body: JSON.stringify({ name: `project ${String(i).padStart(2, '0')}` }) });
    const url = `${base}/api/v1/organizations/${owner.organizationId}/projects`;
    const page = await json(url, { headers: auth });
    if (page.items.length !== 50) throw new Error(`expected 50 projects, got ${page.items.length}`);

    // Warm-up, then the measured run.
    await autocannon({ url, connections: 10, duration: 3, headers: auth });
    const r = await autocannon({ url, connections: 10, duration: 15, headers: auth });
    if (r.non2xx > 0 || r.errors > 0) throw new Error(`load test saw ${r.non2xx} non-2xx answers and ${r.errors} errors`);
    const rssAfterLoad = rssMb(child.pid!);

    const rows = [
      ['GET …/projects (50 projects, 10 connections, 15 s)', `${Math.round(r.requests.average)} req/s`, `p50 ${r.latency.p50} ms`, `p99 ${r.latency.p99} ms`, r.latency.p99 < 25 ? 'goal met (p99 < 25 ms)' : 'GOAL MISSED (p99 < 25 ms)'],
      [`resident memory, role all, idle ${IDLE_SECONDS} s after start`, `${rss.toFixed(1)} MB`, '', '', rss < 150 ? 'goal met (< 150 MB)' : 'GOAL MISSED (< 150 MB)'],
      ['resident memory right after the load test (for information)', `${rssAfterLoad.toFixed(1)} MB`],
    ];
    console.log('\nAPI benchmark');
    for (const row of rows) console.log(`  ${row.filter(Boolean).join(' | ')}`);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await db.drop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
