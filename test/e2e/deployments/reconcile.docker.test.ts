import request from 'supertest';
import { getQueueToken } from '@nestjs/bull';
import type { Queue } from 'bull';
import { startTestApp, TestApp } from '../../support/app';
import { Session, setupOwner } from '../../support/api';
import { BUSYBOX_IMAGE, ensureBusyboxImage } from '../../support/docker/busybox-image';
import { SwarmTestRun } from '../../support/docker/swarm-test-run';
import { httpdSpec, productionEnvironment, SWARM_SUITE_HOOK_TIMEOUT_MS, swarmRunFor, waitForDeployment } from '../../support/deploy';
import { runJob } from '../../support/jobs';

jest.setTimeout(120_000);

describe('the reconciler reports drift and never deletes what it did not create', () => {
  let t: TestApp;
  let owner: Session & { organizationId: string };
  let run: SwarmTestRun;
  const lock = new SwarmTestRun();

  beforeAll(async () => {
    await lock.start();
    t = await startTestApp();
    run = await swarmRunFor(t);
    await ensureBusyboxImage(run.docker);
    owner = await setupOwner(t);
  }, SWARM_SUITE_HOOK_TIMEOUT_MS);
  afterAll(async () => {
    await t?.close();
    await run?.cleanup().catch(() => undefined);
    await lock.cleanup();
  }, SWARM_SUITE_HOOK_TIMEOUT_MS);

  const reconcile = async () => {
    const queue = t.app.get<Queue>(getQueueToken('maintenance'), { strict: false });
    return runJob(queue, 'runtime.reconcile', { v: 1 });
  };
  const status = async (id: string) => (await request(t.server).get(`/api/v1/applications/${id}/status`).set(owner.auth).expect(200)).body;

  it('detects replicas changed outside Wharf and a service removed outside Wharf; leaves unknown services alone', async () => {
    const env = await productionEnvironment(t, owner, owner.organizationId);
    const app = await request(t.server).post(`/api/v1/environments/${env.environmentId}/applications`).set(owner.auth).send({ name: 'drift', spec: httpdSpec(null) }).expect(201);
    await request(t.server).put(`/api/v1/applications/${app.body.id}/variables`).set(owner.auth).send({ variables: [{ key: 'BODY', value: 'x' }] }).expect(200);
    const d = await waitForDeployment(t, owner, (await request(t.server).post(`/api/v1/applications/${app.body.id}/deployments`).set(owner.auth).send({}).expect(202)).body.id);
    expect(d.status).toBe('succeeded');
    await reconcile();
    expect(await status(app.body.id)).toMatchObject({ state: 'running', drift: [] });

    // Someone scales the service by hand.
    const service = run.docker.getService(app.body.serviceName);
    const info = await service.inspect();
    await service.update({ version: info.Version.Index, ...info.Spec, Mode: { Replicated: { Replicas: 2 } } });
    await reconcile();
    expect((await status(app.body.id)).drift).toEqual([expect.objectContaining({ code: 'replicas-changed' })]);

    // A service carrying this install's label that the database does not know is reported, never removed.
    const stranger = await run.docker.createService({
      Name: run.name('stranger'),
      Labels: { 'wharf.install': run.install },
      TaskTemplate: { ContainerSpec: { Image: BUSYBOX_IMAGE, Command: ['/bin/sleep', '600'] } },
      Mode: { Replicated: { Replicas: 0 } },
    } as object);
    const result = await reconcile();
    expect(result.orphans).toBe(1);
    expect(await run.docker.getService(stranger.id).inspect()).toBeTruthy();

    // Someone removes the application's service.
    await service.remove();
    await reconcile();
    expect(await status(app.body.id)).toMatchObject({ state: 'missing', drift: [expect.objectContaining({ code: 'service-missing' })] });
  });

  it('an application never deployed gets no runtime state (the screens say "not deployed", not "missing")', async () => {
    const env = await productionEnvironment(t, owner, owner.organizationId, 'Never');
    const app = await request(t.server).post(`/api/v1/environments/${env.environmentId}/applications`).set(owner.auth).send({ name: 'never', spec: httpdSpec(null) }).expect(201);
    await reconcile();
    expect((await request(t.server).get(`/api/v1/applications/${app.body.id}`).set(owner.auth).expect(200)).body.runtime).toBeNull();
    expect(await status(app.body.id)).toMatchObject({ state: 'unknown', configuration: null, drift: [] });
  });
});
