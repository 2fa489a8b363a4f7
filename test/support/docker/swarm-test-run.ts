import { randomBytes } from 'node:crypto';
import { createServer, request } from 'node:http';
import { AddressInfo } from 'node:net';
import Docker from 'dockerode';
import { DOCKER_SOCKET } from './host-tools';
import { AcquireOptions, TestLock } from './test-lock';
import { until } from '../until';

/** The shared dockerd's test lock (see TestLock): Docker test files hold it shared; exclusive is for a test that must
 * have the shared engine to itself (none does today: the dockerd restart test runs its own private dockerd). */
export const DOCKER_LOCK_DIR = '/tmp/wharf-docker-tests.lock.d';

/**
 * One test file's footprint on the shared dockerd: a unique `wharf.install` label on everything it creates, and a
 * cleanup that removes every service and network carrying it. Files only touch objects with their own label, so
 * they hold the Docker test lock shared and may run side by side in parallel Jest workers.
 */
export class SwarmTestRun {
  readonly install = `test-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  readonly docker = new Docker({ socketPath: DOCKER_SOCKET });
  private readonly lock = new TestLock(DOCKER_LOCK_DIR);

  labels(extra: Record<string, string> = {}): Record<string, string> {
    return { 'wharf.install': this.install, ...extra };
  }

  /** A service/network name unique to this run (a DNS label). */
  /**
   * Removes a volume this test made (volumes are not part of `cleanup`): the engine refuses while a container of a
   * removed service still holds it, so it is retried until gone (or already missing) within `timeoutMs`.
   */
  async removeVolume(name: string, timeoutMs = 20_000): Promise<void> {
    await until(`volume ${name} to be removed`, () => this.docker.getVolume(name).remove().then(() => true, (e: { statusCode?: number }) => e.statusCode === 404), timeoutMs, 500);
  }

  name(prefix: string): string {
    return `wt-${prefix}-${randomBytes(3).toString('hex')}`;
  }

  /**
   * Takes the Docker test lock (shared unless `mode: 'exclusive'`), waiting at most `timeoutMs` (default LOCK_WAIT_MS,
   * below LOCK_HOOK_TIMEOUT_MS, which the calling hook must allow) or until `signal` aborts; cleanup() releases it and
   * also abandons a wait still in progress (a timed-out beforeAll then leaves nothing behind).
   */
  async start(options: AcquireOptions = {}): Promise<void> {
    await this.lock.acquire(options);
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
      this.lock.release();
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
