import request from 'supertest';
import { volumeEngineName } from '@wharf/applications';
import type { TestApp } from '../../support/app';
import type { Session } from '../../support/api';
import { freePort, httpGetUntil, SwarmTestRun } from '../../support/docker/swarm-test-run';
import { httpdSpec, logText, startSwarmSuite, stopSwarmSuite, waitForAppStatus, waitForDeployment, waitForStatus } from '../../support/deploy';

jest.setTimeout(240_000);

describe('deploying applications from images onto the real Swarm', () => {
  let t: TestApp;
  let owner: Session & { organizationId: string };
  let run: SwarmTestRun;
  let env: { projectId: string; environmentId: string };
  const lock = new SwarmTestRun();

  beforeAll(async () => {
    ({ t, run, owner, env } = await startSwarmSuite(lock));
    await request(t.server).put(`/api/v1/projects/${env.projectId}/variables`).set(owner.auth).send({ variables: [{ key: 'GREETING', value: 'hello', secret: true }] }).expect(200);
    await request(t.server).put(`/api/v1/environments/${env.environmentId}/variables`).set(owner.auth).send({ variables: [{ key: 'STAGE', value: 'production' }] }).expect(200);
  });

  afterAll(async () => {
    await stopSwarmSuite(lock, { t, run });
  });

  async function createApp(name: string, spec: Record<string, unknown>, vars: Array<{ key: string; value: string; secret?: boolean }> = []): Promise<string> {
    const res = await request(t.server).post(`/api/v1/environments/${env.environmentId}/applications`).set(owner.auth).send({ name, spec }).expect(201);
    if (vars.length) await request(t.server).put(`/api/v1/applications/${res.body.id}/variables`).set(owner.auth).send({ variables: vars }).expect(200);
    return res.body.id;
  }

  async function deploy(appId: string, kind: 'deploy' | 'redeploy' = 'deploy'): Promise<string> {
    const res = await request(t.server).post(`/api/v1/applications/${appId}/deployments`).set(owner.auth).send({ kind }).expect(202);
    expect(res.body.status).toBe('queued');
    return res.body.id;
  }

  it('deploys, resolves references, streams the log, reports status; redeploys and rolls back', async () => {
    const port = await freePort();
    const appId = await createApp('web', httpdSpec(port), [{ key: 'BODY', value: '${{project.GREETING}} from ${{environment.STAGE}} v1' }]);
    const d1 = await deploy(appId);

    // Live log over SSE, read to the end.
    const sse = await request(t.server).get(`/api/v1/deployments/${d1}/logs?follow=true`).set(owner.auth).buffer(true).parse((res, cb) => {
      let data = '';
      res.on('data', (c: Buffer) => (data += c.toString()));
      res.on('end', () => cb(null, data));
    });
    expect(sse.headers['content-type']).toMatch(/text\/event-stream/);
    const text = sse.body as string;
    for (const step of ['network', 'pull', 'service', 'wait', 'finish']) expect(text).toContain(`"step":"${step}"`);
    expect(text).toMatch(/event: end\ndata: \{"status":"succeeded"\}/);

    const done = await waitForDeployment(t, owner, d1);
    expect(done.status).toBe('succeeded');
    expect(done.imageDigest).toMatch(/^sha256:|@sha256:/);
    expect((await httpGetUntil(port, (r) => r.status === 200)).body).toBe('hello from production v1');

    // The worker records the runtime state just after the deployment ends: wait for it.
    const status = await waitForAppStatus(t, owner, appId, (x) => x.state === 'running' && x.running === 1);
    expect(status).toMatchObject({ state: 'running', running: 1, desired: 1 });
    expect(status.tasks[0]).toMatchObject({ state: 'running' });
    expect(status.server.ipvs).toBe(false);

    // Change a variable and redeploy; then roll back to the first deployment.
    await request(t.server).put(`/api/v1/applications/${appId}/variables`).set(owner.auth).send({ variables: [{ key: 'BODY', value: 'v2' }] }).expect(200);
    const d2 = await deploy(appId);
    expect((await waitForDeployment(t, owner, d2)).status).toBe('succeeded');
    expect((await httpGetUntil(port, (r) => r.body === 'v2')).body).toBe('v2');
    const rb = await request(t.server).post(`/api/v1/deployments/${d1}/rollback`).set(owner.auth).expect(202);
    expect(rb.body).toMatchObject({ kind: 'rollback', rollbackOf: d1, imageDigest: done.imageDigest });
    expect((await waitForDeployment(t, owner, rb.body.id)).status).toBe('succeeded');
    expect((await httpGetUntil(port, (r) => r.body === 'hello from production v1')).body).toBe('hello from production v1');

    const history = await request(t.server).get(`/api/v1/applications/${appId}/deployments`).set(owner.auth).expect(200);
    expect(history.body.items.map((d: { id: string }) => d.id)).toEqual([rb.body.id, d2, d1]);
    expect(history.body.items[0].requestedBy).toMatchObject({ type: 'user', name: owner.email });
  });

  it('runs two replicas, each reachable on its own host port', async () => {
    const appId = await createApp('pair', httpdSpec(null, { replicas: 2 }), [{ key: 'BODY', value: 'pair' }]);
    expect((await waitForDeployment(t, owner, await deploy(appId))).status).toBe('succeeded');
    const status = await waitForAppStatus(t, owner, appId, (x) => x.state === 'running' && x.running === 2);
    expect(status).toMatchObject({ state: 'running', running: 2, desired: 2 });
    const ports = status.tasks.filter((x: { state: string }) => x.state === 'running').map((x: { ports: Array<{ published: number }> }) => x.ports[0].published);
    expect(new Set(ports).size).toBe(2);
    for (const p of ports) expect((await httpGetUntil(p, (r) => r.status === 200)).body).toBe('pair');
  });

  it('fails cleanly: unknown reference, missing image, a container that exits at once', async () => {
    const unknown = await createApp('unknown-ref', httpdSpec(null), [{ key: 'BODY', value: '${{project.NOPE}}' }]);
    const u = await request(t.server).post(`/api/v1/applications/${unknown}/deployments`).set(owner.auth).send({}).expect(202);
    expect(u.body).toMatchObject({ status: 'failed', error: 'Unknown variable reference ${{project.NOPE}}' });

    const missing = await createApp('missing', httpdSpec(null, { image: '127.0.0.1:1/nope/missing:1' }));
    const m = await waitForDeployment(t, owner, await deploy(missing));
    expect(m.status).toBe('failed');
    expect(m.error).toMatch(/could not be pulled/);

    const exits = await createApp('exits', httpdSpec(null, { command: ['/bin/false'], healthcheck: null, restartPolicy: { condition: 'none' } }));
    const e = await waitForDeployment(t, owner, await deploy(exits));
    expect(e.status).toBe('failed');
    expect(e.error).toMatch(/exit code 1/);
  });

  it('rolls back automatically when the new version fails its health check; the old one keeps serving', async () => {
    // Engine-assigned host ports: Swarm's own rollback with a fixed host port can stall on this single node (see the
    // orchestration notes); the fixed-port case is covered by the cancel test, which restores the spec explicitly.
    const appId = await createApp('health', httpdSpec(null), [{ key: 'BODY', value: 'stable' }]);
    expect((await waitForDeployment(t, owner, await deploy(appId))).status).toBe('succeeded');
    await request(t.server)
      .patch(`/api/v1/applications/${appId}`)
      .set(owner.auth)
      .send({ spec: { healthcheck: { test: ['CMD', 'wget', '-q', '-O', '/dev/null', 'http://127.0.0.1:8080/missing'], intervalMs: 1000, timeoutMs: 1000, retries: 2, startPeriodMs: 0 }, deployTimeoutMs: 40_000 } })
      .expect(200);
    await request(t.server).put(`/api/v1/applications/${appId}/variables`).set(owner.auth).send({ variables: [{ key: 'BODY', value: 'broken' }] }).expect(200);
    const bad = await waitForDeployment(t, owner, await deploy(appId));
    expect(bad.status).toBe('failed');
    expect(await logText(t, owner, bad.id as string)).toMatch(/roll/i);
    const audit = await request(t.server).get(`/api/v1/organizations/${owner.organizationId}/audit-events`).query({ action: 'deployment.*', subjectId: bad.id, limit: 50 }).set(owner.auth).expect(200);
    expect(audit.body.items.map((e: { action: string }) => e.action)).toEqual(expect.arrayContaining(['deployment.queued', 'deployment.started', 'deployment.failed', 'deployment.rolled-back']));
    // The previous version runs again: its task answers with the old body.
    const deadline = Date.now() + 45_000;
    let body = '';
    while (body !== 'stable' && Date.now() < deadline) {
      const status = await request(t.server).get(`/api/v1/applications/${appId}/status`).set(owner.auth).expect(200);
      for (const task of status.body.tasks.filter((x: { state: string }) => x.state === 'running')) {
        const r = await httpGetUntil(task.ports[0].published, () => true, 1000);
        if (r.body === 'stable') body = 'stable';
      }
      if (body !== 'stable') await new Promise((r) => setTimeout(r, 1000));
    }
    expect(body).toBe('stable');
  });

  it('cancels a deployment while it waits and restores the previous spec', async () => {
    const port = await freePort();
    const appId = await createApp('cancel', httpdSpec(port), [{ key: 'BODY', value: 'before' }]);
    expect((await waitForDeployment(t, owner, await deploy(appId))).status).toBe('succeeded');
    await request(t.server)
      .patch(`/api/v1/applications/${appId}`)
      .set(owner.auth)
      .send({ spec: { healthcheck: { test: ['CMD', '/bin/false'], intervalMs: 1000, timeoutMs: 1000, retries: 100, startPeriodMs: 0 } } })
      .expect(200);
    const d = await deploy(appId);
    await waitForStatus(t, owner, d, 'running');
    const deadline = Date.now() + 20_000;
    while (!(await logText(t, owner, d)).includes('[wait]') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    await request(t.server).post(`/api/v1/deployments/${d}/cancel`).set(owner.auth).expect(202);
    const c = await waitForDeployment(t, owner, d);
    expect(c.status).toBe('cancelled');
    const audit = await request(t.server).get(`/api/v1/organizations/${owner.organizationId}/audit-events`).query({ subjectId: d, limit: 50 }).set(owner.auth).expect(200);
    expect(audit.body.items.map((e: { action: string }) => e.action)).toEqual(expect.arrayContaining(['deployment.queued', 'deployment.cancel-requested', 'deployment.cancelled', 'deployment.rolled-back']));
    expect((await httpGetUntil(port, (r) => r.body === 'before', 30_000)).body).toBe('before');
    await request(t.server).post(`/api/v1/deployments/${d}/cancel`).set(owner.auth).expect(409);
  });

  it('stops, starts and deletes an application', async () => {
    const port = await freePort();
    const appId = await createApp('ops', httpdSpec(port), [{ key: 'BODY', value: 'ops' }]);
    expect((await waitForDeployment(t, owner, await deploy(appId))).status).toBe('succeeded');
    const stop = await request(t.server).post(`/api/v1/applications/${appId}/stop`).set(owner.auth).expect(202);
    expect((await waitForDeployment(t, owner, stop.body.id)).status).toBe('succeeded');
    expect((await waitForAppStatus(t, owner, appId, (x) => x.state === 'stopped')).state).toBe('stopped');
    const start = await request(t.server).post(`/api/v1/applications/${appId}/start`).set(owner.auth).expect(202);
    expect((await waitForDeployment(t, owner, start.body.id)).status).toBe('succeeded');
    expect((await httpGetUntil(port, (r) => r.body === 'ops')).body).toBe('ops');
    await request(t.server).delete(`/api/v1/applications/${appId}`).set(owner.auth).expect(202);
    const deadline = Date.now() + 20_000;
    let code = 200;
    while (code !== 404 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 300));
      code = (await request(t.server).get(`/api/v1/applications/${appId}`).set(owner.auth)).status;
    }
    expect(code).toBe(404);
    const services = await run.docker.listServices({ filters: JSON.stringify({ label: [`wharf.service=${appId}`] }) } as object);
    expect(services).toHaveLength(0);
  });

  it('removes named volumes on delete only when asked', async () => {
    const suffix = Math.random().toString(36).slice(2, 8);
    const waitGone = async (appId: string) => {
      const deadline = Date.now() + 30_000;
      while ((await request(t.server).get(`/api/v1/applications/${appId}`).set(owner.auth)).status !== 404 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 300));
    };
    // Named volumes are Wharf's: the engine name is derived from the install, the environment and the typed name.
    const volumeExists = (name: string) => run.docker.getVolume(volumeEngineName(run.install, env.environmentId, name)).inspect().then(() => true, () => false);
    const ids: Record<string, string> = {};
    for (const [key, volume] of [['keep', `wt-keep-${suffix}`], ['drop', `wt-drop-${suffix}`]] as const) {
      ids[key] = await createApp(`vol-${key}`, httpdSpec(null, { mounts: [{ type: 'volume', source: volume, target: '/data', readOnly: false }] }), [{ key: 'BODY', value: key }]);
      expect((await waitForDeployment(t, owner, await deploy(ids[key]))).status).toBe('succeeded');
      expect(await volumeExists(volume)).toBe(true);
    }
    await request(t.server).delete(`/api/v1/applications/${ids.keep}`).set(owner.auth).expect(202);
    await request(t.server).delete(`/api/v1/applications/${ids.drop}`).query({ removeVolumes: 'true' }).set(owner.auth).expect(202);
    await waitGone(ids.keep);
    await waitGone(ids.drop);
    expect(await volumeExists(`wt-drop-${suffix}`)).toBe(false);
    expect(await volumeExists(`wt-keep-${suffix}`)).toBe(true);
    const audit = await request(t.server).get(`/api/v1/organizations/${owner.organizationId}/audit-events`).query({ action: 'application.deleted', subjectId: ids.drop }).set(owner.auth).expect(200);
    expect(audit.body.items[0].changes.volumesRemoved).toEqual([`wt-drop-${suffix}`]);
    // Leave nothing behind (the kept volume is this test's own).
    await run.removeVolume(volumeEngineName(run.install, env.environmentId, `wt-keep-${suffix}`)).catch(() => undefined);
  });
});
