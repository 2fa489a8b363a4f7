import request from 'supertest';
import { ChildProcess, spawn } from 'node:child_process';
import { connect, createServer, Socket } from 'node:net';
import { Client } from 'pg';
import type { TestApp } from '../../support/app';
import { Session, setupOwner } from '../../support/api';
import { createTestDatabase } from '../../support/database';
import { BUSYBOX_IMAGE, ensureBusyboxImage } from '../../support/docker/busybox-image';
import { LocalRegistry, startLocalRegistry } from '../../support/docker/local-registry';
import { PrivateDockerd, startPrivateDockerd } from '../../support/docker/private-dockerd';
import { freePort, httpGetUntil, SwarmTestRun } from '../../support/docker/swarm-test-run';
import { httpdSpec, logText, productionEnvironment, SWARM_SUITE_HOOK_TIMEOUT_MS, swarmRunFor, waitForDeployment } from '../../support/deploy';
import {
  PrivatePostgres, privateDatabase, spawnWorker, startAppWith, startPrivatePostgres, until, wharfEnv, WorkerProcess,
} from '../../support/processes';
import { sql } from '../../support/sql';
import type Docker from 'dockerode';

/**
 * Each step of a deployment (pull, service, wait, finish) meets each fault (worker SIGKILL, dockerd restart,
 * PostgreSQL stop/start) while that step is really in progress, and the deployment still ends truthfully: succeeded
 * after a resume, or failed with its reason; the service runs the new spec on success and the last succeeded one
 * otherwise; one service, never two; nothing left `running`; log and audit say what happened.
 *
 * | step    | worker SIGKILL                      | dockerd restart (private dockerd)     | PostgreSQL stop/start (private) |
 * |---------|-------------------------------------|---------------------------------------|---------------------------------|
 * | pull    | here                                | here                                  | here                            |
 * | service | here (at the fence, before the      | here (engine down when the change is  | here (at the fence: retried)    |
 * |         | change); after it: crash-safety     | sent)                                 |                                 |
 * | wait    | durability                          | dockerd-restart                       | durability                      |
 * | finish  | here (inside the finish transaction)| here                                  | here (inside the transaction)   |
 *
 * Covered elsewhere (not repeated here):
 * - worker SIGKILL during wait: durability.docker.test.ts ("a worker killed (SIGKILL) mid-deploy: the next worker resumes it once")
 * - worker SIGKILL right after the service step changed the service: crash-safety.docker.test.ts ("a worker killed right after the service step")
 * - worker SIGSTOP past its lease during wait: crash-safety.docker.test.ts
 * - PostgreSQL stop/start during wait: durability.docker.test.ts ("PostgreSQL stops while a deployment waits and ends")
 * - dockerd restart during wait: dockerd-restart.docker.test.ts
 *
 * How a step is held "in progress" without sleeps:
 * - pull: the image comes from a local registry behind a TCP proxy this test controls; while it stalls, the engine's
 *   connection to the registry is held open (the pull is really in flight), and the test waits until it is.
 *   For the private dockerd (its own network namespace) a listener inside that namespace accepts and never answers.
 * - service and finish: a test-only trigger in the test's own database makes the worker's fence (the conditional lease
 *   update right before the engine change) or the finish transaction's log line wait on an advisory lock the test
 *   holds; the test sees the worker waiting there (pg_locks), injects the fault, then opens the gate.
 */
jest.setTimeout(180_000);

const REDIS_URL = process.env.WHARF_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const LEASE_MS = 4000;
const FENCE_GATE = 4201;
const FINISH_GATE = 4202;
/** The port of the hanging "registry" inside the private dockerd's network namespace (nothing else listens there). */
const HANGING_PORT = 5999;

// ---------------------------------------------------------------------------------------------------------------------
// Gates: the worker waits at a step while the test holds an advisory lock.

