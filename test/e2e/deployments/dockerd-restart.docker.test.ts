import { readFileSync } from 'node:fs';
import request from 'supertest';
import { Client } from 'pg';
import type { TestApp } from '../../support/app';
import { Session, setupOwner } from '../../support/api';
import { createTestDatabase } from '../../support/database';
import { BUSYBOX_IMAGE, ensureBusyboxImage } from '../../support/docker/busybox-image';
import { PrivateDockerd, startPrivateDockerd } from '../../support/docker/private-dockerd';
import { logText, productionEnvironment, waitForDeployment, waitForStatus } from '../../support/deploy';
import { dockerPing, startAppWith, until, wharfEnv } from '../../support/processes';

/**
 * dockerd restarts while a deployment waits for its tasks. The restarted dockerd is a private one (its own namespace,
 * data root and socket) that only this file's Wharf talks to, so the machine's dockerd — other test files, a
 * developer's containers — is never stopped. No Docker test lock is needed for the same reason.
 */
jest.setTimeout(180_000);

const REDIS_URL = process.env.WHARF_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/0';
const HOOK_TIMEOUT_MS = 120_000;

/** A container that becomes healthy `readyAfter` seconds after it starts, so the deployment sits in its wait step. */
function slowSpec(readyAfter: number): Record<string, unknown> {
  return {
    image: BUSYBOX_IMAGE,
    command: ['/bin/sh', '-c', `(sleep ${readyAfter}; touch /ready) & exec httpd -f -p 8080 -h /`],
    replicas: 1,
    ports: [],
    healthcheck: { test: ['CMD', 'test', '-f', '/ready'], intervalMs: 1000, timeoutMs: 1000, retries: 3, startPeriodMs: 60_000 },
    update: { parallelism: 1, order: 'stop-first', failureAction: 'pause', monitorMs: 1000 },
    restartPolicy: { condition: 'any', delayMs: 500, maxAttempts: 0 },
    stopGracePeriodMs: 1000,
    deployTimeoutMs: 60_000,
  };
}

function mainDockerdPid(): number {
  return Number(readFileSync('/var/run/docker.pid', 'utf8').trim());
}

describe('a dockerd restart mid-deploy (private dockerd)', () => {
  let dockerd: PrivateDockerd | undefined;
  let t: TestApp | undefined;
  let owner: Session & { organizationId: string };
  let env: { projectId: string; environmentId: string };

  beforeAll(async () => {
    dockerd = await startPrivateDockerd();
    await ensureBusyboxImage(dockerd.docker);
    const db = await createTestDatabase();
    t = await startAppWith(wharfEnv(db.url, REDIS_URL, { WHARF_DOCKER_SOCKET: dockerd.socketPath }), db.drop);
    owner = await setupOwner(t);
    env = await productionEnvironment(t, owner, owner.organizationId);
  }, HOOK_TIMEOUT_MS);

  afterAll(async () => {
    try {
      await t?.close();
    } finally {
      // Always, even when the test failed half-way: kill the private daemon by pid, delete its namespace and files.
      await dockerd?.destroy();
    }
  }, HOOK_TIMEOUT_MS);

  it('the wait logs the outage, retries with backoff and succeeds; Swarm keeps its services; the main dockerd is untouched', async () => {
    const d = dockerd!;
    const app = t!;
    const mainPid = mainDockerdPid();
    const appId = (await request(app.server).post(`/api/v1/environments/${env.environmentId}/applications`).set(owner.auth).send({ name: 'engine-restart', spec: slowSpec(6) }).expect(201)).body.id;
    const id = (await request(app.server).post(`/api/v1/applications/${appId}/deployments`).set(owner.auth).send({}).expect(202)).body.id;
    await waitForStatus(app, owner, id, 'running', 30_000);
    await until('the wait step to start', async () => /\[wait\] Waiting/.test(await logText(app, owner, id)), 30_000);
    // Wharf deploys onto the private engine, not the machine's.
    const listServices = async () => (await d.docker.listServices({ filters: JSON.stringify({ label: [`wharf.service=${appId}`] }) } as object)).map((s) => s.Spec?.Name).sort();
    const servicesBefore = await listServices();
    expect(servicesBefore).toHaveLength(1);

    const oldPid = d.pid();
    const t0 = Date.now();
    await d.stop();
    expect(d.pid()).toBeNull();
    await expect(d.docker.ping()).rejects.toThrow();
    await d.start();
    console.log(`private dockerd restart took ${Date.now() - t0} ms`);
    expect(d.pid()).not.toBe(oldPid);

    const final = await waitForDeployment(app, owner, id, 90_000);
    const log = await logText(app, owner, id);
    console.log(`after the dockerd restart the deployment ended ${final.status}${final.error ? `: ${final.error}` : ''}`);
    // The wait reported the outage, retried with backoff, saw the engine come back, and Swarm then converged.
    expect(log).toMatch(/\[wait\] Docker engine unavailable: .*retrying with backoff/);
    expect(log).toMatch(/\[wait\] Docker engine answers again after [\d.]+ s/);
    expect(final).toMatchObject({ status: 'succeeded', error: null });
    expect(log).toMatch(/\[finish\] Deployment succeeded/);
    const db = new Client({ connectionString: app.databaseUrl });
    await db.connect();
    const { rows } = await db.query(`SELECT count(*) AS n FROM deployments WHERE status IN ('running', 'queued')`).finally(() => db.end());
    expect(Number(rows[0].n)).toBe(0);

    // Swarm state survived the restart: the same service exists.
    expect(await listServices()).toEqual(servicesBefore);
    // The machine's dockerd was never stopped.
    expect(mainDockerdPid()).toBe(mainPid);
    expect(await dockerPing()).toBe(true);
  });
});
