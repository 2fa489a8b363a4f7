/**
 * A failing health check during an update: convergence reports it, and a Swarm rollback brings the previous version
 * back on the same fixed host port (stop-first, since start-first cannot converge with a host port on one node).
 */
import { DockerodeSwarmAdapter, type ServiceSpecInput } from '@wharf/orchestration';
import { ensureBusyboxImage } from '../../support/docker/busybox-image';
import { DOCKER_SOCKET } from '../../support/docker/host-tools';
import { httpdSpec } from '../../support/docker/specs';
import { SwarmTestRun, freePort, httpGetUntil } from '../../support/docker/swarm-test-run';

jest.setTimeout(60_000);

const run = new SwarmTestRun();
const swarm = new DockerodeSwarmAdapter({ socketPath: DOCKER_SOCKET });

beforeAll(async () => {
  await run.start();
  await ensureBusyboxImage(run.docker);
}, 300_000);

afterAll(async () => {
  await run.cleanup();
  expect(await run.leftovers()).toEqual({ services: 0, networks: 0 });
}, 60_000);

async function deployV1(port: number, overrides: Partial<ServiceSpecInput> = {}) {
  const v1 = httpdSpec({
    name: run.name('rb'),
    labels: run.labels({ 'wharf.deployment': 'v1' }),
    env: { BODY: 'version 1' },
    ports: [{ target: 8080, published: port, protocol: 'tcp', mode: 'host' }],
    updateConfig: { parallelism: 1, order: 'start-first', failureAction: 'pause', monitorMs: 1_000 },
    rollbackConfig: { parallelism: 1, order: 'start-first', failureAction: 'pause', monitorMs: 1_000 },
    ...overrides,
  });
  const created = await swarm.createService(v1);
  const caps = await swarm.hostCapabilities();
  if (caps.nodeCount === 1) {
    expect(created.adjustments.map((a) => a.code)).toContain('host-port-rollback-stop-first');
    if (v1.updateConfig!.order === 'start-first') expect(created.adjustments.map((a) => a.code)).toContain('host-port-update-stop-first');
    const svc: any = await run.docker.getService(created.id).inspect();
    expect(svc.Spec.UpdateConfig.Order).toBe('stop-first');
  }
  expect(await swarm.waitForConvergence(created.id, { timeoutMs: 30_000 })).toMatchObject({ ok: true, running: 1 });
  expect(await httpGetUntil(port, (r) => r.status === 200)).toMatchObject({ status: 200, body: 'version 1' });
  return { v1, id: created.id };
}

/** v2 serves "version 2" but its health check always fails. */
function brokenV2(v1: ServiceSpecInput): ServiceSpecInput {
  return {
    ...v1,
    labels: { ...v1.labels, 'wharf.deployment': 'v2' },
    env: { BODY: 'version 2' },
    healthcheck: { test: ['CMD', '/bin/sh', '-c', 'echo "health says no"; exit 1'], intervalMs: 300, timeoutMs: 1_000, retries: 2, startPeriodMs: 0 },
  };
}

test('failing health check → convergence reports it → rollback serves the old version again', async () => {
  const port = await freePort();
  const { v1, id } = await deployV1(port);

  const started = Date.now();
  await swarm.updateService(id, brokenV2(v1));
  const failed = await swarm.waitForConvergence(id, { timeoutMs: 30_000 });
  expect(failed.ok).toBe(false);
  if (failed.ok) return;
  expect(['unhealthy', 'update-paused']).toContain(failed.reason);
  expect(`${failed.message} ${failed.taskError} ${failed.healthOutput}`).toMatch(/unhealthy|health says no/);
  expect(failed.healthOutput).toMatch(/health says no/);
  console.log(`unhealthy update detected in ${Date.now() - started} ms: ${failed.message}`);

  await swarm.rollbackService(id);
  const back = await swarm.waitForConvergence(id, { timeoutMs: 30_000 });
  expect(back).toMatchObject({ ok: true, running: 1 });
  const svc = await swarm.inspectService(id);
  expect(svc!.labels['wharf.deployment']).toBe('v1');
  expect(await httpGetUntil(port, (r) => r.status === 200)).toMatchObject({ status: 200, body: 'version 1' });
  console.log(`failed update + rollback took ${Date.now() - started} ms`);
});

test('failureAction rollback: Swarm rolls back by itself and the wait says so', async () => {
  // Engine-assigned host port: with a fixed one, Swarm's own rollback can stall on a restarted task that waits for
  // the port (seen on 20.10); the fixed-port story is the manual rollback above.
  const v1 = httpdSpec({
    name: run.name('auto'),
    labels: run.labels({ 'wharf.deployment': 'v1' }),
    env: { BODY: 'version 1' },
    updateConfig: { parallelism: 1, order: 'start-first', failureAction: 'rollback', monitorMs: 1_000 },
    rollbackConfig: { parallelism: 1, order: 'start-first', failureAction: 'pause', monitorMs: 1_000 },
  });
  const { id } = await swarm.createService(v1);
  expect(await swarm.waitForConvergence(id, { timeoutMs: 30_000 })).toMatchObject({ ok: true, running: 1 });
  const servedBody = async () => {
    const task = (await swarm.serviceTasks(id)).find((t) => t.state === 'running' && t.desiredState === 'running')!;
    return httpGetUntil(task.ports[0].published, (r) => r.status === 200);
  };
  expect(await servedBody()).toMatchObject({ status: 200, body: 'version 1' });

  await swarm.updateService(id, brokenV2(v1));
  const result = await swarm.waitForConvergence(id, { timeoutMs: 30_000, maxFailedTasks: 100 });
  expect(result).toMatchObject({ ok: false, reason: 'rolled-back' });
  if (!result.ok) expect(`${result.message} ${result.healthOutput}`).toMatch(/health says no|unhealthy/);

  // Swarm finishes the rollback on its own (a rollback already under way when a wait starts is not a failure).
  const settled = await swarm.waitForConvergence(id, { timeoutMs: 30_000 });
  if (!settled.ok) console.log(settled.message);
  expect(settled).toMatchObject({ ok: true, running: 1 });
  expect((await swarm.inspectService(id))!.labels['wharf.deployment']).toBe('v1');
  expect(await servedBody()).toMatchObject({ status: 200, body: 'version 1' });
});

test('updateService with an unchanged spec and force: true replaces the tasks', async () => {
  const port = await freePort();
  const { v1, id } = await deployV1(port);
  const before = (await swarm.serviceTasks(id)).find((t) => t.state === 'running')!;
  await swarm.updateService(id, v1, { force: true });
  expect(await swarm.waitForConvergence(id, { timeoutMs: 30_000 })).toMatchObject({ ok: true, running: 1 });
  const after = (await swarm.serviceTasks(id)).find((t) => t.state === 'running' && t.desiredState === 'running')!;
  expect(after.id).not.toBe(before.id);
  expect(await httpGetUntil(port, (r) => r.status === 200)).toMatchObject({ status: 200, body: 'version 1' });
});
