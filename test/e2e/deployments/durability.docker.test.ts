import request from 'supertest';
import { Client } from 'pg';
import type { TestApp } from '../../support/app';
import { Session, setupOwner } from '../../support/api';
import { createTestDatabase } from '../../support/database';
import { BUSYBOX_IMAGE, ensureBusyboxImage } from '../../support/docker/busybox-image';
import { SwarmTestRun } from '../../support/docker/swarm-test-run';
import { logText, productionEnvironment, swarmRunFor, waitForDeployment, waitForStatus } from '../../support/deploy';
import {
  privateDatabase, spawnWorker, startAppWith, startPrivatePostgres, startPrivateRedis, until, wharfEnv, WorkerProcess,
} from '../../support/processes';

jest.setTimeout(300_000);

const REDIS_URL = process.env.WHARF_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const LEASE_MS = 3000;
/** The repeating watchdog job's interval (apps/worker/src/jobs/job-registry.ts). */
const WATCHDOG_MS = 10_000;

/**
 * A container whose health check passes only `readyAfter` seconds after it starts (a file its command creates later),
 * so the deployment sits in its `wait` step for that long.
 */
function slowSpec(readyAfter: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    image: BUSYBOX_IMAGE,
    command: ['/bin/sh', '-c', `(sleep ${readyAfter}; touch /ready) & exec httpd -f -p 8080 -h /`],
    replicas: 1,
    ports: [],
    healthcheck: { test: ['CMD', 'test', '-f', '/ready'], intervalMs: 1000, timeoutMs: 1000, retries: 3, startPeriodMs: 60_000 },
    update: { parallelism: 1, order: 'stop-first', failureAction: 'pause', monitorMs: 1000 },
    restartPolicy: { condition: 'any', delayMs: 500, maxAttempts: 0 },
    stopGracePeriodMs: 1000,
    deployTimeoutMs: 45_000,
    ...extra,
  };
}

async function sql<T = Record<string, unknown>>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(text, params)).rows as T[];
  } finally {
    await c.end();
  }
}

async function createApp(t: TestApp, s: Session, environmentId: string, name: string, spec: Record<string, unknown>): Promise<string> {
  const res = await request(t.server).post(`/api/v1/environments/${environmentId}/applications`).set(s.auth).send({ name, spec }).expect(201);
  return res.body.id;
}

async function deploy(t: TestApp, s: Session, appId: string): Promise<string> {
  return (await request(t.server).post(`/api/v1/applications/${appId}/deployments`).set(s.auth).send({}).expect(202)).body.id;
}

/** Asserts success, showing the deployment's log when it is not. */
async function expectSucceeded(t: TestApp, s: Session, d: { id?: unknown; status: string; error: string | null }): Promise<void> {
  if (d.status !== 'succeeded') throw new Error(`deployment ${d.status}: ${d.error}\n${await logText(t, s, String(d.id))}`);
}

async function waitForLogLine(t: TestApp, s: Session, id: string, re: RegExp, timeoutMs = 30_000): Promise<void> {
  await until(`log line ${re}`, async () => re.test(await logText(t, s, id)), timeoutMs, 200);
}

