import request from 'supertest';
import { until } from '../../support/until';
import type Redis from 'ioredis';
import { REDIS } from '@wharf/core';
import { get as httpGetRaw } from 'node:http';
import type { TestApp } from '../../support/app';
import type { Session } from '../../support/api';
import { BUSYBOX_IMAGE } from '../../support/docker/busybox-image';
import { startLocalRegistry, LocalRegistry } from '../../support/docker/local-registry';
import { SwarmTestRun } from '../../support/docker/swarm-test-run';
import { httpdSpec, startSwarmSuite, stopSwarmSuite, SWARM_SUITE_HOOK_TIMEOUT_MS, waitForDeployment } from '../../support/deploy';

jest.setTimeout(180_000);

describe('private registries and runtime logs', () => {
  let t: TestApp;
  let owner: Session & { organizationId: string };
  let run: SwarmTestRun;
  let registry: LocalRegistry;
  let env: { projectId: string; environmentId: string };
  const lock = new SwarmTestRun();

  beforeAll(async () => {
    ({ t, run, owner, env } = await startSwarmSuite(lock));
    registry = await startLocalRegistry();
  }, SWARM_SUITE_HOOK_TIMEOUT_MS);

  afterAll(async () => {
    await registry?.stop();
    await stopSwarmSuite(lock, { t, run });
  }, SWARM_SUITE_HOOK_TIMEOUT_MS);

  it('tests registry credentials through the worker, never returns the password, and pulls a private image with them', async () => {
    const bad = await request(t.server).post(`/api/v1/organizations/${owner.organizationId}/registries`).set(owner.auth).send({ name: 'bad', host: registry.host, username: registry.username, password: 'wrong-password' }).expect(201);
    expect((await request(t.server).post(`/api/v1/registries/${bad.body.id}/test`).set(owner.auth).expect(200)).body.ok).toBe(false);
    const good = await request(t.server).post(`/api/v1/organizations/${owner.organizationId}/registries`).set(owner.auth).send({ name: 'local', host: `http://${registry.host}/`, username: registry.username, password: registry.password }).expect(201);
    expect(good.body).toMatchObject({ host: registry.host, passwordSet: true });
    expect(JSON.stringify(good.body)).not.toContain(registry.password);
    expect((await request(t.server).post(`/api/v1/registries/${good.body.id}/test`).set(owner.auth).expect(200)).body.ok).toBe(true);

    const privateRef = await registry.push(run.docker, BUSYBOX_IMAGE, `${run.install}/web:1`);
    // Without credentials the pull fails; with the registry it succeeds and the digest is the registry's.
    const noAuth = await request(t.server).post(`/api/v1/environments/${env.environmentId}/applications`).set(owner.auth).send({ name: 'no-auth', spec: httpdSpec(null, { image: privateRef }) }).expect(201);
    await run.docker.getImage(privateRef).remove({ force: true }).catch(() => undefined);
    const failed = await waitForDeployment(t, owner, (await request(t.server).post(`/api/v1/applications/${noAuth.body.id}/deployments`).set(owner.auth).send({}).expect(202)).body.id);
    expect(failed.status).toBe('failed');

    const app = await request(t.server).post(`/api/v1/environments/${env.environmentId}/applications`).set(owner.auth).send({ name: 'private', spec: httpdSpec(null, { image: privateRef, registryId: good.body.id }) }).expect(201);
    await request(t.server).put(`/api/v1/applications/${app.body.id}/variables`).set(owner.auth).send({ variables: [{ key: 'BODY', value: 'private' }] }).expect(200);
    const d = await waitForDeployment(t, owner, (await request(t.server).post(`/api/v1/applications/${app.body.id}/deployments`).set(owner.auth).send({}).expect(202)).body.id);
    expect(d.status).toBe('succeeded');
    expect(d.imageDigest).toMatch(new RegExp(`^${registry.host}/${run.install}/web@sha256:[0-9a-f]{64}$`));
    const log = await request(t.server).get(`/api/v1/deployments/${d.id}/logs`).set(owner.auth).expect(200);
    expect(JSON.stringify(log.body)).not.toContain(registry.password);
  });

  it('serves runtime logs with stdout and stderr separated, as JSON and as a live stream', async () => {
    const app = await request(t.server)
      .post(`/api/v1/environments/${env.environmentId}/applications`)
      .set(owner.auth)
      .send({ name: 'talker', spec: { image: BUSYBOX_IMAGE, command: ['/bin/sh', '-c', 'echo to-stdout; echo to-stderr >&2; while true; do echo tick; sleep 1; done'], deployTimeoutMs: 30000 } })
      .expect(201);
    expect((await waitForDeployment(t, owner, (await request(t.server).post(`/api/v1/applications/${app.body.id}/deployments`).set(owner.auth).send({}).expect(202)).body.id)).status).toBe('succeeded');
    // The container's first lines reach the engine's log a moment after the deployment ends: poll for them.
    const deadline = Date.now() + 20_000;
    let lines: Array<{ stream: string; line: string }> = [];
    for (;;) {
      const logs = await request(t.server).get(`/api/v1/applications/${app.body.id}/logs?tail=50`).set(owner.auth).expect(200);
      lines = logs.body.lines;
      if ((lines.some((l) => l.stream === 'stdout' && l.line === 'to-stdout') && lines.some((l) => l.stream === 'stderr' && l.line === 'to-stderr')) || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(lines).toEqual(expect.arrayContaining([expect.objectContaining({ stream: 'stdout', line: 'to-stdout' }), expect.objectContaining({ stream: 'stderr', line: 'to-stderr' })]));

    const sse = await new Promise<string>((resolve, reject) => {
      let data = '';
      const req = httpGetRaw(`${t.baseUrl}/api/v1/applications/${app.body.id}/logs?follow=true&tail=1`, { headers: owner.auth }, (res) => {
        res.on('data', (c: Buffer) => {
          data += c.toString();
          if ((data.match(/"line":"tick"/g) ?? []).length >= 2) {
            resolve(data);
            req.destroy();
          }
        });
        res.on('end', () => resolve(data));
      });
      req.on('error', (e) => (data ? resolve(data) : reject(e)));
    });
    expect(sse).toMatch(/event: stdout\ndata: \{"stream":"stdout","line":"tick"/);
    // The client went away: the API ends its side of the stream (its Redis connection and heartbeat go), so the
    // request's heartbeat key expires and the worker stops too. Before, the heartbeat ran on for ever.
    const redis = t.app.get<Redis>(REDIS);
    const heartbeats = () => redis.keys(`${t.env.WHARF_QUEUE_PREFIX}:rpc:alive:*`);
    await until('the stream heartbeat to stop', async () => (await heartbeats()).length === 0, 20_000).catch(() => undefined);
    expect(await heartbeats()).toEqual([]);
    await request(t.server).get(`/api/v1/applications/${app.body.id}/logs?tail=abc`).set(owner.auth).expect(400);
  });

  // Last in the file: it shuts the application down.
  it('ends the runtime-log and deployment-log streams still following when the application shuts down, so the shutdown completes', async () => {
    const apps = await request(t.server).get(`/api/v1/environments/${env.environmentId}/applications`).set(owner.auth).expect(200);
    const talker = (apps.body.items as Array<{ id: string; name: string }>).find((a) => a.name === 'talker');
    expect(talker).toBeDefined();
    // A deployment that stays running: its health check has a start period far longer than the test.
    const slow = await request(t.server)
      .post(`/api/v1/environments/${env.environmentId}/applications`)
      .set(owner.auth)
      .send({ name: 'slow-start', spec: httpdSpec(null, { healthcheck: { test: ['CMD', 'false'], intervalMs: 1000, timeoutMs: 1000, retries: 3, startPeriodMs: 600_000 }, deployTimeoutMs: 600_000 }) })
      .expect(201);
    const slowDeployment = (await request(t.server).post(`/api/v1/applications/${slow.body.id}/deployments`).set(owner.auth).send({}).expect(202)).body.id as string;
    await until('the slow deployment to run', async () => (await request(t.server).get(`/api/v1/deployments/${slowDeployment}`).set(owner.auth)).body.status === 'running', 60_000);

    const follow = (path: string) => {
      const s = { data: '', ended: false, req: null as ReturnType<typeof httpGetRaw> | null };
      s.req = httpGetRaw(`${t.baseUrl}${path}`, { headers: owner.auth }, (res) => {
        res.on('data', (c: Buffer) => (s.data += c.toString()));
        res.on('end', () => (s.ended = true));
        res.on('error', () => (s.ended = true));
      });
      s.req.on('error', () => (s.ended = true));
      return s;
    };
    const runtime = follow(`/api/v1/applications/${talker!.id}/logs?follow=true&tail=1`);
    const deployment = follow(`/api/v1/deployments/${slowDeployment}/logs?follow=true`);
    await until('the runtime stream to deliver a line', async () => /"line":"tick"/.test(runtime.data), 20_000);
    await until('the deployment stream to deliver its log so far', async () => /event: log/.test(deployment.data), 20_000);
    expect(runtime.ended || deployment.ended).toBe(false);
    const app = t;
    t = undefined as unknown as TestApp; // afterAll must not close it a second time
    const closed = app.close().then(() => 'closed');
    const outcome = await Promise.race([closed, new Promise((r) => setTimeout(() => r('still open after 30 s'), 30_000).unref())]);
    expect(outcome).toBe('closed');
    await until('the clients to see both streams end', async () => runtime.ended && deployment.ended, 5_000);
    runtime.req?.destroy();
    deployment.req?.destroy();
  });
});
