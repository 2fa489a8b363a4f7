import request from 'supertest';
import type { TestApp } from '../../support/app';
import { Session, setupOwner } from '../../support/api';
import { createTestDatabase } from '../../support/database';
import { ensureBusyboxImage } from '../../support/docker/busybox-image';
import { DOCKER_CLI, exec } from '../../support/docker/host-tools';
import { freePort, httpGetUntil, SwarmTestRun } from '../../support/docker/swarm-test-run';
import { LOCK_HOOK_TIMEOUT_MS } from '../../support/docker/test-lock';
import { httpdSpec, logText, productionEnvironment, swarmRunFor, waitForDeployment, waitForStatus } from '../../support/deploy';
import { spawnWorker, startAppWith, until, wharfEnv, WorkerProcess } from '../../support/processes';
import { sql } from '../../support/sql';

jest.setTimeout(300_000);

const REDIS_URL = process.env.WHARF_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const LEASE_MS = 3000;
/** How long a worker told to stop (SIGTERM) may take to exit while a deployment of its waits on a health check. */
const EXIT_BOUND_MS = 20_000;
/** The repeating watchdog job's interval (apps/worker/src/jobs/job-registry.ts). */
const WATCHDOG_MS = 10_000;

/**
 * v2 of the application: healthy only once /ready exists, which this test creates (docker exec) when it wants the
 * deployment to end. The start period is far longer than the test, so Swarm never counts a failed probe and never
 * replaces the task meanwhile: the deployment waits in its `wait` step for as long as the test needs, on any machine.
 */
const WAITS_FOR_READY = {
  healthcheck: { test: ['CMD', 'test', '-f', '/ready'], intervalMs: 1000, timeoutMs: 1000, retries: 3, startPeriodMs: 600_000 },
};

/**
 * A worker told to stop (SIGTERM) while a deployment waits on its health check interrupts it instead of holding the
 * shutdown until the check passes: the process exits promptly, the deployment stays `running` with its lease given up,
 * and the next worker resumes it and ends it. The API runs in this process, the workers in their own processes.
 */
