import request from 'supertest';
import { Client } from 'pg';
import { getQueueToken } from '@nestjs/bull';
import type { Queue } from 'bull';
import { startTestApp, TestApp } from '../../support/app';
import { addMember, Session, setupOwner } from '../../support/api';
import { httpdSpec, productionEnvironment } from '../../support/deploy';
import { runJob } from '../../support/jobs';

describe('container safety policy, spec validation and deployment log retention (no Docker needed)', () => {
  let t: TestApp;
  let owner: Session & { organizationId: string };
  let env: { projectId: string; environmentId: string };
  beforeAll(async () => {
    t = await startTestApp();
    owner = await setupOwner(t);
    env = await productionEnvironment(t, owner, owner.organizationId);
  });
  afterAll(async () => {
    await t?.close();
  });

  const create = (s: Session, spec: Record<string, unknown>) => request(t.server).post(`/api/v1/environments/${env.environmentId}/applications`).set(s.auth).send({ name: 'app', spec });

  it('refuses bind mounts outside the host paths an instance admin allowed', async () => {
    const bind = httpdSpec(null, { mounts: [{ type: 'bind', source: '/srv/data', target: '/data', readOnly: true }] });
    const refused = await create(owner, bind).expect(400);
    expect(refused.body.errors).toEqual([expect.objectContaining({ pointer: '/spec/mounts/0/source', code: 'policy' })]);
    const admin = await addMember(t, owner, owner.organizationId, 'admin-policy@example.com', 'admin');
    // An organization admin cannot relax it (the local Swarm is shared); the instance admin (first user) can.
    await request(t.server).put(`/api/v1/organizations/${owner.organizationId}/container-policy`).set(admin.auth).send({ allowedBindPaths: ['/srv'] }).expect(403);
    await request(t.server).put(`/api/v1/organizations/${owner.organizationId}/container-policy`).set(owner.auth).send({ allowedBindPaths: ['/'] }).expect(400);
    await request(t.server).put(`/api/v1/organizations/${owner.organizationId}/container-policy`).set(owner.auth).send({ allowedBindPaths: ['/srv'] }).expect(200);
    await create(owner, bind).expect(201);
    await create(owner, httpdSpec(null, { mounts: [{ type: 'bind', source: '/srv/../etc', target: '/data', readOnly: true }] })).expect(400);
    await create(owner, httpdSpec(null, { mounts: [{ type: 'bind', source: '/srvx', target: '/data', readOnly: true }] })).expect(400);
  });

  it('validates every field and names it; the spec has no privileged, host network or capability options at all', async () => {
    const bad = await create(owner, {
      image: 'Bad Image!', replicas: -1, ports: [{ target: 0, protocol: 'sctp', mode: 'x' }], labels: { 'wharf.service': 'x' }, command: 'sh -c id',
      privileged: true, networkMode: 'host', capAdd: ['SYS_ADMIN'],
    }).expect(400);
    const pointers = (bad.body.errors as Array<{ pointer: string }>).map((e) => e.pointer);
    expect(pointers).toEqual(expect.arrayContaining(['/spec/image', '/spec/replicas', '/spec/ports/0/target', '/spec/ports/0/protocol', '/spec/ports/0/mode', '/spec/labels/wharf.service', '/spec/command', '/spec/privileged', '/spec/networkMode', '/spec/capAdd']));
    const dev = await addMember(t, owner, owner.organizationId, 'dev-spec@example.com', 'developer');
    const ok = await create(dev, httpdSpec(null)).expect(201);
    expect(ok.body.serviceName).toMatch(/^production-app(-\d+)?-[a-z0-9]{6}$/);
    const viewer = await addMember(t, owner, owner.organizationId, 'viewer-spec@example.com', 'viewer');
    await create(viewer, httpdSpec(null)).expect(403);
    await request(t.server).post(`/api/v1/applications/${ok.body.id}/deployments`).set(viewer.auth).send({}).expect(403);
  });

  it('purges deployment logs past the organization retention, keeping the deployments', async () => {
    const app = await create(owner, httpdSpec(null, { image: 'wharf-test/never:1' })).expect(201);
    await request(t.server).put(`/api/v1/applications/${app.body.id}/variables`).set(owner.auth).send({ variables: [{ key: 'X', value: '${{NOPE}}' }] }).expect(200);
    const d = await request(t.server).post(`/api/v1/applications/${app.body.id}/deployments`).set(owner.auth).send({}).expect(202);
    expect(d.body.status).toBe('failed');
    await request(t.server).patch(`/api/v1/organizations/${owner.organizationId}`).set(owner.auth).send({ deploymentLogRetentionDays: 7 }).expect(200);
    const c = new Client({ connectionString: t.databaseUrl });
    await c.connect();
    await c.query(`UPDATE deployments SET finished_at = now() - interval '8 days' WHERE id = $1`, [d.body.id]);
    const queue = t.app.get<Queue>(getQueueToken('maintenance'), { strict: false });
    const result = await runJob<{ deleted: number }>(queue, 'deployments.purge-logs', { v: 1 });
    expect(result.deleted).toBeGreaterThan(0);
    expect((await c.query('SELECT count(*)::int AS n FROM deployment_logs WHERE deployment_id = $1', [d.body.id])).rows[0].n).toBe(0);
    await c.end();
    await request(t.server).get(`/api/v1/deployments/${d.body.id}`).set(owner.auth).expect(200);
  });
});

describe('servers and specs that cannot converge', () => {
  let t: TestApp;
  let owner: Session & { organizationId: string };
  beforeAll(async () => {
    t = await startTestApp();
    owner = await setupOwner(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('refuses several replicas on one fixed host port of a single node, and lists the local server with what the worker saw', async () => {
    const env = await productionEnvironment(t, owner, owner.organizationId, 'Conv');
    const bad = await request(t.server)
      .post(`/api/v1/environments/${env.environmentId}/applications`)
      .set(owner.auth)
      .send({ name: 'two', spec: httpdSpec(18080, { replicas: 2 }) })
      .expect(400);
    expect(bad.body.errors[0]).toMatchObject({ pointer: '/spec/ports/0/published', code: 'cannot-converge' });
    expect(bad.body.errors[0].detail).toMatch(/2 replicas cannot all publish host port 18080/);
    const servers = await request(t.server).get('/api/v1/servers').set(owner.auth).expect(200);
    expect(servers.body).toEqual([expect.objectContaining({ kind: 'local', organizationId: null })]);
    await request(t.server).get('/api/v1/servers').expect(401);
  });
});
