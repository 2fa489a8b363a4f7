import request from 'supertest';
import type { TestApp } from '../../support/app';
import { Session, setupOwner } from '../../support/api';
import { createTestDatabase } from '../../support/database';
import { ensureBusyboxImage } from '../../support/docker/busybox-image';
import { freePort, httpGetUntil, SwarmTestRun } from '../../support/docker/swarm-test-run';
import { httpdSpec, logText, productionEnvironment, swarmRunFor, waitForDeployment, waitForStatus } from '../../support/deploy';
import { spawnWorker, startAppWith, until, wharfEnv, WorkerProcess } from '../../support/processes';

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
    // v2 becomes unhealthy a few seconds after it starts: the deployment sits in its wait step meanwhile.
    const { appId, port, d1 } = await goodThenFailing('paused-worker', { healthcheck: { test: ['CMD', '/bin/false'], intervalMs: 1000, timeoutMs: 1000, retries: 3, startPeriodMs: 0 } });
    const d2 = await deploy(appId);
    await waitForStatus(api, owner, d2, 'running', 30_000);
    await waitForLogLine(d2, /\[wait\] Waiting/);
    w1.child.kill('SIGSTOP');
    const pausedAt = Date.now();
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
    await until('the paused worker to notice it lost the lease', async () => new RegExp(`deployment ${d2}: lease lost \\(([^)]*)\\)`).exec(w1.log()), 30_000, 100).then((m) =>
      console.log(`paused worker after SIGCONT: lease lost (${m[1]})`),
    );
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
});
