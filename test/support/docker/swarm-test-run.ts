import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { AddressInfo } from 'node:net';
import Docker from 'dockerode';
import { DOCKER_SOCKET } from './host-tools';

const LOCK_DIR = '/tmp/wharf-docker-tests.lock';

/**
 * One test file's footprint on the shared dockerd: a unique `wharf.install` label on everything it creates, and a
 * cleanup that removes every service and network carrying it. Docker test files also take a cross-process lock, so
 * they run one after the other even when Jest runs files in parallel.
 */
export class SwarmTestRun {
  readonly install = `test-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  readonly docker = new Docker({ socketPath: DOCKER_SOCKET });
  private lockHeld = false;

  labels(extra: Record<string, string> = {}): Record<string, string> {
    return { 'wharf.install': this.install, ...extra };
  }

  /** A service/network name unique to this run (a DNS label). */
  name(prefix: string): string {
    return `wt-${prefix}-${randomBytes(3).toString('hex')}`;
  }

  async start(timeoutMs = 300_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        mkdirSync(LOCK_DIR);
        writeFileSync(`${LOCK_DIR}/pid`, String(process.pid));
        this.lockHeld = true;
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        if (lockIsStale()) {
          rmSync(LOCK_DIR, { recursive: true, force: true });
          continue;
        }
        if (Date.now() > deadline) throw new Error(`Another docker test run holds ${LOCK_DIR}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }

  /** Removes every service and network labelled with this run's install id, then releases the lock. */
  async cleanup(): Promise<{ services: number; networks: number }> {
    const filters = JSON.stringify({ label: [`wharf.install=${this.install}`] });
    let services = 0;
    let networks = 0;
    try {
      for (const s of await this.docker.listServices({ filters } as object)) {
        await this.docker.getService(s.ID).remove().catch(ignore404);
        services++;
      }
      // A network is in use until the removed services' task containers are gone, and a removed swarm network stays
      // listed for a moment: retry until the engine lists none.
      const deadline = Date.now() + 30_000;
      const removed = new Set<string>();
      for (;;) {
        const nets = await this.docker.listNetworks({ filters } as object);
        if (nets.length === 0) break;
        for (const n of nets) {
          try {
            await this.docker.getNetwork(n.Id).remove();
            removed.add(n.Id);
          } catch (e) {
            if ((e as { statusCode?: number }).statusCode === 404) removed.add(n.Id);
          }
        }
        if (Date.now() > deadline) throw new Error(`Networks of ${this.install} are still in use: ${nets.map((n) => n.Name).join(', ')}`);
        await new Promise((r) => setTimeout(r, 300));
      }
      networks = removed.size;
    } finally {
      if (this.lockHeld) {
        rmSync(LOCK_DIR, { recursive: true, force: true });
        this.lockHeld = false;
      }
    }
    return { services, networks };
  }

  /** What this run still has on the engine (for the "nothing left behind" assertion). */
  async leftovers(): Promise<{ services: number; networks: number }> {
    const filters = JSON.stringify({ label: [`wharf.install=${this.install}`] });
    const [s, n] = await Promise.all([this.docker.listServices({ filters } as object), this.docker.listNetworks({ filters } as object)]);
    return { services: s.length, networks: n.length };
  }
}

function lockIsStale(): boolean {
  try {
    const pid = Number(readFileSync(`${LOCK_DIR}/pid`, 'utf8'));
    if (!pid) return false;
    process.kill(pid, 0);
    return false;
  } catch (e) {
    // No pid file yet (the holder is between mkdir and write) → not stale; ESRCH → the holder is gone.
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

function ignore404(e: { statusCode?: number }): void {
  if (e.statusCode !== 404) throw e;
}

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

/** GET http://127.0.0.1:port/path once; resolves status and body (never rejects). */
export function httpGet(port: number, path = '/'): Promise<{ status?: number; body: string; error?: string }> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, timeout: 2_000, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('error', (e) => resolve({ body: '', error: e.message }));
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

/** Retries GET until `accept` says yes or the time is up; returns the last answer. */
export async function httpGetUntil(port: number, accept: (r: { status?: number; body: string }) => boolean, timeoutMs = 10_000, path = '/') {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await httpGet(port, path);
    if (accept(r) || Date.now() > deadline) return r;
    await new Promise((res) => setTimeout(res, 200));
  }
}
