import request from 'supertest';
import { Client } from 'pg';
import { startTestApp, TestApp } from './app';
import { Session, setupOwner } from './api';
import { SwarmTestRun } from './docker/swarm-test-run';
import { BUSYBOX_IMAGE, ensureBusyboxImage } from './docker/busybox-image';
import { LOCK_HOOK_TIMEOUT_MS } from './docker/test-lock';

export const HTTPD_COMMAND = ['/bin/sh', '-c', 'mkdir -p /www && printf "%s" "$BODY" > /www/index.html && exec httpd -f -p 8080 -h /www'];

export function httpdSpec(port: number | null, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    image: BUSYBOX_IMAGE,
    command: HTTPD_COMMAND,
    replicas: 1,
    ports: [{ target: 8080, ...(port ? { published: port } : {}), protocol: 'tcp', mode: 'host' }],
    healthcheck: { test: ['CMD', 'wget', '-q', '-O', '/dev/null', 'http://127.0.0.1:8080/'], intervalMs: 1000, timeoutMs: 2000, retries: 3, startPeriodMs: 0 },
    update: { parallelism: 1, order: 'stop-first', failureAction: 'rollback', monitorMs: 2000 },
    rollback: { parallelism: 1, order: 'stop-first', failureAction: 'pause', monitorMs: 1000 },
    restartPolicy: { condition: 'any', delayMs: 500, maxAttempts: 0 },
    stopGracePeriodMs: 1000,
    deployTimeoutMs: 60_000,
    ...extra,
  };
}

/** Labels every Swarm object of this test app's install, so cleanup removes exactly what it created. */
export async function swarmRunFor(t: TestApp): Promise<SwarmTestRun> {
  const c = new Client({ connectionString: t.databaseUrl });
  await c.connect();
  const { rows } = await c.query('SELECT install_id FROM instance WHERE id = 1');
  await c.end();
  const run = new SwarmTestRun();
  Object.defineProperty(run, 'install', { value: rows[0].install_id });
  return run;
}

export async function productionEnvironment(t: TestApp, s: Session, orgId: string, name = 'Shop'): Promise<{ projectId: string; environmentId: string }> {
  const res = await request(t.server).post(`/api/v1/organizations/${orgId}/projects`).set(s.auth).send({ name }).expect(201);
  return { projectId: res.body.id, environmentId: res.body.environments[0].id };
}

export async function waitForDeployment(t: TestApp, s: Session, id: string, timeoutMs = 90_000): Promise<Record<string, unknown> & { status: string; error: string | null }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await request(t.server).get(`/api/v1/deployments/${id}`).set(s.auth).expect(200);
    if (['succeeded', 'failed', 'cancelled', 'superseded'].includes(res.body.status)) return res.body;
    if (Date.now() > deadline) throw new Error(`deployment ${id} still ${res.body.status}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export async function waitForStatus(t: TestApp, s: Session, id: string, status: string, timeoutMs = 20_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const d = await request(t.server).get(`/api/v1/deployments/${id}`).set(s.auth).expect(200);
    if (d.body.status === status) return d.body;
    if (Date.now() > deadline) throw new Error(`deployment ${id} is ${d.body.status}, not ${status}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Polls an application's runtime status until `ok` holds (or the timeout passes) and returns the last answer: the
 * worker records the runtime state after the deployment's own status is final, so it can lag behind a moment.
 */
export async function waitForAppStatus(t: TestApp, s: Session, appId: string, ok: (status: any) => boolean, timeoutMs = 30_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await request(t.server).get(`/api/v1/applications/${appId}/status`).set(s.auth).expect(200);
    if (ok(res.body) || Date.now() > deadline) return res.body;
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function logText(t: TestApp, s: Session, id: string): Promise<string> {
  const res = await request(t.server).get(`/api/v1/deployments/${id}/logs`).set(s.auth).expect(200);
  return (res.body.lines as Array<{ step: string; message: string }>).map((l) => `[${l.step}] ${l.message}`).join('\n');
}

/** The timeout for a beforeAll/afterAll around startSwarmSuite/stopSwarmSuite: the lock's bounded wait plus a start. */
export const SWARM_SUITE_HOOK_TIMEOUT_MS = LOCK_HOOK_TIMEOUT_MS;

/** What a test file that deploys onto the real Swarm starts with. */
export interface SwarmSuite {
  t: TestApp;
  run: SwarmTestRun;
  owner: Session & { organizationId: string };
  env: { projectId: string; environmentId: string };
}

/**
 * The beforeAll of such a file: takes the Docker lock (shared, waiting at most LOCK_WAIT_MS), starts a fresh Wharf,
 * labels its Swarm objects for cleanup, builds the busybox image if missing, and signs up an owner with a project and
 * its production environment. The hook must allow SWARM_SUITE_HOOK_TIMEOUT_MS (pass it to beforeAll/afterAll).
 */
export async function startSwarmSuite(lock: SwarmTestRun, extraEnv: Record<string, string> = {}): Promise<SwarmSuite> {
  await lock.start();
  const t = await startTestApp(extraEnv);
  const run = await swarmRunFor(t);
  await ensureBusyboxImage(run.docker);
  const owner = await setupOwner(t);
  const env = await productionEnvironment(t, owner, owner.organizationId);
  return { t, run, owner, env };
}

/** The afterAll: stops Wharf, removes what its Swarm run created, releases the Docker lock (even when a step fails). */
export async function stopSwarmSuite(lock: SwarmTestRun, s: { t?: TestApp; run?: SwarmTestRun }): Promise<void> {
  try {
    await s.t?.close();
  } finally {
    try {
      await s.run?.cleanup().catch(() => undefined);
    } finally {
      await lock.cleanup();
    }
  }
}
