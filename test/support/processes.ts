import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, closeSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Server } from 'node:http';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { bootstrap } from '../../apps/api/src/main';
import { until } from './until';

export { until };
import { createTestDatabase } from './database';
import { exec } from './docker/host-tools';
import { freePort } from './docker/swarm-test-run';

const ROOT = resolve(__dirname, '..', '..');

/** The environment every Wharf process of one test shares (database, Redis, queue prefix, secret key). */
export function wharfEnv(databaseUrl: string, redisUrl: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    NODE_ENV: 'test',
    WHARF_ROLE: 'all',
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    WHARF_QUEUE_PREFIX: `wt_${randomBytes(4).toString('hex')}`,
    WHARF_SECRET_KEY: randomBytes(32).toString('hex'),
    WHARF_DATA_DIR: mkdtempSync(join(tmpdir(), 'wharf-test-')),
    LOG_LEVEL: process.env.WHARF_TEST_LOG_LEVEL ?? 'silent',
    WHARF_SETUP_TOKEN: 'test-setup-token-0123456789',
    ...extra,
  };
}

/** Wharf in this process on an explicit environment (the database must exist); shape compatible with TestApp. */
export async function startAppWith(env: NodeJS.ProcessEnv, drop: () => Promise<void> = async () => undefined) {
  const app = (await bootstrap(env)) as NestExpressApplication;
  const server = app.getHttpServer() as Server;
  const { port } = server.address() as { port: number };
  return {
    app,
    server,
    baseUrl: `http://127.0.0.1:${port}`,
    databaseUrl: env.DATABASE_URL!,
    env,
    close: async () => {
      await app.close();
      await drop();
    },
  };
}

export interface WorkerProcess {
  child: ChildProcess;
  pid: number;
  logFile: string;
  exited: Promise<number | null>;
  log(): string;
  /** Resolves once the job registry has started processing (its start-up log line). */
  ready(timeoutMs?: number): Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * A Wharf worker (WHARF_ROLE=worker) in its own Node process: scripts/run-ts.js transpiles the sources with SWC on
 * load, so no build is needed. Its log (pino JSON at info level) goes to a file the test can read.
 */
export function spawnWorker(env: NodeJS.ProcessEnv): WorkerProcess {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-worker-'));
  const logFile = join(dir, 'worker.log');
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, [join(ROOT, 'scripts', 'run-ts.js'), join(ROOT, 'apps', 'worker', 'src', 'main.ts')], {
    cwd: ROOT,
    env: { ...env, WHARF_ROLE: 'worker', LOG_LEVEL: 'info' },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const exited = new Promise<number | null>((r) => child.once('exit', (code, sig) => r(code ?? (sig ? -1 : null))));
  const log = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  return {
    child,
    pid: child.pid!,
    logFile,
    exited,
    log,
    async ready(timeoutMs = 60_000) {
      await until('the worker to start', async () => {
        if (child.exitCode !== null || child.signalCode !== null) throw Object.assign(new Error(`worker exited: ${log().slice(-2000)}`), { fatal: true });
        return /processing \d+ job types/.test(log());
      }, timeoutMs).catch((e) => {
        throw new Error(`${(e as Error).message}\n--- worker log ---\n${log().slice(-3000)}`);
      });
    },
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(t);
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------------
// A private PostgreSQL and Redis, so a test can stop them without disturbing other tests on the shared servers.

/**
 * Where initdb and pg_ctl live: WHARF_TEST_PG_BIN, else `pg_config --bindir` when it holds initdb (the server's own
 * pg_config), else the newest /usr/lib/postgresql/<version>/bin with initdb (Debian's pg_config from libpq-dev points
 * at /usr/bin, which has no initdb).
 */
export function postgresBinDir(): string {
  if (process.env.WHARF_TEST_PG_BIN) return process.env.WHARF_TEST_PG_BIN;
  try {
    const dir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 }).trim();
    if (dir && existsSync(join(dir, 'initdb'))) return dir;
  } catch {
    // no pg_config on PATH
  }
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base) ? readdirSync(base).filter((v) => existsSync(join(base, v, 'bin', 'initdb'))) : [];
  versions.sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a));
  if (versions.length === 0) throw new Error('No PostgreSQL server binaries (initdb) found: install postgresql, or set WHARF_TEST_PG_BIN');
  return join(base, versions[0], 'bin');
}

async function idsOf(user: string): Promise<{ uid: number; gid: number }> {
  const uid = Number((await exec('/usr/bin/id', ['-u', user])).stdout.trim());
  const gid = Number((await exec('/usr/bin/id', ['-g', user])).stdout.trim());
  return { uid, gid };
}

function runAs(file: string, args: string[], who: { uid: number; gid: number } | null, timeoutMs = 60_000): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(file, args, { ...(who ? { uid: who.uid, gid: who.gid } : {}), stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH, LANG: 'C.UTF-8' } });
    let out = '';
    child.stdout!.on('data', (c) => (out += c));
    child.stderr!.on('data', (c) => (out += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolvePromise(out);
      else reject(new Error(`${file} ${args.join(' ')} exited with ${code}: ${out}`));
    });
  });
}

export interface PrivatePostgres {
  port: number;
  adminUrl: string;
  start(): Promise<void>;
  /** Fast shutdown: open connections are terminated, new ones are refused until start(). */
  stop(): Promise<void>;
  destroy(): Promise<void>;
}

