import request from 'supertest';
import { startTestApp, TestApp } from '../../support/app';
import { addMember, createOrganization, Session, setupOwner } from '../../support/api';
import { createProject, CreatedProject, snapshot, withDb } from './helpers';


// Boots the real app and makes many requests: allow for a slow CI machine.
jest.setTimeout(60_000);
describe('projects: who may see and change what', () => {
  let t: TestApp;
  let owner: Session & { organizationId: string };
  let orgId: string;
  let alpha: CreatedProject;
  let beta: CreatedProject;

  beforeAll(async () => {
    t = await startTestApp();
    owner = await setupOwner(t);
    orgId = owner.organizationId;
    alpha = await createProject(t, owner, orgId, 'Alpha');
    beta = await createProject(t, owner, orgId, 'Beta');
    await request(t.server).put(`/api/v1/projects/${beta.id}/variables`).set(owner.auth).send({ variables: [{ key: 'PLAIN', value: 'p' }, { key: 'TOKEN', value: 'beta-secret', secret: true }] }).expect(200);
    await request(t.server).put(`/api/v1/environments/${beta.environments[0].id}/variables`).set(owner.auth).send({ key: 'ENV_TOKEN', value: 'beta-env-secret', secret: true }).expect(200);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('a member limited to one project sees only that project, and 404 on the other', async () => {
    const limited = await addMember(t, owner, orgId, 'limited@example.com', 'developer', { projectIds: [alpha.id] });
    const list = await request(t.server).get(`/api/v1/organizations/${orgId}/projects`).set(limited.auth).expect(200);
    expect(list.body.items.map((p: { id: string }) => p.id)).toEqual([alpha.id]);
    await request(t.server).get(`/api/v1/projects/${alpha.id}`).set(limited.auth).expect(200);
    await request(t.server).get(`/api/v1/projects/${alpha.id}/environments`).set(limited.auth).expect(200);

    const before = await snapshot(t);
    await request(t.server).get(`/api/v1/projects/${beta.id}`).set(limited.auth).expect(404);
    await request(t.server).patch(`/api/v1/projects/${beta.id}`).set(limited.auth).send({ name: 'x' }).expect(404);
    await request(t.server).delete(`/api/v1/projects/${beta.id}`).set(limited.auth).set('X-Confirm', 'beta').expect(404);
    await request(t.server).get(`/api/v1/projects/${beta.id}/environments`).set(limited.auth).expect(404);
    await request(t.server).post(`/api/v1/projects/${beta.id}/environments`).set(limited.auth).send({ name: 'x' }).expect(404);
    await request(t.server).get(`/api/v1/environments/${beta.environments[0].id}`).set(limited.auth).expect(404);
    await request(t.server).get(`/api/v1/projects/${beta.id}/variables`).set(limited.auth).expect(404);
    await request(t.server).put(`/api/v1/projects/${beta.id}/variables`).set(limited.auth).send({ key: 'X', value: 'y' }).expect(404);
    await request(t.server).post(`/api/v1/projects/${beta.id}/variables/TOKEN/reveal`).set(limited.auth).expect(404);
    await request(t.server).post(`/api/v1/environments/${beta.environments[0].id}/variables/ENV_TOKEN/reveal`).set(limited.auth).expect(404);
    expect(await snapshot(t)).toEqual(before);

    // A project-limited member cannot create new projects (they could not be limited to them).
    const create = await request(t.server).post(`/api/v1/organizations/${orgId}/projects`).set(limited.auth).send({ name: 'Mine' }).expect(403);
    expect(create.body.code).toBe('forbidden');
    // But works inside the granted project.
    await request(t.server).post(`/api/v1/projects/${alpha.id}/environments`).set(limited.auth).send({ name: 'Preview' }).expect(201);
  });

  it('a developer can create and update; a viewer cannot (403) and never sees secret values', async () => {
    const dev = await addMember(t, owner, orgId, 'dev@example.com', 'developer');
    const viewer = await addMember(t, owner, orgId, 'viewer@example.com', 'viewer');

    const p = await createProject(t, dev, orgId, 'Dev Project');
    await request(t.server).patch(`/api/v1/projects/${p.id}`).set(dev.auth).send({ description: 'by dev' }).expect(200);
    const env = await request(t.server).post(`/api/v1/projects/${p.id}/environments`).set(dev.auth).send({ name: 'Staging' }).expect(201);
    await request(t.server).put(`/api/v1/environments/${env.body.id}/variables`).set(dev.auth).send({ key: 'DB_PASSWORD', value: 'dev-secret', secret: true }).expect(200);
    const revealed = await request(t.server).post(`/api/v1/environments/${env.body.id}/variables/DB_PASSWORD/reveal`).set(dev.auth).expect(200);
    expect(revealed.body).toEqual({ key: 'DB_PASSWORD', value: 'dev-secret', secret: true });

    // The viewer reads …
    const list = await request(t.server).get(`/api/v1/organizations/${orgId}/projects`).set(viewer.auth).expect(200);
    expect(list.body.items.map((x: { id: string }) => x.id)).toEqual(expect.arrayContaining([alpha.id, beta.id, p.id]));
    const vars = await request(t.server).get(`/api/v1/projects/${beta.id}/variables`).set(viewer.auth).expect(200);
    expect(vars.body.items).toEqual([
      expect.objectContaining({ key: 'PLAIN', value: 'p', secret: false }),
      expect.objectContaining({ key: 'TOKEN', value: null, secret: true, valueSet: true }),
    ]);
    const envVars = await request(t.server).get(`/api/v1/environments/${env.body.id}/variables`).set(viewer.auth).expect(200);
    expect(envVars.body.items).toEqual([expect.objectContaining({ key: 'DB_PASSWORD', value: null, secret: true })]);
    expect(JSON.stringify(vars.body) + JSON.stringify(envVars.body)).not.toMatch(/beta-secret|dev-secret/);

    // … but changes nothing.
    const before = await snapshot(t);
    const denied = await request(t.server).post(`/api/v1/organizations/${orgId}/projects`).set(viewer.auth).send({ name: 'Nope' }).expect(403);
    expect(denied.body.code).toBe('forbidden');
    await request(t.server).patch(`/api/v1/projects/${p.id}`).set(viewer.auth).send({ name: 'Nope' }).expect(403);
    await request(t.server).delete(`/api/v1/projects/${p.id}`).set(viewer.auth).set('X-Confirm', p.slug).expect(403);
    await request(t.server).post(`/api/v1/projects/${p.id}/environments`).set(viewer.auth).send({ name: 'Nope' }).expect(403);
    await request(t.server).patch(`/api/v1/environments/${env.body.id}`).set(viewer.auth).send({ name: 'Nope' }).expect(403);
    await request(t.server).delete(`/api/v1/environments/${env.body.id}`).set(viewer.auth).expect(403);
    await request(t.server).put(`/api/v1/projects/${p.id}/variables`).set(viewer.auth).send({ key: 'NEW', value: 'v' }).expect(403);
    await request(t.server).put(`/api/v1/environments/${env.body.id}/variables`).set(viewer.auth).send({ key: 'DB_PASSWORD', value: 'overwritten', secret: true }).expect(403);
    await request(t.server).delete(`/api/v1/environments/${env.body.id}/variables/DB_PASSWORD`).set(viewer.auth).expect(403);
    const reveal = await request(t.server).post(`/api/v1/environments/${env.body.id}/variables/DB_PASSWORD/reveal`).set(viewer.auth).expect(403);
    expect(JSON.stringify(reveal.body)).not.toContain('dev-secret');
    expect(await snapshot(t)).toEqual(before);

    // Denials are audited as such.
    const audit = await request(t.server).get(`/api/v1/organizations/${orgId}/audit-events?outcome=denied&action=variable.*`).set(owner.auth).expect(200);
    expect(audit.body.items.map((e: { action: string }) => e.action)).toEqual(expect.arrayContaining(['variable.reveal']));
  });

  it('a member of another organization gets 404 on every route, and nothing changes', async () => {
    const otherOrg = await createOrganization(t, owner, 'Elsewhere');
    const stranger = await addMember(t, owner, otherOrg, 'stranger@example.com', 'admin');
    await createProject(t, stranger, otherOrg, 'Their Own');
    const env = beta.environments[0];
    const before = await snapshot(t);
    const eventsBefore = await withDb(t, (c) => c.query(`SELECT count(*)::int AS n FROM outbox_events WHERE envelope->>'organizationId' = $1`, [orgId]));

    const attempts: Array<[string, string, Record<string, unknown>?, Record<string, string>?]> = [
      ['get', `/api/v1/organizations/${orgId}/projects`],
      ['post', `/api/v1/organizations/${orgId}/projects`, { name: 'Intruder' }],
      ['get', `/api/v1/projects/${beta.id}`],
      ['patch', `/api/v1/projects/${beta.id}`, { name: 'Owned' }],
      ['delete', `/api/v1/projects/${beta.id}`, undefined, { 'X-Confirm': 'beta' }],
      ['get', `/api/v1/projects/${beta.id}/environments`],
      ['post', `/api/v1/projects/${beta.id}/environments`, { name: 'Intruder' }],
      ['get', `/api/v1/environments/${env.id}`],
      ['patch', `/api/v1/environments/${env.id}`, { name: 'Owned' }],
      ['delete', `/api/v1/environments/${env.id}`],
      ['get', `/api/v1/projects/${beta.id}/variables`],
      ['put', `/api/v1/projects/${beta.id}/variables`, { key: 'TOKEN', value: 'stolen', secret: false }],
      ['delete', `/api/v1/projects/${beta.id}/variables/TOKEN`],
      ['post', `/api/v1/projects/${beta.id}/variables/TOKEN/reveal`],
      ['get', `/api/v1/environments/${env.id}/variables`],
      ['put', `/api/v1/environments/${env.id}/variables`, { variables: [{ key: 'ENV_TOKEN', value: 'stolen' }] }],
      ['delete', `/api/v1/environments/${env.id}/variables/ENV_TOKEN`],
      ['post', `/api/v1/environments/${env.id}/variables/ENV_TOKEN/reveal`],
    ];
    for (const [method, url, body, headers] of attempts) {
      let req = (request(t.server) as unknown as Record<string, (u: string) => request.Test>)[method](url).set(stranger.auth);
      if (headers) req = req.set(headers);
      const res = body ? await req.send(body) : await req;
      expect({ method, url, status: res.status }).toEqual({ method, url, status: 404 });
      expect(JSON.stringify(res.body)).not.toMatch(/beta-secret|beta-env-secret|Beta/);
    }
    expect(await snapshot(t)).toEqual(before);
    const eventsAfter = await withDb(t, (c) => c.query(`SELECT count(*)::int AS n FROM outbox_events WHERE envelope->>'organizationId' = $1`, [orgId]));
    expect(eventsAfter.rows[0].n).toBe(eventsBefore.rows[0].n);
    // Their own organization still works for them.
    const own = await request(t.server).get(`/api/v1/organizations/${otherOrg}/projects`).set(stranger.auth).expect(200);
    expect(own.body.items.map((x: { name: string }) => x.name)).toEqual(['Their Own']);
  });
});
