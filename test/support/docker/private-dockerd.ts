import { ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import Docker from 'dockerode';
import { exec } from './host-tools';

/**
 * A dockerd of the test's own, in swarm mode, that the test may stop and start without disturbing the machine's
 * dockerd (other tests, a developer's containers). It runs in its own network namespace (TEST-INFRA.md, multi-node):
 * bridges, iptables rules, the swarm ports (2377, 7946, 4789) and docker_gwbridge all live inside that namespace, so
 * nothing clashes with the main engine, and deleting the namespace leaves no interface or rule behind. Data root,
 * exec root (with its own managed containerd), pid file, config file and API socket are in a temp directory.
 */
export interface PrivateDockerd {
  /** The API socket (give it to Wharf as WHARF_DOCKER_SOCKET). */
  socketPath: string;
  docker: Docker;
  /** The running dockerd's pid, or null while stopped. */
  pid(): number | null;
  /** Starts dockerd (again) and waits until it answers and its swarm is active (swarm init on the first start). */
  start(): Promise<void>;
  /** SIGTERM, and waits until dockerd has exited (SIGKILL after `timeoutMs`). */
  stop(timeoutMs?: number): Promise<void>;
  /** Stops it, kills whatever it left running, deletes the namespace, unmounts and removes the directory. Never throws. */
  destroy(): Promise<void>;
  log(): string;
}

const DIR_PREFIX = 'wharf-dockerd-';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function poll(what: string, check: () => Promise<boolean>, timeoutMs: number, everyMs = 200, details: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      if (await check()) return;
    } catch (e) {
      last = (e as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${last})` : ''}${details()}`);
    await sleep(everyMs);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Pids of processes whose command line mentions `dir` (the private dockerd, its containerd, the shims). */
function processesUnder(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(dir)) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** Mount points under `dir` (overlay layers, netns bind mounts), deepest first. */
function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m): m is string => !!m && (m === dir || m.startsWith(`${dir}/`)))
    .sort((a, b) => b.length - a.length);
}

/** Kills what runs from `dir`, deletes its namespace, unmounts and removes it. */
async function teardown(dir: string, netns: string): Promise<void> {
  for (let round = 0; round < 2; round++) {
    const pids = processesUnder(dir);
    if (pids.length === 0) break;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await poll(`processes under ${dir} to exit`, async () => pids.every((p) => !alive(p)), 10_000, 100).catch(() => undefined);
  }
  for (const m of mountsUnder(dir)) await exec('/usr/bin/umount', ['-l', m]).catch(() => undefined);
  if (existsSync(`/run/netns/${netns}`)) await exec('/usr/sbin/ip', ['netns', 'delete', netns]).catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
}

/** Private dockerds left behind by a test process that died before its afterAll (its owner pid is gone). */
async function sweepAbandoned(): Promise<void> {
  for (const name of readdirSync('/tmp')) {
    if (!name.startsWith(DIR_PREFIX)) continue;
    const dir = join('/tmp', name);
    try {
      const owner = JSON.parse(readFileSync(join(dir, 'owner.json'), 'utf8')) as { pid: number; netns: string };
      if (!alive(owner.pid)) await teardown(dir, owner.netns);
    } catch {
      // being created, or not ours
    }
  }
}

export async function startPrivateDockerd(): Promise<PrivateDockerd> {
  if (process.getuid?.() !== 0) throw new Error('A private dockerd needs root (network namespaces and dockerd itself)');
  await sweepAbandoned();
  const dir = mkdtempSync(join('/tmp', DIR_PREFIX));
  const netns = `wt-dockerd-${randomBytes(3).toString('hex')}`;
  writeFileSync(join(dir, 'owner.json'), JSON.stringify({ pid: process.pid, netns }));
  const socketPath = join(dir, 'docker.sock');
  const logFile = join(dir, 'dockerd.log');
  const configFile = join(dir, 'daemon.json');
  writeFileSync(configFile, '{}\n');
  mkdirSync(join(dir, 'data'));
  mkdirSync(join(dir, 'exec'));
  const docker = new Docker({ socketPath });
  const log = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  const tail = () => `\n--- private dockerd log ---\n${log().slice(-3000)}`;
  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();
  let swarmReady = false;

  const running = () => !!child && child.exitCode === null && child.signalCode === null;

  const d: PrivateDockerd = {
    socketPath,
    docker,
    log,
    pid: () => (running() ? child!.pid! : null),
    async start() {
      if (running()) return;
      const fd = openSync(logFile, 'a');
      // nsenter (no --fork) execs dockerd: the child's pid is dockerd's.
      child = spawn('/usr/bin/nsenter', [
        `--net=/run/netns/${netns}`, '/usr/sbin/dockerd',
        '--config-file', configFile, '--data-root', join(dir, 'data'), '--exec-root', join(dir, 'exec'),
        '--pidfile', join(dir, 'docker.pid'), '-H', `unix://${socketPath}`,
      ], { detached: true, stdio: ['ignore', fd, fd] });
      closeSync(fd);
      child.unref();
      const c = child;
      exited = new Promise((r) => c.once('exit', () => r()));
      await poll('the private dockerd to answer /_ping', async () => {
        if (!running()) throw new Error('dockerd exited');
        await docker.ping();
        return true;
      }, 60_000, 100, tail);
      if (!swarmReady) {
        const info = await docker.info();
        if (info.Swarm?.LocalNodeState !== 'active') await docker.swarmInit({ ListenAddr: '127.0.0.1:2377', AdvertiseAddr: '127.0.0.1' });
        swarmReady = true;
      }
      await poll('the private swarm to be active', async () => (await docker.info()).Swarm?.LocalNodeState === 'active', 60_000, 200, tail);
      await poll('the private swarm manager to answer', async () => (await docker.listNodes()).length > 0, 60_000, 200, tail);
    },
    async stop(timeoutMs = 60_000) {
      if (!running()) return;
      const c = child!;
      c.kill('SIGTERM');
      const timer = setTimeout(() => c.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
    },
    async destroy() {
      await d.stop(30_000).catch(() => undefined);
      await teardown(dir, netns).catch(() => undefined);
    },
  };

  try {
    await exec('/usr/sbin/ip', ['netns', 'add', netns]);
    await exec('/usr/sbin/ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
    await d.start();
  } catch (e) {
    await d.destroy();
    throw e;
  }
  return d;
}