/** Installs the gate trigger in a test database (after Wharf's migrations ran). */
async function installGates(url: string): Promise<void> {
  await sql(url, `CREATE FUNCTION wharf_test_gate() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_TABLE_NAME = 'deployments' THEN
        -- The fence: the only update that requires an unexpired lease; after the image step recorded the digest.
        IF NEW.status = 'running' AND OLD.image_digest IS NOT NULL AND current_query() LIKE '%lease_expires_at > now()%' THEN
          PERFORM pg_advisory_xact_lock_shared(${FENCE_GATE});
        END IF;
      ELSIF NEW.step = 'finish' THEN
        -- Inside the finish transaction, after its status update.
        PERFORM pg_advisory_xact_lock_shared(${FINISH_GATE});
      END IF;
      RETURN NEW;
    END $$`);
  await sql(url, `CREATE TRIGGER wharf_test_gate BEFORE UPDATE ON deployments FOR EACH ROW EXECUTE FUNCTION wharf_test_gate()`);
  await sql(url, `CREATE TRIGGER wharf_test_gate BEFORE INSERT ON deployment_logs FOR EACH ROW EXECUTE FUNCTION wharf_test_gate()`);
}

class Gates {
  private holder: Client | null = null;
  constructor(private readonly url: string) {}

  async close(key: number): Promise<void> {
    const c = new Client({ connectionString: this.url });
    // A PostgreSQL stop ends this session (and so opens the gate): that is expected.
    c.on('error', () => undefined);
    await c.connect();
    await c.query('SELECT pg_advisory_lock($1::bigint)', [key]);
    this.holder = c;
  }

  async open(): Promise<void> {
    const c = this.holder;
    this.holder = null;
    await c?.end().catch(() => undefined);
  }

  /** Waits until some session waits on the gate (the worker reached it). */
  async reached(key: number, timeoutMs = 60_000): Promise<void> {
    await until(`a worker to wait at gate ${key}`, async () => {
      const [r] = await sql<{ n: number }>(this.url, `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND objid = $1 AND NOT granted
        AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`, [key]);
      return r.n > 0;
    }, timeoutMs, 50);
  }
}

/**
 * A TCP proxy in front of the local registry. While stalled it accepts connections and holds them (their bytes kept);
 * release() forwards what was held and everything after.
 */
class StallingProxy {
  port = 0;
  private passing = true;
  private held: Array<{ c: Socket; chunks: Buffer[]; onData: (b: Buffer) => void }> = [];
  private readonly sockets = new Set<Socket>();
  private readonly server = createServer((c) => this.accept(c));
  constructor(private readonly targetPort: number) {}

