import request from 'supertest';
import { createServer, Server, Socket } from 'node:net';
import type { TestApp } from '../../support/app';
import { Session, setupOwner } from '../../support/api';
import { DataSource } from 'typeorm';
import { Client } from 'pg';
import Bull from 'bull';
import { createTestDatabase } from '../../support/database';
import { ensureBusyboxImage } from '../../support/docker/busybox-image';
import { freePort, httpGetUntil, SwarmTestRun } from '../../support/docker/swarm-test-run';
import { httpdSpec, logText, productionEnvironment, swarmRunFor, waitForDeployment, waitForStatus } from '../../support/deploy';
import { closeWithin, PrivateRedis, spawnWorker, startAppWith, startPrivateRedis, until, wharfEnv, WorkerProcess } from '../../support/processes';

jest.setTimeout(240_000);

const REDIS_URL = process.env.WHARF_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const LEASE_MS = 3000;

/**
 * Deployments stay correct when the worker running them dies or stalls: the API runs in this process, the workers in
 * their own processes, which the tests kill (SIGKILL) or pause (SIGSTOP).
 */
describe('deployments stay correct when their worker is killed or stalls', () => {
  const lock = new SwarmTestRun();
  let run: SwarmTestRun | undefined;
  let api: TestApp;
  let owner: Session & { organizationId: string };
  let env: { projectId: string; environmentId: string };
  let shared: NodeJS.ProcessEnv;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    await lock.start();
    await ensureBusyboxImage(lock.docker);
    const db = await createTestDatabase();
    shared = wharfEnv(db.url, REDIS_URL, { WHARF_DEPLOY_LEASE_MS: String(LEASE_MS) });
    api = await startAppWith({ ...shared, WHARF_ROLE: 'api' }, db.drop);
    run = await swarmRunFor(api);
    owner = await setupOwner(api);
    env = await productionEnvironment(api, owner, owner.organizationId);
  });

  afterAll(async () => {
    for (const w of workers) {
      if (w.child.signalCode === null && w.child.exitCode === null) w.child.kill('SIGCONT');
      await w.stop('SIGKILL');
    }
    await api?.close();
    await run?.cleanup().catch(() => undefined);
    await lock.cleanup();
  });

  async function worker(): Promise<WorkerProcess> {
    const w = spawnWorker(shared);
    workers.push(w);
    await w.ready();
    return w;
  }

  async function createApp(name: string, spec: Record<string, unknown>, body: string): Promise<string> {
    const res = await request(api.server).post(`/api/v1/environments/${env.environmentId}/applications`).set(owner.auth).send({ name, spec }).expect(201);
    await setBody(res.body.id, body);
    return res.body.id;
  }

  async function setBody(appId: string, body: string): Promise<void> {
    await request(api.server).put(`/api/v1/applications/${appId}/variables`).set(owner.auth).send({ variables: [{ key: 'BODY', value: body }] }).expect(200);
  }

  async function deploy(appId: string): Promise<string> {
    return (await request(api.server).post(`/api/v1/applications/${appId}/deployments`).set(owner.auth).send({}).expect(202)).body.id;
  }

  async function succeeded(id: string): Promise<Record<string, unknown>> {
    const d = await waitForDeployment(api, owner, id, 90_000);
    if (d.status !== 'succeeded') throw new Error(`deployment ${d.status}: ${d.error}\n${await logText(api, owner, id)}`);
    return d;
  }

  async function waitForLogLine(id: string, re: RegExp, timeoutMs = 30_000): Promise<void> {
    await until(`log line ${re}`, async () => re.test(await logText(api, owner, id)), timeoutMs, 50);
  }

  async function auditOf(id: string): Promise<Array<{ action: string; changes: Record<string, unknown> }>> {
    const res = await request(api.server).get(`/api/v1/organizations/${owner.organizationId}/audit-events`).query({ subjectId: id, limit: 50 }).set(owner.auth).expect(200);
    return res.body.items;
  }

  async function serviceOf(appId: string) {
    const [s] = await run!.docker.listServices({ filters: JSON.stringify({ label: [`wharf.service=${appId}`] }) } as object);
    return s;
  }

  /**
   * Good v1 serving, then a v2 that fails (by default its containers exit at once); Swarm only pauses the failed update
   * (no rollback of its own), so only Wharf puts v1 back.
   */
  async function goodThenFailing(name: string, v2: Record<string, unknown> = { command: ['/bin/sh', '-c', 'exit 3'] }): Promise<{ appId: string; port: number; d1: string }> {
    const port = await freePort();
    const appId = await createApp(name, httpdSpec(port, { update: { parallelism: 1, order: 'stop-first', failureAction: 'pause', monitorMs: 2000 }, deployTimeoutMs: 30_000 }), 'v1');
    const d1 = await deploy(appId);
    await succeeded(d1);
    expect((await httpGetUntil(port, (r) => r.body === 'v1')).body).toBe('v1');
    await request(api.server).patch(`/api/v1/applications/${appId}`).set(owner.auth).send({ spec: v2 }).expect(200);
    await setBody(appId, 'v2');
    return { appId, port, d1 };
  }

  it('a worker killed right after the service step: the resume does not update again and restores the last succeeded spec', async () => {
    const w1 = await worker();
    const { appId, port, d1 } = await goodThenFailing('resume-restore');
    const d2 = await deploy(appId);
    await waitForLogLine(d2, /\[service\] Updated service/);
    w1.child.kill('SIGKILL');
    await w1.exited;
    const killedAt = Date.now();
    expect((await serviceOf(appId)).Spec?.Labels?.['wharf.deployment']).toBe(d2);

    await worker();
    const final = await waitForDeployment(api, owner, d2, 90_000);
    const log = await logText(api, owner, d2);
    console.log(`kill after the service step: resumed and ended ${final.status} ${Date.now() - killedAt} ms after the kill`);
    expect(final.status).toBe('failed');
    expect(log).toMatch(/\[start\] Resumed by worker .*\(attempt 2\)/);
    // The resumed run judged the change the dead worker made instead of making it again.
    expect(log).toMatch(/\[service\] Service .* already carries this deployment \(changed by an earlier attempt\): not changed again/);
    expect(log.match(/\[service\] Updated service/g)).toHaveLength(1);
    expect(log).toContain(`[rollback] Restoring the spec of deployment ${d1}, the last that succeeded`);

    // v1 serves again, and the service carries v1's deployment (not Swarm's PreviousSpec, which the resume kept as v1
    // only because it did not update again).
    expect((await httpGetUntil(port, (r) => r.body === 'v1', 45_000)).body).toBe('v1');
    const service = await serviceOf(appId);
    expect(service.Spec?.Labels?.['wharf.deployment']).toBe(d1);
    expect((service.Spec?.TaskTemplate as { ContainerSpec?: { Command?: string[] } }).ContainerSpec?.Command).toEqual(httpdSpec(null).command);

    // The audit tells the truth: resumed, failed, and restored to the last succeeded deployment.
    const audit = await auditOf(d2);
    const actions = audit.map((e) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['deployment.started', 'deployment.resumed', 'deployment.failed', 'deployment.rolled-back']));
    expect(actions.filter((a) => a === 'deployment.failed')).toHaveLength(1);
    expect(audit.find((e) => e.action === 'deployment.rolled-back')!.changes).toEqual({ restored: `deployment ${d1}` });
    expect(audit.find((e) => e.action === 'deployment.failed')!.changes).toMatchObject({ status: 'failed', rolledBack: true, restoredDeployment: d1 });
    for (const w of workers) await w.stop();
  });

  it('a worker paused (SIGSTOP) past its lease changes nothing after SIGCONT; the status is what the next worker found', async () => {
    const w1 = await worker();
    // v2 becomes unhealthy only some 10 s after it starts (a start period, then three failed probes): the worker is
    // paused in its wait step, holding no transaction, even when this machine is slow to show the log line.
    const { appId, port, d1 } = await goodThenFailing('paused-worker', { healthcheck: { test: ['CMD', '/bin/false'], intervalMs: 1000, timeoutMs: 1000, retries: 3, startPeriodMs: 7000 } });
    const d2 = await deploy(appId);
    await waitForStatus(api, owner, d2, 'running', 30_000);
    await waitForLogLine(d2, /\[wait\] Waiting/);
    w1.child.kill('SIGSTOP');
    const pausedAt = Date.now();
    const atPause = await logText(api, owner, d2);
    if (/\[rollback\]|\[finish\]/.test(atPause)) throw new Error(`the worker was paused only after its wait step ended:\n${atPause}`);
    try {
      // Another worker takes over once the paused worker's lease expired, finds the change already made, sees v2 fail
      // and restores v1.
      await worker();
      const final = await waitForDeployment(api, owner, d2, 90_000);
      expect(final.status).toBe('failed');
      expect((await httpGetUntil(port, (r) => r.body === 'v1', 45_000)).body).toBe('v1');
      const log = await logText(api, owner, d2);
      expect(log).toMatch(/\[start\] Resumed by worker .*\(attempt 2\)/);
      expect(log).toContain(`[rollback] Restoring the spec of deployment ${d1}, the last that succeeded`);
      console.log(`SIGSTOP: the next worker ended the deployment ${Date.now() - pausedAt} ms after the pause`);
    } finally {
      w1.child.kill('SIGCONT');
    }
    const before = await serviceOf(appId);
    const logBefore = await logText(api, owner, d2);
    const auditBefore = await auditOf(d2);

    // The resumed worker finds its lease gone (at its next renewal, or by the fence before an engine change) and stops.
    const noticed = await until('the paused worker to notice it lost the lease', async () => new RegExp(`deployment ${d2}: lease lost \\(([^)]*)\\)`).exec(w1.log()), 30_000, 100).catch(async (e: Error) => {
      throw new Error(`${e.message}\n--- paused worker's log ---\n${w1.log().slice(-4000)}\n--- deployment log ---\n${await logText(api, owner, d2)}`);
    });
    console.log(`paused worker after SIGCONT: lease lost (${noticed[1]})`);
    expect(w1.child.exitCode).toBeNull();
    const after = await serviceOf(appId);
    expect(after.Version?.Index).toBe(before.Version?.Index);
    expect(after.Spec?.Labels?.['wharf.deployment']).toBe(d1);
    expect((await waitForDeployment(api, owner, d2)).status).toBe('failed');
    expect(await logText(api, owner, d2)).toBe(logBefore);
    expect((await auditOf(d2)).map((e) => e.action)).toEqual(auditBefore.map((e) => e.action));
    expect((await httpGetUntil(port, (r) => r.body === 'v1')).body).toBe('v1');
    for (const w of workers) await w.stop();
  });

  it('deleting an application while it deploys cancels the deployment first, then removes the service; nothing comes back', async () => {
    await worker();
    const { appId } = await goodThenFailing('delete-running', { healthcheck: { test: ['CMD', '/bin/false'], intervalMs: 1000, timeoutMs: 1000, retries: 100, startPeriodMs: 0 } });
    const d2 = await deploy(appId);
    await waitForLogLine(d2, /\[wait\] Waiting/);
    await request(api.server).delete(`/api/v1/applications/${appId}`).set(owner.auth).expect(202);
    await until('the application to be gone', async () => (await request(api.server).get(`/api/v1/applications/${appId}`).set(owner.auth)).status === 404, 60_000, 200);
    expect(await serviceOf(appId)).toBeUndefined();
    // The deployment ended (cancelled, by its own worker) before the service was removed: the audit records both, in
    // that order, so the worker could not re-create or restore the service after the removal.
    const audit = await request(api.server).get(`/api/v1/organizations/${owner.organizationId}/audit-events`).query({ limit: 200 }).set(owner.auth).expect(200);
    const items = audit.body.items as Array<{ action: string; seq: number; subject: { id: string } }>;
    const cancelled = items.find((e) => e.action === 'deployment.cancelled' && e.subject.id === d2);
    const deleted = items.find((e) => e.action === 'application.deleted' && e.subject.id === appId);
    expect(cancelled).toBeDefined();
    expect(deleted).toBeDefined();
    expect(deleted!.seq).toBeGreaterThan(cancelled!.seq);
    expect(await serviceOf(appId)).toBeUndefined();
  });

  it('an application stuck in `deleting` (its removal job lost) is driven to completion by the watchdog, even with the maintenance queue starved', async () => {
    if (!workers.some((w) => w.child.exitCode === null && w.child.signalCode === null)) await worker();
    const port = await freePort();
    const appId = await createApp('stuck-deleting', httpdSpec(port), 'stuck');
    await succeeded(await deploy(appId));
    expect(await serviceOf(appId)).toBeDefined();
    // Paused for every worker: as if its jobs were all stuck on hung calls. The watchdog runs on a queue of its own.
    const maintenance = new Bull('maintenance', { redis: REDIS_URL, prefix: shared.WHARF_QUEUE_PREFIX });
    await maintenance.pause();
    try {
      // As if the process died between committing the delete request and enqueuing its job, and the outbox lost it too.
      const c = new Client({ connectionString: api.databaseUrl });
      await c.connect();
      try {
        await c.query(`UPDATE applications SET deleting = true, delete_volumes = false WHERE id = $1`, [appId]);
      } finally {
        await c.end();
      }
      const t0 = Date.now();
      await until('the watchdog to finish the deletion', async () => (await request(api.server).get(`/api/v1/applications/${appId}`).set(owner.auth)).status === 404, 60_000, 200);
      console.log(`stuck deletion finished by the watchdog after ${Date.now() - t0} ms`);
      expect(await serviceOf(appId)).toBeUndefined();
      expect(await maintenance.isPaused()).toBe(true);
    } finally {
      await maintenance.resume();
      await maintenance.close();
    }
    for (const w of workers) await w.stop();
  });

  describe('cancel is durable (a private Redis, so its outage disturbs no other test)', () => {
    let t: TestApp;
    let redis: PrivateRedis;
    let user: Session & { organizationId: string };
    let envIds: { projectId: string; environmentId: string };
    // A "registry" that accepts connections and never answers: a pull from it hangs until it is aborted.
    const sockets = new Set<Socket>();
    const hanging: Server = createServer((c) => {
      sockets.add(c);
      c.on('error', () => undefined);
    });

    beforeAll(async () => {
      redis = await startPrivateRedis();
      await new Promise<void>((r) => hanging.listen(0, '127.0.0.1', r));
      const db = await createTestDatabase();
      t = await startAppWith(wharfEnv(db.url, redis.url, { WHARF_DEPLOY_LEASE_MS: String(LEASE_MS) }), db.drop);
      const r = await swarmRunFor(t);
      const first = run;
      run = Object.assign(r, {
        cleanup: async () => {
          await first?.cleanup().catch(() => undefined);
          return SwarmTestRun.prototype.cleanup.call(r);
        },
      });
      user = await setupOwner(t);
      envIds = await productionEnvironment(t, user, user.organizationId);
    });

    afterAll(async () => {
      // The never-answering registry first: it stops accepting (dockerd may still be retrying the aborted pull) and
      // drops the connections it holds, or its close would wait for them.
      const registryClosed = new Promise((r) => hanging.close(r));
      for (const c of sockets) c.destroy();
      await redis?.start().catch(() => undefined);
      await closeWithin(t, 60_000);
      await redis?.destroy();
      await registryClosed;
    });

    async function create(name: string, spec: Record<string, unknown>, body = 'v1'): Promise<string> {
      const res = await request(t.server).post(`/api/v1/environments/${envIds.environmentId}/applications`).set(user.auth).send({ name, spec }).expect(201);
      await request(t.server).put(`/api/v1/applications/${res.body.id}/variables`).set(user.auth).send({ variables: [{ key: 'BODY', value: body }] }).expect(200);
      return res.body.id;
    }
    const start = async (appId: string) => (await request(t.server).post(`/api/v1/applications/${appId}/deployments`).set(user.auth).send({}).expect(202)).body.id as string;
    const cancel = (id: string) => request(t.server).post(`/api/v1/deployments/${id}/cancel`).set(user.auth).expect(202);
    /** Status straight from PostgreSQL: nothing on this path needs Redis. */
    const statusOf = async (id: string) => (await t.app.get(DataSource).query(`SELECT status FROM deployments WHERE id = $1`, [id]))[0].status as string;

    it('cancel while queued and while pulling: the queued one never starts, the pull is aborted', async () => {
      const { port } = hanging.address() as { port: number };
      const appId = await create('pull-cancel', { ...httpdSpec(null), image: `127.0.0.1:${port}/hangs/forever:1` });
      const pulling = await start(appId);
      await until('the pull to start', async () => /\[pull\] Pulling 127\.0\.0\.1/.test(await logText(t, user, pulling)), 30_000, 50);
      const queued = await start(appId);
      expect(await statusOf(queued)).toBe('queued');

      expect((await cancel(queued)).body.status).toBe('cancelled');
      const t0 = Date.now();
      await cancel(pulling);
      const final = await waitForDeployment(t, user, pulling, 30_000);
      console.log(`cancel while pulling: cancelled ${Date.now() - t0} ms after the request`);
      expect(final.status).toBe('cancelled');
      expect(Date.now() - t0).toBeLessThan(15_000);
      // The queued one never ran: no start line, no attempt.
      const queuedLog = await logText(t, user, queued);
      expect(queuedLog).toMatch(/\[cancel\] Cancelled by .* before it started/);
      expect(queuedLog).not.toMatch(/\[start\]/);
      expect(await statusOf(queued)).toBe('cancelled');
      // Nothing was created on the engine for either.
      expect(await run!.docker.listServices({ filters: JSON.stringify({ label: [`wharf.service=${appId}`] }) } as object)).toHaveLength(0);
    });

    it('cancel during a Redis outage: the worker reads the flag at its next lease renewal, cancels and restores v1', async () => {
      const port = await freePort();
      const appId = await create('redis-down-cancel', httpdSpec(port, { deployTimeoutMs: 60_000 }), 'v1');
      const d1 = await start(appId);
      const done = await waitForDeployment(t, user, d1, 60_000);
      if (done.status !== 'succeeded') throw new Error(`v1 ${done.status}: ${done.error}\n${await logText(t, user, d1)}`);
      expect((await httpGetUntil(port, (r) => r.body === 'v1')).body).toBe('v1');
      // v2 never becomes healthy: the deployment waits for up to a minute unless it is cancelled.
      await request(t.server).patch(`/api/v1/applications/${appId}`).set(user.auth).send({ spec: { healthcheck: { test: ['CMD', '/bin/false'], intervalMs: 1000, timeoutMs: 1000, retries: 100, startPeriodMs: 0 } } }).expect(200);
      const d2 = await start(appId);
      await until('v2 to wait', async () => /\[wait\] Waiting/.test(await logText(t, user, d2)), 30_000, 50);

      await redis.stop();
      try {
        const t0 = Date.now();
        // The cancel is recorded in PostgreSQL; its pub/sub message cannot be sent.
        await cancel(d2);
        await until('the cancel to take effect with Redis down', async () => (await statusOf(d2)) === 'cancelled', 20_000, 100);
        console.log(`cancel during a Redis outage: cancelled ${Date.now() - t0} ms after the request (lease ${LEASE_MS} ms, renewed every ${LEASE_MS / 4} ms)`);
        expect(Date.now() - t0).toBeLessThan(15_000);
        expect((await httpGetUntil(port, (r) => r.body === 'v1', 45_000)).body).toBe('v1');
      } finally {
        await redis.start();
      }
      const log = await logText(t, user, d2);
      expect(log).toContain(`[rollback] Restoring the spec of deployment ${d1}, the last that succeeded`);
      expect(log).toMatch(/\[finish\] Deployment cancelled/);
      const service = (await run!.docker.listServices({ filters: JSON.stringify({ label: [`wharf.service=${appId}`] }) } as object))[0];
      expect(service.Spec?.Labels?.['wharf.deployment']).toBe(d1);
    });
  });
});