/** initdb into a temp dir (trust auth), pg_ctl start on 127.0.0.1:<free port> with its socket in the temp dir. */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-pg-'));
  const data = join(dir, 'data');
  const root = process.getuid?.() === 0;
  const who = root ? await idsOf('postgres') : null;
  if (who) chownSync(dir, who.uid, who.gid);
  const pgBin = postgresBinDir();
  await runAs(join(pgBin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync'], who);
  const port = await freePort();
  writeFileSync(join(data, 'postgresql.auto.conf'), `listen_addresses = '127.0.0.1'\nport = ${port}\nunix_socket_directories = '${dir}'\nfsync = off\nmax_connections = 60\n`);
  const logFile = join(dir, 'pg.log');
  const pgCtl = (args: string[]) => runAs(join(pgBin, 'pg_ctl'), ['-D', data, '-l', logFile, ...args], who);
  const pg = {
    port,
    adminUrl: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async start() {
      await pgCtl(['-w', '-t', '30', 'start']);
    },
    async stop() {
      await pgCtl(['-w', '-t', '30', '-m', 'fast', 'stop']);
    },
    async destroy() {
      await pgCtl(['-w', '-t', '30', '-m', 'immediate', 'stop']).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await pg.start();
  return pg;
}

export interface PrivateRedis {
  port: number;
  url: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  destroy(): Promise<void>;
}

/** redis-server on 127.0.0.1:<free port>, no persistence. */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-redis-'));
  const port = await freePort();
  let child: ChildProcess | null = null;
  const ping = () =>
    new Promise<boolean>((resolvePing) => {
      const s = connect(port, '127.0.0.1');
      s.setTimeout(500);
      s.on('connect', () => s.write('PING\r\n'));
      s.on('data', (d: Buffer) => {
        resolvePing(d.toString().startsWith('+PONG'));
        s.destroy();
      });
      s.on('error', () => resolvePing(false));
      s.on('timeout', () => {
        resolvePing(false);
        s.destroy();
      });
    });
  const r = {
    port,
    url: `redis://127.0.0.1:${port}/0`,
    async start() {
      if (child && child.exitCode === null && child.signalCode === null) return;
      const fd = openSync(join(dir, 'redis.log'), 'a');
      child = spawn('/usr/bin/redis-server', ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: ['ignore', fd, fd] });
      closeSync(fd);
      await until('redis to answer', ping, 10_000, 50);
    },
    async stop() {
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      const gone = new Promise((res) => c.once('exit', res));
      c.kill('SIGKILL');
      await gone;
      child = null;
    },
    async destroy() {
      await r.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await r.start();
  return r;
}

/** A database on a private PostgreSQL (createTestDatabase with that server as admin). */
export async function privateDatabase(pg: PrivatePostgres) {
  return createTestDatabase(pg.adminUrl);
}

// ---------------------------------------------------------------------------------------------------------------------
// The machine's dockerd. Tests never stop or restart it (other test files and a developer's containers use it): a test
// that restarts dockerd runs its own (test/support/docker/private-dockerd.ts).

const DOCKER_SOCKET = process.env.WHARF_TEST_DOCKER_SOCKET ?? '/var/run/docker.sock';

export function dockerPing(): Promise<boolean> {
  return new Promise((res) => {
    const req = request({ socketPath: DOCKER_SOCKET, path: '/_ping', timeout: 1000 }, (r) => {
      r.resume();
      res(r.statusCode === 200);
    });
    req.on('error', () => res(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/**
 * Closes a test app, giving up after `ms` with the shutdown hooks still pending printed (an afterAll that cleans up
 * must not hang the suite; tests that assert on shutdown call `app.close()` themselves).
 */
export async function closeWithin(t: { app: { close(): Promise<void> }; close(): Promise<void> } | undefined, ms: number): Promise<void> {
  if (!t) return;
  const pending = new Set<string>();
  const finished: string[] = [];
  const container = (t.app as unknown as { container?: { getModules(): Map<string, { providers: Map<unknown, { instance: unknown }> }> } }).container;
  for (const m of container?.getModules().values() ?? []) {
    for (const [, w] of m.providers) {
      const inst = w.instance as Record<string, unknown> | null;
      if (!inst || typeof inst !== 'object') continue;
      for (const h of ['onModuleDestroy', 'beforeApplicationShutdown', 'onApplicationShutdown']) {
        const f = inst[h];
        if (typeof f !== 'function') continue;
        const name = `${(inst.constructor as { name?: string })?.name ?? '?'}.${h}`;
        inst[h] = async (...a: unknown[]) => {
          pending.add(name);
          try {
            return await (f as (...x: unknown[]) => unknown).apply(inst, a);
          } finally {
            pending.delete(name);
            finished.push(name);
          }
        };
      }
    }
  }
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), ms)));
  const outcome = await Promise.race([t.close().then(() => 'closed' as const, (e: Error) => `failed: ${e.message}`), late]);
  clearTimeout(timer);
  if (outcome !== 'closed') console.warn(`app close ${outcome === 'late' ? `still running after ${ms} ms` : outcome}; pending shutdown hooks: ${[...pending].join(', ') || '(none)'}; finished: ${finished.join(', ') || '(none)'}`);
}