describe('a worker shut down (SIGTERM) mid-deploy hands the deployment to the next worker', () => {
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
  }, LOCK_HOOK_TIMEOUT_MS);

  afterAll(async () => {
    try {
      for (const w of workers) await w.stop('SIGKILL');
      await api?.close();
    } finally {
      try {
        await run?.cleanup().catch(() => undefined);
      } finally {
        await lock.cleanup();
      }
    }
  }, LOCK_HOOK_TIMEOUT_MS);

  async function worker(): Promise<WorkerProcess> {
    const w = spawnWorker(shared);
    workers.push(w);
    await w.ready();
    return w;
  }

  async function setBody(appId: string, body: string): Promise<void> {
    await request(api.server).put(`/api/v1/applications/${appId}/variables`).set(owner.auth).send({ variables: [{ key: 'BODY', value: body }] }).expect(200);
  }

  async function deploy(appId: string): Promise<string> {
    return (await request(api.server).post(`/api/v1/applications/${appId}/deployments`).set(owner.auth).send({}).expect(202)).body.id;
  }

  async function status(id: string): Promise<string> {
    return (await request(api.server).get(`/api/v1/deployments/${id}`).set(owner.auth).expect(200)).body.status;
  }

  async function waitForLogLine(id: string, re: RegExp, timeoutMs = 60_000): Promise<string> {
    return until(`log line ${re}`, async () => {
      const log = await logText(api, owner, id);
      return re.test(log) ? log : null;
    }, timeoutMs, 100);
  }

  async function auditOf(id: string): Promise<Array<{ action: string; changes: Record<string, unknown> }>> {
    const res = await request(api.server).get(`/api/v1/organizations/${owner.organizationId}/audit-events`).query({ subjectId: id, limit: 50 }).set(owner.auth).expect(200);
    return res.body.items;
  }

  async function serviceOf(appId: string) {
    const [s] = await run!.docker.listServices({ filters: JSON.stringify({ label: [`wharf.service=${appId}`] }) } as object);
    return s;
  }

  /** Creates /ready in every running container of the service, which makes v2's health check pass. */
  async function makeReady(serviceId: string): Promise<number> {
    const containers = await run!.docker.listContainers({ filters: JSON.stringify({ label: [`com.docker.swarm.service.id=${serviceId}`] }) } as object);
    for (const c of containers) await exec(DOCKER_CLI, ['exec', c.Id, 'touch', '/ready'], { timeoutMs: 20_000 }).catch(() => undefined);
    return containers.length;
  }

  it('SIGTERM while the deployment waits on its health check: the worker exits promptly, the next worker resumes and ends it', async () => {
    const w1 = await worker();
    // v1 serving (its health check passes at once), then v2 that waits in its `wait` step until the test makes it ready.
    const port = await freePort();
    const created = await request(api.server)
      .post(`/api/v1/environments/${env.environmentId}/applications`)
      .set(owner.auth)
      .send({ name: 'graceful', spec: httpdSpec(port, { update: { parallelism: 1, order: 'stop-first', failureAction: 'pause', monitorMs: 1000 }, deployTimeoutMs: 300_000 }) })
      .expect(201);
    const appId = created.body.id as string;
    await setBody(appId, 'v1');
    const d1 = await deploy(appId);
    const first = await waitForDeployment(api, owner, d1, 90_000);
    if (first.status !== 'succeeded') throw new Error(`v1 ${first.status}: ${first.error}\n${await logText(api, owner, d1)}`);
    expect((await httpGetUntil(port, (r) => r.body === 'v1', 45_000)).body).toBe('v1');

    await request(api.server).patch(`/api/v1/applications/${appId}`).set(owner.auth).send({ spec: WAITS_FOR_READY }).expect(200);
    await setBody(appId, 'v2');
    const d2 = await deploy(appId);
    await waitForStatus(api, owner, d2, 'running', 60_000);
    await waitForLogLine(d2, /\[wait\] Waiting/);
    const [before] = await sql<{ attempts: number; lease_owner: string }>(api.databaseUrl, 'SELECT attempts, lease_owner FROM deployments WHERE id = $1', [d2]);
    expect(before.attempts).toBe(1);
    expect(before.lease_owner).toContain(`:${w1.pid}:`);
    expect((await serviceOf(appId)).Spec?.Labels?.['wharf.deployment']).toBe(d2);

    // Told to stop: it exits well before the health check could pass (it never does until the test says so).
    const termAt = Date.now();
    w1.child.kill('SIGTERM');
    const outcome = await Promise.race([w1.exited.then(() => 'exited'), new Promise((r) => setTimeout(() => r('still running'), EXIT_BOUND_MS).unref())]);
    const exitMs = Date.now() - termAt;
    if (outcome !== 'exited') {
      throw new Error(`the worker was still running ${EXIT_BOUND_MS} ms after SIGTERM\n--- worker log ---\n${w1.log().slice(-4000)}\n--- deployment log ---\n${await logText(api, owner, d2)}`);
    }
    console.log(`SIGTERM: worker exited ${exitMs} ms after the signal (exit code ${w1.child.exitCode}, signal ${w1.child.signalCode})`);
    expect(w1.child.signalCode).not.toBe('SIGKILL');
    expect(w1.log()).toMatch(/shutting down: interrupting 1 running deployment\(s\)/);

    // Still running (not failed, not cancelled, not restored to v1), with its lease given up at once rather than left
    // to expire, and its log says why it stopped.
    expect(await status(d2)).toBe('running');
    const [atExit] = await sql<{ status: string; finished_at: Date | null; lease_given_up: boolean; lease_owner: string | null; attempts: number }>(
      api.databaseUrl,
      'SELECT status, finished_at, lease_expires_at <= now() AS lease_given_up, lease_owner, attempts FROM deployments WHERE id = $1',
      [d2],
    );
    expect(atExit).toMatchObject({ status: 'running', finished_at: null, lease_given_up: true, lease_owner: null, attempts: 1 });
    const logAtExit = await logText(api, owner, d2);
    expect(logAtExit).toContain('[worker] The worker running this deployment is shutting down; the next worker resumes it');
    expect(logAtExit).not.toMatch(/\[rollback\]|\[finish\]/);
    expect((await serviceOf(appId)).Spec?.Labels?.['wharf.deployment']).toBe(d2);

    // The next worker: its watchdog hands the deployment over (no lease to wait for), it resumes in the wait step
    // without changing the service again, and once v2 becomes healthy the deployment succeeds.
    const w2 = await worker();
    const upAt = Date.now();
    const resumedLog = await waitForLogLine(d2, /\[start\] Resumed by worker .*\(attempt 2\)[\s\S]*\[wait\] Waiting/, WATCHDOG_MS + 60_000);
    const resumeMs = Date.now() - upAt;
    expect(resumedLog).toMatch(new RegExp(`\\[start\\] Resumed by worker [^\\n]*:${w2.pid}:[^\\n]* after the previous worker shut down and gave its lease up`));
    expect(await status(d2)).toBe('running');
    const service = await serviceOf(appId);
    expect(service.Spec?.Labels?.['wharf.deployment']).toBe(d2);
    await until('v2 to become healthy and the deployment to succeed', async () => {
      await makeReady(service.ID!);
      return (await status(d2)) !== 'running';
    }, 120_000, 1000);
    const final = await waitForDeployment(api, owner, d2, 10_000);
    const log = await logText(api, owner, d2);
    console.log(`resume: worker 2 ready → resumed in its wait step ${resumeMs} ms; deployment ${final.status} ${Date.now() - upAt} ms after worker 2 was ready`);
    if (final.status !== 'succeeded') throw new Error(`deployment ${final.status}: ${final.error}\n${log}`);

    // One update of the service (by the first worker), judged, not repeated, by the second; nothing restored.
    expect(log).toMatch(new RegExp(`\\[start\\] Started on worker [^\\n]*:${w1.pid}:`));
    expect(log.match(/\[start\] /g)).toHaveLength(2);
    expect(log.match(/\[service\] Updated service/g)).toHaveLength(1);
    expect(log).toMatch(/\[service\] Service .* already carries this deployment \(changed by an earlier attempt\): not changed again/);
    expect(log).not.toMatch(/\[rollback\]/);
    expect(log.match(/\[finish\] /g)).toHaveLength(1);
    expect(log).toMatch(/\[finish\] Deployment succeeded/);
    const [after] = await sql<{ attempts: number; lease_owner: string | null; status: string }>(api.databaseUrl, 'SELECT attempts, lease_owner, status FROM deployments WHERE id = $1', [d2]);
    expect(after).toEqual({ attempts: 2, lease_owner: null, status: 'succeeded' });

    // The service serves v2 and carries this deployment: the resumed run converged the same service.
    expect((await httpGetUntil(port, (r) => r.body === 'v2', 45_000)).body).toBe('v2');
    const services = await run!.docker.listServices({ filters: JSON.stringify({ label: [`wharf.service=${appId}`] }) } as object);
    expect(services).toHaveLength(1);
    expect(services[0].Spec?.Labels?.['wharf.deployment']).toBe(d2);

    // The audit tells the truth: started, resumed, succeeded once; never failed, cancelled or rolled back.
    const actions = await until('the audit to record the end', async () => {
      const a = (await auditOf(d2)).map((e) => e.action);
      return a.includes('deployment.succeeded') ? a : null;
    }, 30_000, 200);
    expect(actions).toEqual(expect.arrayContaining(['deployment.started', 'deployment.resumed', 'deployment.succeeded']));
    expect(actions.filter((a) => a === 'deployment.resumed')).toHaveLength(1);
    expect(actions.filter((a) => a === 'deployment.succeeded')).toHaveLength(1);
    expect(actions).not.toEqual(expect.arrayContaining(['deployment.failed']));
    expect(actions).not.toEqual(expect.arrayContaining(['deployment.cancelled']));
    expect(actions).not.toEqual(expect.arrayContaining(['deployment.rolled-back']));
  });
});
