/**
 * API benchmark, run by `npm run bench`:
 *  1. process start → `/health/ready` of the `all` role (goal ≤ 2 s);
 *  2. idle CPU over the idle period (goal ≤ 1 % of a core) and resident memory after it (goal < 120 MB);
 *  3. authenticated GET /api/v1/organizations/{id}/projects with 50 projects, 10 connections, 15 s → req/s, p50, p99,
 *     measured side by side with a floor (bench/floor-server.ts: bare node:http + pg + the same HS256 check, the same
 *     queries on the same data) in the same run, alternating floor and Wharf. Goals: Wharf ≥ 0.3 × the floor's
 *     requests per second and Wharf p99 < 25 ms.
 * Wharf runs as a production build in its own process (NODE_ENV=production) on a fresh database.
 * Writes its rows as JSON to $WHARF_BENCH_RESULT when set (scripts/bench.sh prints the summary).
 */
import { spawn, execFileSync, ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, mkdtempSync, writeFileSync } from 'node:fs';
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

/** CPU seconds (user + system) a process has used so far, from /proc (clock ticks of 10 ms). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function waitReady(url: string, child: { exitCode: number | null }, deadlineMs: number): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      /* not yet */
    }
    if (child.exitCode !== null) throw new Error(`${url}: the process exited with code ${child.exitCode}`);
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${deadlineMs} ms`);
    await sleep(20);
  }
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

function startWharf(env: NodeJS.ProcessEnv): ChildProcess {
  // The same Node flags as `npm start` (scripts/start.sh).
  // BENCH_CPU_PROF=<dir>: write a V8 CPU profile of Wharf to that directory (for finding where a request's time goes).
  const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  return spawn(process.execPath, [...NODE_FLAGS, ...prof, '-r', './scripts/paths.js', 'dist/apps/api/src/main.js'], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'inherit'] });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

async function load(url: string, headers: Record<string, string>, duration: number): Promise<autocannon.Result> {
  const r = await autocannon({ url, connections: 10, duration, headers });
  if (r.non2xx > 0 || r.errors > 0) throw new Error(`load test of ${url} saw ${r.non2xx} non-2xx answers and ${r.errors} errors`);
  return r;
}

async function main(): Promise<void> {
  console.log('building the backend (tsc)…');
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
  const db = await createTestDatabase();
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const setupToken = randomBytes(24).toString('base64url');
  const secretKey = randomBytes(32).toString('hex');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'production',
    WHARF_ROLE: 'all',
    HOST: '127.0.0.1',
    PORT: String(port),
    DATABASE_URL: db.url,
    WHARF_QUEUE_PREFIX: `bench${randomBytes(3).toString('hex')}`,
    WHARF_SECRET_KEY: secretKey,
    WHARF_SETUP_TOKEN: setupToken,
    WHARF_DATA_DIR: mkdtempSync(join(tmpdir(), 'wharf-bench-')),
    LOG_LEVEL: 'warn',
  };
  let child = startWharf(env);
  const floorPort = await freePort();
  const floor = spawn(process.execPath, ['scripts/run-ts.js', 'bench/floor-server.ts'], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(floorPort), DATABASE_URL: db.url, WHARF_SECRET_KEY: secretKey },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const floorReady = new Promise<void>((resolve, reject) => {
    floor.stdout!.on('data', (b: Buffer) => b.toString().includes('listening') && resolve());
    floor.once('exit', (code) => reject(new Error(`the floor server exited with code ${code}`)));
  });
  try {
    // The first start migrates the fresh database; the start that counts is the next one, on a migrated database.
    await waitReady(`${base}/health/ready`, child, 60_000);
    await stop(child);
    const startStarted = Date.now();
    child = startWharf(env);
    await waitReady(`${base}/health/ready`, child, 60_000);
    const startMs = Date.now() - startStarted;

    console.log(`idling ${IDLE_SECONDS} s after start before reading CPU and resident memory…`);
    await sleep(5000); // the start itself is not idle time
    const cpu0 = cpuSeconds(child.pid!);
    const idleFrom = Date.now();
    await sleep(IDLE_SECONDS * 1000);
    const idleCpuPercent = ((cpuSeconds(child.pid!) - cpu0) / ((Date.now() - idleFrom) / 1000)) * 100;
    const rss = rssMb(child.pid!);

    const owner = await json(`${base}/api/v1/auth/setup`, {
      method: 'POST',
      body: JSON.stringify({ setupToken, email: 'bench@example.com', name: 'Bench', password: 'bench password 123', organizationName: 'Bench' }),
    });
    const auth = { authorization: `Bearer ${owner.accessToken}` };
    for (let i = 0; i < 50; i++) await json(`${base}/api/v1/organizations/${owner.organizationId}/projects`, { method: 'POST', headers: auth, body: JSON.stringify({ name: `project ${String(i).padStart(2, '0')}` }) });
    const path = `/api/v1/organizations/${owner.organizationId}/projects`;
    const url = `${base}${path}`;
    const floorUrl = `http://127.0.0.1:${floorPort}${path}`;
    await floorReady;
    const page = await json(url, { headers: auth });
    const floorPage = await json(floorUrl, { headers: auth });
    if (page.items.length !== 50 || floorPage.items.length !== 50) throw new Error(`expected 50 projects, got ${page.items.length} (Wharf) and ${floorPage.items.length} (floor)`);
    if (JSON.stringify(page.items.map((p: { id: string }) => p.id)) !== JSON.stringify(floorPage.items.map((p: { id: string }) => p.id))) throw new Error('the floor answers other projects than Wharf');

    // Warm-up of both, then two measured rounds each, alternating, so a slow moment of the machine hits both sides.
    await load(floorUrl, auth, 3);
    await load(url, auth, 3);
    const floorRuns: autocannon.Result[] = [];
    const wharfRuns: autocannon.Result[] = [];
    for (let round = 0; round < 2; round++) {
      floorRuns.push(await load(floorUrl, auth, 8));
      wharfRuns.push(await load(url, auth, 8));
    }
    const rps = (rs: autocannon.Result[]) => rs.reduce((a, r) => a + r.requests.average, 0) / rs.length;
    const p99 = (rs: autocannon.Result[]) => Math.max(...rs.map((r) => r.latency.p99));
    const p50 = (rs: autocannon.Result[]) => rs.reduce((a, r) => a + r.latency.p50, 0) / rs.length;
    const rssAfterLoad = rssMb(child.pid!);
    const ratio = rps(wharfRuns) / rps(floorRuns);

    const rows: Array<{ metric: string; value: number; unit: string; goal?: string; ok?: boolean }> = [
      { metric: 'start → /health/ready (role all, migrated database)', value: startMs, unit: 'ms', goal: '≤ 2000 ms', ok: startMs <= 2000 },
      { metric: `idle CPU over ${IDLE_SECONDS} s (role all)`, value: Number(idleCpuPercent.toFixed(2)), unit: '% of a core', goal: '≤ 1 %', ok: idleCpuPercent <= 1 },
      { metric: `resident memory after ${IDLE_SECONDS} s idle (role all)`, value: Number(rss.toFixed(1)), unit: 'MB', goal: '< 120 MB', ok: rss < 120 },
      { metric: 'floor: GET …/projects req/s (10 connections)', value: Math.round(rps(floorRuns)), unit: 'req/s' },
      { metric: 'floor: p50 / p99', value: p99(floorRuns), unit: `ms p99 (p50 ${p50(floorRuns).toFixed(1)} ms)` },
      { metric: 'Wharf: GET …/projects req/s (10 connections)', value: Math.round(rps(wharfRuns)), unit: 'req/s' },
      { metric: 'Wharf / floor requests per second', value: Number(ratio.toFixed(2)), unit: '×', goal: '≥ 0.3', ok: ratio >= 0.3 },
      { metric: 'Wharf: p99', value: p99(wharfRuns), unit: `ms (p50 ${p50(wharfRuns).toFixed(1)} ms)`, goal: '< 25 ms', ok: p99(wharfRuns) < 25 },
      { metric: 'resident memory right after the load (information)', value: Number(rssAfterLoad.toFixed(1)), unit: 'MB' },
    ];
    console.log('\nAPI benchmark');
    for (const r of rows) console.log(`  ${r.metric}: ${r.value} ${r.unit}${r.goal ? ` (goal ${r.goal}: ${r.ok ? 'met' : 'NOT met'})` : ''}`);
    if (process.env.WHARF_BENCH_RESULT) writeFileSync(process.env.WHARF_BENCH_RESULT, JSON.stringify({ rows }));
  } finally {
    floor.kill('SIGTERM');
    await stop(child);
    await db.drop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