  async listen(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as { port: number }).port;
  }

  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  stall(): void {
    this.passing = false;
  }

  heldCount(): number {
    return this.held.filter((h) => !h.c.destroyed).length;
  }

  release(): void {
    this.passing = true;
    for (const h of this.held.splice(0)) {
      h.c.off('data', h.onData);
      if (!h.c.destroyed) this.forward(h.c, h.chunks);
    }
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((r) => this.server.close(r));
  }

  private track(s: Socket): void {
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
    s.on('error', () => undefined);
  }

  private accept(c: Socket): void {
    this.track(c);
    if (this.passing) return this.forward(c, []);
    const chunks: Buffer[] = [];
    const onData = (b: Buffer) => chunks.push(b);
    c.on('data', onData);
    this.held.push({ c, chunks, onData });
  }

  private forward(c: Socket, chunks: Buffer[]): void {
    const u = connect(this.targetPort, '127.0.0.1');
    this.track(u);
    u.on('close', () => c.destroy());
    c.on('close', () => u.destroy());
    for (const b of chunks) u.write(b);
    c.pipe(u);
    u.pipe(c);
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// One Wharf (API) and its test owner; the calls every case makes.

interface Harness {
  t: TestApp;
  owner: Session & { organizationId: string };
  environmentId: string;
  docker: Docker;
}

async function createApp(h: Harness, name: string, spec: Record<string, unknown>, body: string): Promise<string> {
  const res = await request(h.t.server).post(`/api/v1/environments/${h.environmentId}/applications`).set(h.owner.auth).send({ name, spec }).expect(201);
  await setBody(h, res.body.id, body);
  return res.body.id;
}

async function setBody(h: Harness, appId: string, body: string): Promise<void> {
  await request(h.t.server).put(`/api/v1/applications/${appId}/variables`).set(h.owner.auth).send({ variables: [{ key: 'BODY', value: body }] }).expect(200);
}

async function patchSpec(h: Harness, appId: string, spec: Record<string, unknown>): Promise<void> {
  await request(h.t.server).patch(`/api/v1/applications/${appId}`).set(h.owner.auth).send({ spec }).expect(200);
}

async function deploy(h: Harness, appId: string): Promise<string> {
  return (await request(h.t.server).post(`/api/v1/applications/${appId}/deployments`).set(h.owner.auth).send({}).expect(202)).body.id;
}

async function waitForLogLine(h: Harness, id: string, re: RegExp, timeoutMs = 60_000): Promise<void> {
  await until(`log line ${re}`, async () => re.test(await logText(h.t, h.owner, id)), timeoutMs, 50);
}

/** The deployment's final state (polled through the API) with its log; throws with the log when `expected` differs. */
async function ended(h: Harness, id: string, expected: 'succeeded' | 'failed', timeoutMs = 90_000): Promise<{ d: Record<string, unknown> & { status: string; error: string | null }; log: string }> {
  const d = await waitForDeployment(h.t, h.owner, id, timeoutMs);
  const log = await logText(h.t, h.owner, id);
  if (d.status !== expected) throw new Error(`deployment ${id} ended ${d.status} (expected ${expected}): ${d.error}\n${log}`);
  return { d, log };
}

/** The deployment's audit actions, once its final one is recorded (the audit is written after the commit). */
async function auditActions(h: Harness, id: string, last: string): Promise<string[]> {
  return until(`the audit of ${id} to record ${last}`, async () => {
    const res = await request(h.t.server).get(`/api/v1/organizations/${h.owner.organizationId}/audit-events`).query({ subjectId: id, limit: 50 }).set(h.owner.auth).expect(200);
    const actions = (res.body.items as Array<{ action: string }>).map((e) => e.action);
    return actions.includes(last) ? actions : null;
  }, 30_000, 100);
}

const count = (xs: string[], x: string) => xs.filter((a) => a === x).length;
const countLines = (log: string, re: RegExp) => (log.match(new RegExp(re.source, 'gm')) ?? []).length;

/** The application's services on the engine (exactly one is expected: never a duplicate). */
async function servicesOf(h: Harness, appId: string) {
  return h.docker.listServices({ filters: JSON.stringify({ label: [`wharf.service=${appId}`] }) } as object);
}

async function theService(h: Harness, appId: string): Promise<{ deployment: string | undefined; env: string[] }> {
  const services = await servicesOf(h, appId);
  expect(services).toHaveLength(1);
  const s = services[0];
  return { deployment: s.Spec?.Labels?.['wharf.deployment'], env: (s.Spec?.TaskTemplate as { ContainerSpec?: { Env?: string[] } }).ContainerSpec?.Env ?? [] };
}

async function statusInDb(url: string, id: string): Promise<{ status: string; attempts: number; lease_owner: string | null }> {
  return (await sql<{ status: string; attempts: number; lease_owner: string | null }>(url, 'SELECT status, attempts, lease_owner FROM deployments WHERE id = $1', [id]))[0];
}

async function nothingLeftRunning(url: string): Promise<void> {
  const [r] = await sql<{ n: number }>(url, `SELECT count(*)::int AS n FROM deployments WHERE status IN ('running', 'queued')`);
  expect(r.n).toBe(0);
}

const timings: string[] = [];
afterAll(() => console.log(`step × fault matrix timings:\n${timings.join('\n')}`));

// ---------------------------------------------------------------------------------------------------------------------

describe('worker SIGKILL and PostgreSQL stop/start at each step (private PostgreSQL, workers in their own processes)', () => {
  const lock = new SwarmTestRun();
  let run: SwarmTestRun | undefined;
  let pg: PrivatePostgres | undefined;
  let registry: LocalRegistry | undefined;
  let proxy: StallingProxy | undefined;
  let gates: Gates;
  let h: Harness;
  let shared: NodeJS.ProcessEnv;
  let registryId: string;
  const workers: WorkerProcess[] = [];
  const pulledRefs: string[] = [];

  beforeAll(async () => {
    await lock.start();
    await ensureBusyboxImage(lock.docker);
    [pg, registry] = await Promise.all([startPrivatePostgres(), startLocalRegistry()]);
    const db = await privateDatabase(pg);
    shared = wharfEnv(db.url, REDIS_URL, { WHARF_DEPLOY_LEASE_MS: String(LEASE_MS) });
    const t = await startAppWith({ ...shared, WHARF_ROLE: 'api' }, db.drop);
    run = await swarmRunFor(t);
    await installGates(t.databaseUrl);
    gates = new Gates(t.databaseUrl);
    const owner = await setupOwner(t);
    const env = await productionEnvironment(t, owner, owner.organizationId);
    h = { t, owner, environmentId: env.environmentId, docker: lock.docker };
    proxy = new StallingProxy(Number(registry.host.split(':')[1]));
    await proxy.listen();
    registryId = (await request(t.server).post(`/api/v1/organizations/${owner.organizationId}/registries`).set(owner.auth).send({ name: 'stalling', host: proxy.host, username: registry.username, password: registry.password }).expect(201)).body.id;
  }, SWARM_SUITE_HOOK_TIMEOUT_MS);

  afterAll(async () => {
    await gates?.open();
    for (const w of workers) await w.stop('SIGKILL');
    await pg?.start().catch(() => undefined);
    await h?.t.close().catch(() => undefined);
    await pg?.destroy();
    await proxy?.close();
    await registry?.stop();
    try {
      await run?.cleanup().catch(() => undefined);
      // Only the tags this file added (the image itself keeps its wharf-test/busybox tag).
      for (const ref of pulledRefs) await lock.docker.getImage(ref).remove({ force: true, noprune: true }).catch(() => undefined);
    } finally {
      await lock.cleanup();
    }
  }, SWARM_SUITE_HOOK_TIMEOUT_MS);

  async function worker(): Promise<WorkerProcess> {
    const w = spawnWorker(shared);
    workers.push(w);
    await w.ready();
    return w;
  }

  async function kill(w: WorkerProcess): Promise<void> {
    w.child.kill('SIGKILL');
    await w.exited;
  }

  /** The busybox image pushed to the local registry under a tag of its own; the reference goes through the proxy. */
  async function registryImage(tag: string): Promise<string> {
    const pushed = await registry!.push(lock.docker, BUSYBOX_IMAGE, `${run!.install}/web:${tag}`);
    const ref = `${proxy!.host}/${run!.install}/web:${tag}`;
    pulledRefs.push(pushed, ref);
    return ref;
  }

  async function stalledPull(id: string): Promise<void> {
    await waitForLogLine(h, id, /\[pull\] Pulling 127\.0\.0\.1:/);
    await until('the engine to connect to the stalled registry', async () => proxy!.heldCount() > 0, 30_000, 50);
  }

  describe('worker SIGKILL (one application, three deployments)', () => {
    let appId: string;
    let port: number;
    const ids: string[] = [];

    it('pull: a worker killed while the engine pulls; the next worker resumes, pulls again and succeeds', async () => {
      const w1 = await worker();
      port = await freePort();
      const ref = await registryImage('kill');
      appId = await createApp(h, 'kill-chain', httpdSpec(port, { image: ref, registryId }), 'v1');
      proxy!.stall();
      const id = await deploy(h, appId);
      ids.push(id);
      await stalledPull(id);
      await kill(w1);
      const t0 = Date.now();
      expect(await servicesOf(h, appId)).toHaveLength(0);
      proxy!.release();
      await worker();
      const { d, log } = await ended(h, id, 'succeeded');
      timings.push(`  SIGKILL × pull: resumed and succeeded ${Date.now() - t0} ms after the kill`);
      expect(log).toMatch(/\[start\] Resumed by worker .*\(attempt 2\)/);
      expect(countLines(log, /^\[pull\] Pulling /)).toBe(2);
      expect(log).toMatch(/\[pull\] Pull complete/);
      expect(countLines(log, /^\[service\] Created service/)).toBe(1);
      expect(countLines(log, /^\[finish\] /)).toBe(1);
      expect(d.imageDigest).toMatch(new RegExp(`^${proxy!.host}/${run!.install}/web@sha256:[0-9a-f]{64}$`));
      expect(await statusInDb(h.t.databaseUrl, id)).toEqual({ status: 'succeeded', attempts: 2, lease_owner: null });
      expect((await theService(h, appId)).deployment).toBe(id);
      expect((await httpGetUntil(port, (r) => r.body === 'v1', 30_000)).body).toBe('v1');
      const audit = await auditActions(h, id, 'deployment.succeeded');
      expect(count(audit, 'deployment.started')).toBe(1);
      expect(count(audit, 'deployment.resumed')).toBe(1);
      expect(count(audit, 'deployment.succeeded')).toBe(1);
      expect(count(audit, 'deployment.failed')).toBe(0);
    });

    it('service: a worker killed at the fence right before the engine change; the dead worker changed nothing, the resume updates once', async () => {
      const w = workers[workers.length - 1];
      await setBody(h, appId, 'v2');
      await gates.close(FENCE_GATE);
      const id = await deploy(h, appId);
      ids.push(id);
      await gates.reached(FENCE_GATE);
      await kill(w);
      const t0 = Date.now();
      // The engine was not touched by the killed attempt: v1 still runs.
      expect((await theService(h, appId)).deployment).toBe(ids[0]);
      await gates.open();
      await worker();
      const { log } = await ended(h, id, 'succeeded');
      timings.push(`  SIGKILL × service: resumed and succeeded ${Date.now() - t0} ms after the kill`);
      expect(log).toMatch(/\[start\] Resumed by worker .*\(attempt 2\)/);
      expect(countLines(log, /^\[service\] Updated service/)).toBe(1);
      expect(log).not.toMatch(/already carries this deployment/);
      expect(countLines(log, /^\[finish\] /)).toBe(1);
      const service = await theService(h, appId);
      expect(service.deployment).toBe(id);
      expect(service.env).toContain('BODY=v2');
      expect((await httpGetUntil(port, (r) => r.body === 'v2', 30_000)).body).toBe('v2');
      const audit = await auditActions(h, id, 'deployment.succeeded');
      expect([count(audit, 'deployment.resumed'), count(audit, 'deployment.succeeded'), count(audit, 'deployment.failed')]).toEqual([1, 1, 0]);
    });

    it('finish: a worker killed inside the finish transaction; nothing of it is recorded, the resume finds the change made and succeeds once', async () => {
      const w = workers[workers.length - 1];
      await setBody(h, appId, 'v3');
      await gates.close(FINISH_GATE);
      const id = await deploy(h, appId);
      ids.push(id);
      await gates.reached(FINISH_GATE);
      // The service already runs v3; the worker is recording the outcome.
      expect((await theService(h, appId)).deployment).toBe(id);
      await kill(w);
      const t0 = Date.now();
      await gates.open();
      // The dead worker's transaction is rolled back once its session notices the client is gone (the row unlocks).
      await until('the killed worker\'s finish transaction to roll back', async () => (await sql(h.t.databaseUrl, 'SELECT id FROM deployments WHERE id = $1 FOR UPDATE NOWAIT', [id])).length === 1, 30_000, 100);
      expect((await statusInDb(h.t.databaseUrl, id)).status).toBe('running');
      expect(await logText(h.t, h.owner, id)).not.toMatch(/\[finish\]/);
      await worker();
      const { log } = await ended(h, id, 'succeeded');
      timings.push(`  SIGKILL × finish: resumed and succeeded ${Date.now() - t0} ms after the kill`);
      expect(log).toMatch(/\[start\] Resumed by worker .*\(attempt 2\)/);
      expect(log).toMatch(/\[service\] Service .* already carries this deployment \(changed by an earlier attempt\): not changed again/);
      expect(countLines(log, /^\[service\] Updated service/)).toBe(1);
      expect(countLines(log, /^\[finish\] /)).toBe(1);
      expect(log).toMatch(/\[finish\] Deployment succeeded/);
      expect(await statusInDb(h.t.databaseUrl, id)).toEqual({ status: 'succeeded', attempts: 2, lease_owner: null });
      const service = await theService(h, appId);
      expect(service.deployment).toBe(id);
      expect((await httpGetUntil(port, (r) => r.body === 'v3', 30_000)).body).toBe('v3');
      const audit = await auditActions(h, id, 'deployment.succeeded');
      expect([count(audit, 'deployment.resumed'), count(audit, 'deployment.succeeded'), count(audit, 'deployment.failed')]).toEqual([1, 1, 0]);
    });
  });

  describe('PostgreSQL stop/start (one application, three deployments)', () => {
    let appId: string;
    let port: number;
    const ids: string[] = [];

    async function restartPostgres(): Promise<number> {
      const t0 = Date.now();
      await pg!.stop();
      await pg!.start();
      return Date.now() - t0;
    }

    it('pull: PostgreSQL stops and starts while the engine pulls; the deployment succeeds', async () => {
      if (!workers.some((w) => w.child.exitCode === null && w.child.signalCode === null)) await worker();
      port = await freePort();
      const ref = await registryImage('pg');
      appId = await createApp(h, 'pg-chain', httpdSpec(port, { image: ref, registryId }), 'v1');
      proxy!.stall();
      const id = await deploy(h, appId);
      ids.push(id);
      await stalledPull(id);
      const outage = await restartPostgres();
      proxy!.release();
      const t0 = Date.now();
      const { log } = await ended(h, id, 'succeeded');
      timings.push(`  PostgreSQL × pull: down ${outage} ms; succeeded ${Date.now() - t0} ms after the pull was released`);
      expect(log).toMatch(/\[pull\] Pull complete/);
      expect(countLines(log, /^\[service\] Created service/)).toBe(1);
      expect(countLines(log, /^\[finish\] /)).toBe(1);
      expect((await theService(h, appId)).deployment).toBe(id);
      expect((await httpGetUntil(port, (r) => r.body === 'v1', 30_000)).body).toBe('v1');
      const audit = await auditActions(h, id, 'deployment.succeeded');
      expect([count(audit, 'deployment.succeeded'), count(audit, 'deployment.failed')]).toEqual([1, 0]);
    });

    it('service: PostgreSQL stops while the worker fences the engine change; the fence is retried and the change made once', async () => {
      await setBody(h, appId, 'v2');
      await gates.close(FENCE_GATE);
      const id = await deploy(h, appId);
      ids.push(id);
      await gates.reached(FENCE_GATE);
      // The stop ends the worker's fence statement (and the gate's session): the fence meets the outage.
      const outage = await restartPostgres();
      await gates.open();
      const t0 = Date.now();
      const { log } = await ended(h, id, 'succeeded');
      timings.push(`  PostgreSQL × service: down ${outage} ms; succeeded ${Date.now() - t0} ms after PostgreSQL was back (attempts ${(await statusInDb(h.t.databaseUrl, id)).attempts})`);
      expect(countLines(log, /^\[service\] Updated service/)).toBe(1);
      expect(countLines(log, /^\[finish\] /)).toBe(1);
      const service = await theService(h, appId);
      expect(service.deployment).toBe(id);
      expect(service.env).toContain('BODY=v2');
      expect((await httpGetUntil(port, (r) => r.body === 'v2', 30_000)).body).toBe('v2');
      const audit = await auditActions(h, id, 'deployment.succeeded');
      expect([count(audit, 'deployment.succeeded'), count(audit, 'deployment.failed')]).toEqual([1, 0]);
    });

    it('finish: PostgreSQL stops inside the finish transaction; the outcome is recorded once after it is back', async () => {
      await setBody(h, appId, 'v3');
      await gates.close(FINISH_GATE);
      const id = await deploy(h, appId);
      ids.push(id);
      await gates.reached(FINISH_GATE);
      const stoppedAt = Date.now();
      const outage = await restartPostgres();
      const { d, log } = await ended(h, id, 'succeeded');
      timings.push(`  PostgreSQL × finish: down ${outage} ms; succeeded ${Date.now() - stoppedAt - outage} ms after PostgreSQL was back`);
      // Recorded by a retry after the outage, not by the transaction the stop cut off.
      expect(Date.parse(String(d.finishedAt))).toBeGreaterThan(stoppedAt);
      expect(countLines(log, /^\[finish\] /)).toBe(1);
      expect(log).toMatch(/\[finish\] Deployment succeeded/);
      const service = await theService(h, appId);
      expect(service.deployment).toBe(id);
      expect((await httpGetUntil(port, (r) => r.body === 'v3', 30_000)).body).toBe('v3');
      const audit = await auditActions(h, id, 'deployment.succeeded');
      expect([count(audit, 'deployment.succeeded'), count(audit, 'deployment.failed')]).toEqual([1, 0]);
      await nothingLeftRunning(h.t.databaseUrl);
    });
  });
});

// ---------------------------------------------------------------------------------------------------------------------

describe('dockerd restart at each step (a private dockerd in its own network namespace)', () => {
  let dockerd: PrivateDockerd | undefined;
  let hanging: ChildProcess | undefined;
  let hangingOut = '';
  let gates: Gates;
  let h: Harness;
  let appId: string;
  const ids: string[] = [];
  const noPorts = { ports: [] as unknown[] };

  beforeAll(async () => {
    dockerd = await startPrivateDockerd();
    await ensureBusyboxImage(dockerd.docker);
    const db = await createTestDatabase();
    const t = await startAppWith(wharfEnv(db.url, REDIS_URL, { WHARF_DOCKER_SOCKET: dockerd.socketPath, WHARF_DEPLOY_LEASE_MS: String(LEASE_MS) }), db.drop);
    await installGates(t.databaseUrl);
    gates = new Gates(t.databaseUrl);
    const owner = await setupOwner(t);
    const env = await productionEnvironment(t, owner, owner.organizationId);
    h = { t, owner, environmentId: env.environmentId, docker: dockerd.docker };
    // A "registry" inside the engine's namespace that accepts connections and never answers.
    const script = `const s = require('net').createServer((c) => { console.log('conn'); c.on('error', () => {}); }); s.listen(${HANGING_PORT}, '127.0.0.1', () => console.log('listening'));`;
    hanging = spawn('/usr/bin/nsenter', [`--net=/proc/${dockerd.pid()}/ns/net`, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'ignore'] });
    hanging.stdout!.on('data', (b: Buffer) => (hangingOut += b.toString()));
    await until('the hanging registry to listen', async () => hangingOut.includes('listening'), 15_000, 50);
  }, 120_000);

  afterAll(async () => {
    try {
      await gates?.open();
      await dockerd?.start().catch(() => undefined);
      await h?.t.close();
    } finally {
      hanging?.kill('SIGKILL');
      await dockerd?.destroy();
    }
  }, 120_000);

  async function restartDockerd(between: () => Promise<void> = async () => undefined): Promise<number> {
    const d = dockerd!;
    const t0 = Date.now();
    await d.stop();
    expect(d.pid()).toBeNull();
    await between();
    await d.start();
    return Date.now() - t0;
  }

  /** One running task of the application's service (after a restart Swarm starts it again). */
  async function taskRunning(): Promise<void> {
    const [s] = await servicesOf(h, appId);
    await until('a running task', async () => {
      const tasks = await h.docker.listTasks({ filters: JSON.stringify({ service: [s.ID], 'desired-state': ['running'] }) } as object);
      return tasks.some((x) => x.Status?.State === 'running');
    }, 60_000, 200);
  }

  it('pull: dockerd restarts while it pulls; the deployment fails with the reason and v1 keeps running', async () => {
    appId = await createApp(h, 'engine-chain', httpdSpec(null, noPorts), 'v1');
    const first = await deploy(h, appId);
    ids.push(first);
    await ended(h, first, 'succeeded');
    await patchSpec(h, appId, { image: `127.0.0.1:${HANGING_PORT}/hangs/forever:1` });
    await setBody(h, appId, 'v2');
    const id = await deploy(h, appId);
    await waitForLogLine(h, id, /\[pull\] Pulling 127\.0\.0\.1:/);
    await until('the engine to connect to the hanging registry', async () => hangingOut.includes('conn'), 30_000, 50);
    const restart = await restartDockerd();
    const { d, log } = await ended(h, id, 'failed');
    timings.push(`  dockerd × pull: restart ${restart} ms; ended failed: ${d.error}`);
    expect(d.error).toContain(`127.0.0.1:${HANGING_PORT}/hangs/forever:1`);
    expect(log).not.toMatch(/\[service\] (Updated|Created) service/);
    expect(countLines(log, /^\[finish\] Deployment failed/)).toBe(1);
    const service = await theService(h, appId);
    expect(service.deployment).toBe(first);
    expect(service.env).toContain('BODY=v1');
    await taskRunning();
    const audit = await auditActions(h, id, 'deployment.failed');
    expect([count(audit, 'deployment.succeeded'), count(audit, 'deployment.failed')]).toEqual([0, 1]);
  });

  it('service: dockerd is down when the service change is sent; the deployment fails with the reason and v1 runs after the restart', async () => {
    await patchSpec(h, appId, { image: BUSYBOX_IMAGE });
    await setBody(h, appId, 'v3');
    await gates.close(FENCE_GATE);
    const id = await deploy(h, appId);
    await gates.reached(FENCE_GATE);
    let failed: Awaited<ReturnType<typeof ended>> | undefined;
    // The gate opens while the engine is stopped: the update meets no engine.
    const restart = await restartDockerd(async () => {
      await gates.open();
      failed = await ended(h, id, 'failed');
    });
    const { d, log } = failed!;
    timings.push(`  dockerd × service: restart ${restart} ms; ended failed: ${d.error}; ${log.match(/\[rollback\].*/)?.[0] ?? 'no rollback line'}`);
    expect(d.error).toBeTruthy();
    expect(log).not.toMatch(/\[service\] (Updated|Created) service/);
    expect(countLines(log, /^\[finish\] Deployment failed/)).toBe(1);
    const service = await theService(h, appId);
    expect(service.deployment).toBe(ids[0]);
    expect(service.env).toContain('BODY=v1');
    await taskRunning();
    const audit = await auditActions(h, id, 'deployment.failed');
    expect([count(audit, 'deployment.succeeded'), count(audit, 'deployment.failed'), count(audit, 'deployment.rolled-back')]).toEqual([0, 1, 0]);
  });

  it('finish: dockerd restarts while the outcome is recorded; the deployment succeeded and v4 runs after the restart', async () => {
    await setBody(h, appId, 'v4');
    await gates.close(FINISH_GATE);
    const id = await deploy(h, appId);
    await gates.reached(FINISH_GATE);
    let done: Awaited<ReturnType<typeof ended>> | undefined;
    const restart = await restartDockerd(async () => {
      await gates.open();
      done = await ended(h, id, 'succeeded');
    });
    const { log } = done!;
    timings.push(`  dockerd × finish: restart ${restart} ms`);
    expect(countLines(log, /^\[finish\] /)).toBe(1);
    const service = await theService(h, appId);
    expect(service.deployment).toBe(id);
    expect(service.env).toContain('BODY=v4');
    await taskRunning();
    const audit = await auditActions(h, id, 'deployment.succeeded');
    expect([count(audit, 'deployment.succeeded'), count(audit, 'deployment.failed')]).toEqual([1, 0]);
    await nothingLeftRunning(h.t.databaseUrl);
  });
});