describe('deployments survive crashes and outages', () => {
  const lock = new SwarmTestRun();
  let run: SwarmTestRun | undefined;

  beforeAll(async () => {
    await lock.start();
    await ensureBusyboxImage(lock.docker);
  });

  afterAll(async () => {
    await run?.cleanup().catch(() => undefined);
    await lock.cleanup();
  });

  describe('API and worker in separate processes', () => {
    let api: TestApp;
    let owner: Session & { organizationId: string };
    let env: { projectId: string; environmentId: string };
    let shared: NodeJS.ProcessEnv;
    const workers: WorkerProcess[] = [];

    beforeAll(async () => {
      const db = await createTestDatabase();
      shared = wharfEnv(db.url, REDIS_URL, { WHARF_DEPLOY_LEASE_MS: String(LEASE_MS) });
      api = await startAppWith({ ...shared, WHARF_ROLE: 'api' }, db.drop);
      run = await swarmRunFor(api);
      owner = await setupOwner(api);
      env = await productionEnvironment(api, owner, owner.organizationId);
    });

    afterAll(async () => {
      for (const w of workers) await w.stop('SIGKILL');
      await api?.close();
    });

    it('a worker killed (SIGKILL) mid-deploy: the next worker resumes it once, without overlap, and it ends in time', async () => {
      const w1 = spawnWorker(shared);
      workers.push(w1);
      await w1.ready();
      const appId = await createApp(api, owner, env.environmentId, 'resumable', slowSpec(12));
      const id = await deploy(api, owner, appId);
      const started = await waitForStatus(api, owner, id, 'running', 30_000);
      await waitForLogLine(api, owner, id, /\[wait\] Waiting/);

      const [before] = await sql<{ lease_owner: string; lease_expires_at: Date; attempts: number }>(api.databaseUrl, 'SELECT lease_owner, lease_expires_at, attempts FROM deployments WHERE id = $1', [id]);
      expect(before.attempts).toBe(1);
      expect(before.lease_owner).toContain(`:${w1.pid}:`);
      w1.child.kill('SIGKILL');
      await w1.exited;
      const killedAt = Date.now();
      // The dead worker's lease can only have been renewed up to the kill.
      const [{ lease_expires_at: leaseEnd }] = await sql<{ lease_expires_at: Date }>(api.databaseUrl, 'SELECT lease_expires_at FROM deployments WHERE id = $1', [id]);
      expect(leaseEnd.getTime()).toBeLessThanOrEqual(killedAt + LEASE_MS + 1000);
      expect((await request(api.server).get(`/api/v1/deployments/${id}`).set(owner.auth).expect(200)).body.status).toBe('running');

      const w2 = spawnWorker(shared);
      workers.push(w2);
      await w2.ready();
      const workerUp = Date.now();

      // Poll until it ends: it is never `running` past its own timeout (plus the lease and one watchdog period).
      const timeoutMs = 45_000;
      const startedAt = Date.parse(String(started.startedAt));
      let final: Record<string, unknown> & { status: string };
      for (;;) {
        final = (await request(api.server).get(`/api/v1/deployments/${id}`).set(owner.auth).expect(200)).body;
        if (final.status !== 'running') break;
        expect(Date.now() - startedAt).toBeLessThan(timeoutMs + LEASE_MS + WATCHDOG_MS + 5000);
        await new Promise((r) => setTimeout(r, 250));
      }
      const endedAt = Date.now();
      console.log(`SIGKILL resume: killed → worker 2 ready ${workerUp - killedAt} ms, worker 2 ready → ${final.status} ${endedAt - workerUp} ms`);
      await expectSucceeded(api, owner, final as never);
      // Ends within lease + watchdog period + the deploy's own remaining time (the container's 12 s to become healthy).
      expect(endedAt - workerUp).toBeLessThan(LEASE_MS + WATCHDOG_MS + 12_000 + 10_000);

      const log = await logText(api, owner, id);
      expect(log).toMatch(/\[start\] Started on worker .*:\d+:/);
      expect(log).toMatch(/\[start\] Resumed by worker .* after the previous worker stopped renewing its lease \(attempt 2\)/);
      expect(log.match(/\[start\] /g)).toHaveLength(2);
      expect(log.match(/\[finish\] /g)).toHaveLength(1);

      // No overlap: the resume took the lease only after the dead worker's lease had expired; attempts counts the two
      // claims only; the lease was released at the end.
      const rows = await sql<{ message: string; time: Date }>(api.databaseUrl, `SELECT message, time FROM deployment_logs WHERE deployment_id = $1 AND step = 'start' ORDER BY seq`, [id]);
      const resumedAt = rows.find((r) => r.message.startsWith('Resumed'))!.time.getTime();
      expect(resumedAt).toBeGreaterThanOrEqual(leaseEnd.getTime());
      expect(rows[1].message).toContain(`:${w2.pid}:`);
      expect(rows[0].message).toContain(`:${w1.pid}:`);
      const [after] = await sql<{ attempts: number; lease_owner: string | null; status: string }>(api.databaseUrl, 'SELECT attempts, lease_owner, status FROM deployments WHERE id = $1', [id]);
      expect(after).toEqual({ attempts: 2, lease_owner: null, status: 'succeeded' });
      // One Swarm service with one running task: the resumed run converged the same service, it did not create another.
      const services = await run!.docker.listServices({ filters: JSON.stringify({ label: [`wharf.service=${appId}`] }) } as object);
      expect(services).toHaveLength(1);
    });
  });

  describe('outages of a private PostgreSQL and Redis', () => {
    let t: TestApp;
    let owner: Session & { organizationId: string };
    let env: { projectId: string; environmentId: string };
    let pg: Awaited<ReturnType<typeof startPrivatePostgres>>;
    let redis: Awaited<ReturnType<typeof startPrivateRedis>>;

    beforeAll(async () => {
      [pg, redis] = await Promise.all([startPrivatePostgres(), startPrivateRedis()]);
      const db = await privateDatabase(pg);
      t = await startAppWith(wharfEnv(db.url, redis.url, { WHARF_DEPLOY_LEASE_MS: '10000' }), db.drop);
      const r = await swarmRunFor(t);
      // One cleanup for both parts of this file: the services of both installs are removed by their labels.
      const first = run;
      run = Object.assign(r, {
        cleanup: async () => {
          await first?.cleanup().catch(() => undefined);
          return SwarmTestRun.prototype.cleanup.call(r);
        },
      });
      owner = await setupOwner(t);
      env = await productionEnvironment(t, owner, owner.organizationId);
    });

    afterAll(async () => {
      await pg?.start().catch(() => undefined);
      await redis?.start().catch(() => undefined);
      await t?.close().catch(() => undefined);
      await pg?.destroy();
      await redis?.destroy();
    });

    async function readyStatus(): Promise<number> {
      const res = await request(t.server).get('/health/ready').timeout(8000).catch(() => ({ status: 0 }));
      return res.status;
    }

    it('PostgreSQL stops while a deployment waits and ends: the worker retries, the deployment ends truthfully', async () => {
      const appId = await createApp(t, owner, env.environmentId, 'pg-outage', slowSpec(4));
      const id = await deploy(t, owner, appId);
      await waitForStatus(t, owner, id, 'running', 30_000);
      await waitForLogLine(t, owner, id, /\[wait\] Waiting/);
      expect(await readyStatus()).toBe(200);

      await pg.stop();
      const down = Date.now();
      // Down long enough for the container to become healthy meanwhile: the lease renewals, the wait step's log lines
      // and the final status all meet the outage.
      let sawOutage = false;
      while (Date.now() - down < 8000) {
        if ((await readyStatus()) === 503) sawOutage = true;
        await new Promise((r) => setTimeout(r, 500));
      }
      expect(sawOutage).toBe(true);
      await pg.start();
      await until('/health/ready to recover', async () => (await readyStatus()) === 200, 30_000, 250);

      const final = await waitForDeployment(t, owner, id, 60_000);
      const ended = Date.now();
      console.log(`PostgreSQL outage: deployment ${final.status} ${ended - down - 8000} ms after PostgreSQL came back`);
      await expectSucceeded(t, owner, final);
      const log = await logText(t, owner, id);
      // The lines written during the outage were retried, not lost: the task progress and the end are there.
      expect(log).toMatch(/\[wait\] task 1 running/);
      expect(log).toMatch(/\[wait\] 1\/1 task\(s\) running/);
      // The steps ran once: no second claim that would update the service again.
      expect(log).not.toMatch(/Updated service/);
      expect(log).toMatch(/\[finish\] Deployment succeeded/);
      expect(log).not.toMatch(/Resumed/);
      const [row] = await sql<{ attempts: number; lease_owner: string | null }>(t.databaseUrl, 'SELECT attempts, lease_owner FROM deployments WHERE id = $1', [id]);
      expect(row).toEqual({ attempts: 1, lease_owner: null });
    });

    it('Redis restarts while a deployment waits: the deployment ends truthfully and new ones still run', async () => {
      const appId = await createApp(t, owner, env.environmentId, 'redis-outage', slowSpec(4));
      const id = await deploy(t, owner, appId);
      await waitForStatus(t, owner, id, 'running', 30_000);
      await waitForLogLine(t, owner, id, /\[wait\] Waiting/);

      await redis.stop();
      const down = Date.now();
      let sawOutage = false;
      while (Date.now() - down < 6000) {
        if ((await readyStatus()) === 503) sawOutage = true;
        await new Promise((r) => setTimeout(r, 500));
      }
      expect(sawOutage).toBe(true);
      await redis.start();
      await until('/health/ready to recover', async () => (await readyStatus()) === 200, 30_000, 250);

      const final = await waitForDeployment(t, owner, id, 60_000);
      console.log(`Redis outage: deployment ${final.status}`);
      await expectSucceeded(t, owner, final);
      // Queues work again after the restart: a new deployment is picked up and runs.
      const next = await waitForDeployment(t, owner, await deploy(t, owner, appId), 60_000);
      await expectSucceeded(t, owner, next);
    });
  });
});
