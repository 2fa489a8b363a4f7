/**
 * A member may be limited to chosen environments: they see those environments, read (only) the projects that contain
 * them, and the variables, applications and deployments of those environments; never another environment's, nor the
 * project-level variables. Granted ids must belong to the organization, and nobody grants environments outside their
 * own limits.
 */
import request from 'supertest';
import type { Client } from 'pg';
import { startTestApp, TestApp } from '../../support/app';
import { addMember, createOrganization, Session, setupOwner } from '../../support/api';
import { openDb } from '../../support/route-matrix';

jest.setTimeout(90_000);

interface Env {
  id: string;
  name: string;
}

describe('environment grants', () => {
  let t: TestApp;
  let db: Client;
  let owner: Session & { organizationId: string };
  let org: string;
  let shop: { id: string; slug: string };
  let production: Env;
  let staging: Env;
  let other: { id: string; environments: Env[] };
  let stagingApp: string;
  let productionApp: string;
  let stagingDeployment: string;
  let productionDeployment: string;
  let limited: Session;

  const api = () => request(t.server);

  /** An application whose deployment fails at once (an unresolvable variable reference): a real deployment row, no Docker. */
  async function appWithDeployment(s: Session, environmentId: string, name: string): Promise<{ app: string; deployment: string }> {
    const app = await api().post(`/api/v1/environments/${environmentId}/applications`).set(s.auth).send({ name, spec: { image: 'wharf-test/never:1' } }).expect(201);
    await api().put(`/api/v1/applications/${app.body.id}/variables`).set(s.auth).send({ variables: [{ key: 'BROKEN', value: '${{NOPE}}' }] }).expect(200);
    const d = await api().post(`/api/v1/applications/${app.body.id}/deployments`).set(s.auth).send({}).expect(202);
    return { app: app.body.id, deployment: d.body.id };
  }

  beforeAll(async () => {
    t = await startTestApp();
    db = await openDb(t);
    owner = await setupOwner(t);
    org = owner.organizationId;
    const p = await api().post(`/api/v1/organizations/${org}/projects`).set(owner.auth).send({ name: 'Shop' }).expect(201);
    shop = { id: p.body.id, slug: p.body.slug };
    production = p.body.environments[0];
    const s = await api().post(`/api/v1/projects/${shop.id}/environments`).set(owner.auth).send({ name: 'Staging' }).expect(201);
    staging = { id: s.body.id, name: s.body.name };
    const o = await api().post(`/api/v1/organizations/${org}/projects`).set(owner.auth).send({ name: 'Other' }).expect(201);
    other = { id: o.body.id, environments: o.body.environments };

    await api().put(`/api/v1/projects/${shop.id}/variables`).set(owner.auth).send({ key: 'SHARED_TOKEN', value: 'project-level-secret', secret: true }).expect(200);
    await api().put(`/api/v1/environments/${staging.id}/variables`).set(owner.auth).send({ variables: [{ key: 'STAGING_URL', value: 'https://staging.example' }, { key: 'STAGING_KEY', value: 'staging-secret', secret: true }] }).expect(200);
    await api().put(`/api/v1/environments/${production.id}/variables`).set(owner.auth).send({ key: 'PROD_KEY', value: 'production-secret', secret: true }).expect(200);

    ({ app: stagingApp, deployment: stagingDeployment } = await appWithDeployment(owner, staging.id, 'web-staging'));
    ({ app: productionApp, deployment: productionDeployment } = await appWithDeployment(owner, production.id, 'web-production'));

    limited = await addMember(t, owner, org, 'staging-dev@example.com', 'developer', { environmentIds: [staging.id] });
  });
  afterAll(async () => {
    await db?.end();
    await t?.close();
  });

  it('stores the limit on the membership and shows it in /me and the member list', async () => {
    const row = await db.query(`SELECT project_ids, environment_ids FROM memberships WHERE organization_id = $1 AND user_id = $2`, [org, limited.userId]);
    expect(row.rows[0]).toEqual({ project_ids: null, environment_ids: [staging.id] });
    const me = await api().get('/api/v1/me').set(limited.auth).expect(200);
    expect(me.body.memberships).toEqual([expect.objectContaining({ organizationId: org, role: 'developer', projectIds: null, environmentIds: [staging.id] })]);
    const members = await api().get(`/api/v1/organizations/${org}/members`).set(owner.auth).expect(200);
    expect(members.body.find((m: { email: string }) => m.email === 'staging-dev@example.com')).toEqual(expect.objectContaining({ environmentIds: [staging.id], projectIds: null }));
  });

  it('sees the project that contains the environment (read only) and only that environment', async () => {
    const projects = await api().get(`/api/v1/organizations/${org}/projects`).set(limited.auth).expect(200);
    expect(projects.body.items.map((x: { id: string }) => x.id)).toEqual([shop.id]);
    await api().get(`/api/v1/projects/${shop.id}`).set(limited.auth).expect(200);
    await api().get(`/api/v1/projects/${other.id}`).set(limited.auth).expect(404);

    const envs = await api().get(`/api/v1/projects/${shop.id}/environments`).set(limited.auth).expect(200);
    expect(envs.body.items.map((e: { id: string }) => e.id)).toEqual([staging.id]);
    await api().get(`/api/v1/environments/${staging.id}`).set(limited.auth).expect(200);
    await api().get(`/api/v1/environments/${production.id}`).set(limited.auth).expect(404);

    // Read only on the project itself: no renaming it, deleting it, or adding environments to it.
    const before = await db.query(`SELECT name, version FROM projects WHERE id = $1`, [shop.id]);
    expect((await api().patch(`/api/v1/projects/${shop.id}`).set(limited.auth).send({ name: 'Mine' })).status).toBe(403);
    expect((await api().delete(`/api/v1/projects/${shop.id}`).set(limited.auth).set('X-Confirm', shop.slug)).status).toBe(403);
    expect((await api().post(`/api/v1/projects/${shop.id}/environments`).set(limited.auth).send({ name: 'Preview' })).status).toBe(403);
    expect((await api().post(`/api/v1/organizations/${org}/projects`).set(limited.auth).send({ name: 'New' })).status).toBe(403);
    expect((await db.query(`SELECT name, version FROM projects WHERE id = $1`, [shop.id])).rows).toEqual(before.rows);
    expect((await db.query(`SELECT count(*)::int AS n FROM environments WHERE project_id = $1`, [shop.id])).rows[0].n).toBe(2);
  });

  it("sees and changes staging's variables; 404 on production's and on the project-level ones", async () => {
    const vars = await api().get(`/api/v1/environments/${staging.id}/variables`).set(limited.auth).expect(200);
    expect(vars.body.items.map((v: { key: string }) => v.key)).toEqual(['STAGING_KEY', 'STAGING_URL']);
    const revealed = await api().post(`/api/v1/environments/${staging.id}/variables/STAGING_KEY/reveal`).set(limited.auth).expect(200);
    expect(revealed.body.value).toBe('staging-secret');
    await api().put(`/api/v1/environments/${staging.id}/variables`).set(limited.auth).send({ key: 'ADDED_BY_DEV', value: 'x' }).expect(200);

    const denied: Array<[string, string, Record<string, unknown>?]> = [
      ['get', `/api/v1/environments/${production.id}/variables`],
      ['put', `/api/v1/environments/${production.id}/variables`, { key: 'PROD_KEY', value: 'overwritten' }],
      ['post', `/api/v1/environments/${production.id}/variables/PROD_KEY/reveal`],
      ['delete', `/api/v1/environments/${production.id}/variables/PROD_KEY`],
      ['get', `/api/v1/projects/${shop.id}/variables`],
      ['put', `/api/v1/projects/${shop.id}/variables`, { key: 'SHARED_TOKEN', value: 'overwritten' }],
      ['put', `/api/v1/projects/${shop.id}/variables`, { key: 'NEW_SHARED', value: 'planted' }],
      ['post', `/api/v1/projects/${shop.id}/variables/SHARED_TOKEN/reveal`],
      ['delete', `/api/v1/projects/${shop.id}/variables/SHARED_TOKEN`],
    ];
    const before = await db.query(`SELECT id, key, value, value_encrypted, version FROM variables ORDER BY id`);
    for (const [method, url, body] of denied) {
      const req = (api() as unknown as Record<string, (u: string) => request.Test>)[method](url).set(limited.auth);
      const res = body ? await req.send(body) : await req;
      expect({ method, url, status: res.status }).toEqual({ method, url, status: 404 });
      expect(res.text).not.toMatch(/production-secret|project-level-secret|PROD_KEY|SHARED_TOKEN/);
    }
    expect((await db.query(`SELECT id, key, value, value_encrypted, version FROM variables ORDER BY id`)).rows).toEqual(before.rows);
  });

  it("sees staging's applications and deployments; 404 on production's", async () => {
    const apps = await api().get(`/api/v1/environments/${staging.id}/applications`).set(limited.auth).expect(200);
    expect(apps.body.items.map((a: { id: string }) => a.id)).toEqual([stagingApp]);
    await api().get(`/api/v1/environments/${production.id}/applications`).set(limited.auth).expect(404);
    await api().get(`/api/v1/applications/${stagingApp}`).set(limited.auth).expect(200);
    await api().get(`/api/v1/applications/${stagingApp}/variables`).set(limited.auth).expect(200);
    const deployments = await api().get(`/api/v1/applications/${stagingApp}/deployments`).set(limited.auth).expect(200);
    expect(deployments.body.items.map((d: { id: string }) => d.id)).toEqual([stagingDeployment]);
    await api().get(`/api/v1/deployments/${stagingDeployment}`).set(limited.auth).expect(200);

    for (const url of [
      `/api/v1/applications/${productionApp}`,
      `/api/v1/applications/${productionApp}/variables`,
      `/api/v1/applications/${productionApp}/deployments`,
      `/api/v1/deployments/${productionDeployment}`,
      `/api/v1/deployments/${productionDeployment}/logs`,
    ]) {
      expect({ url, status: (await api().get(url).set(limited.auth)).status }).toEqual({ url, status: 404 });
    }
    const appsBefore = await db.query(`SELECT id, version FROM applications ORDER BY id`);
    expect((await api().patch(`/api/v1/applications/${productionApp}`).set(limited.auth).send({ name: 'taken' })).status).toBe(404);
    expect((await api().post(`/api/v1/applications/${productionApp}/deployments`).set(limited.auth).send({})).status).toBe(404);
    expect((await api().post(`/api/v1/environments/${production.id}/applications`).set(limited.auth).send({ name: 'intruder', spec: { image: 'x/y:1' } })).status).toBe(404);
    expect((await db.query(`SELECT id, version FROM applications ORDER BY id`)).rows).toEqual(appsBefore.rows);

    // Within the granted environment the role applies as usual.
    const created = await api().post(`/api/v1/environments/${staging.id}/applications`).set(limited.auth).send({ name: 'worker', spec: { image: 'wharf-test/never:1' } }).expect(201);
    expect(created.body.environmentId).toBe(staging.id);
  });

  it('rejects environment ids that are not of this organization (400 on /environmentIds)', async () => {
    const elsewhere = await createOrganization(t, owner, 'Elsewhere');
    const foreign = await api().post(`/api/v1/organizations/${elsewhere}/projects`).set(owner.auth).send({ name: 'Foreign' }).expect(201);
    for (const id of [foreign.body.environments[0].id, '0190a3c4-0000-7000-8000-000000000000']) {
      const res = await api().post(`/api/v1/organizations/${org}/invitations`).set(owner.auth).send({ email: 'bad-env@example.com', role: 'viewer', environmentIds: [staging.id, id] });
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.body.errors)).toMatch(/\/environmentIds/i);
    }
    const notUuid = await api().post(`/api/v1/organizations/${org}/invitations`).set(owner.auth).send({ email: 'bad-env@example.com', role: 'viewer', environmentIds: ['nope'] });
    expect(notUuid.status).toBe(400);
    expect(JSON.stringify(notUuid.body.errors)).toMatch(/environmentIds/i);
    const res = await api().patch(`/api/v1/organizations/${org}/members/${limited.userId}`).set(owner.auth).send({ role: 'developer', environmentIds: [foreign.body.environments[0].id] });
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body.errors)).toMatch(/\/environmentIds/i);
    expect((await db.query(`SELECT count(*)::int AS n FROM invitations WHERE email = 'bad-env@example.com'`)).rows[0].n).toBe(0);
    expect((await db.query(`SELECT environment_ids FROM memberships WHERE organization_id = $1 AND user_id = $2`, [org, limited.userId])).rows[0].environment_ids).toEqual([staging.id]);
  });

  it('a member limited to staging cannot grant production (or anything wider) to someone else', async () => {
    const stagingAdmin = await addMember(t, owner, org, 'staging-admin@example.com', 'admin', { environmentIds: [staging.id] });
    const invite = (body: Record<string, unknown>) => api().post(`/api/v1/organizations/${org}/invitations`).set(stagingAdmin.auth).send({ role: 'viewer', ...body });

    for (const body of [
      { email: 'prod-viewer@example.com', environmentIds: [production.id] },
      { email: 'prod-viewer@example.com', environmentIds: [staging.id, production.id] },
      { email: 'prod-viewer@example.com', projectIds: [shop.id] },
      { email: 'prod-viewer@example.com', projectIds: [other.id], environmentIds: [staging.id] },
      { email: 'prod-viewer@example.com' },
    ]) {
      const res = await invite(body);
      expect({ body, status: res.status, code: res.body.code }).toEqual({ body, status: 403, code: 'role-escalation' });
    }
    expect((await db.query(`SELECT count(*)::int AS n FROM invitations WHERE email = 'prod-viewer@example.com'`)).rows[0].n).toBe(0);

    // Within their own limits it works.
    const ok = await invite({ email: 'staging-viewer@example.com', environmentIds: [staging.id] }).expect(201);
    expect(ok.body.environmentIds).toEqual([staging.id]);

    // Nor can they widen an existing member's limits, or change a member whose limits exceed theirs.
    const widen = await api().patch(`/api/v1/organizations/${org}/members/${limited.userId}`).set(stagingAdmin.auth).send({ role: 'developer', environmentIds: [staging.id, production.id] });
    expect({ status: widen.status, code: widen.body.code }).toEqual({ status: 403, code: 'role-escalation' });
    const prodDev = await addMember(t, owner, org, 'prod-dev@example.com', 'developer', { environmentIds: [production.id] });
    const narrow = await api().patch(`/api/v1/organizations/${org}/members/${prodDev.userId}`).set(stagingAdmin.auth).send({ role: 'viewer', environmentIds: [staging.id] });
    expect({ status: narrow.status, code: narrow.body.code }).toEqual({ status: 403, code: 'role-escalation' });
    expect((await db.query(`SELECT role, environment_ids FROM memberships WHERE organization_id = $1 AND user_id = $2`, [org, prodDev.userId])).rows[0]).toEqual({ role: 'developer', environment_ids: [production.id] });
    expect((await db.query(`SELECT environment_ids FROM memberships WHERE organization_id = $1 AND user_id = $2`, [org, limited.userId])).rows[0].environment_ids).toEqual([staging.id]);

    // An owner (unlimited) can.
    await api().patch(`/api/v1/organizations/${org}/members/${limited.userId}`).set(owner.auth).send({ role: 'developer', environmentIds: [staging.id, production.id] }).expect(200);
    const envs = await api().get(`/api/v1/projects/${shop.id}/environments`).set(limited.auth).expect(200);
    expect(envs.body.items.map((e: { id: string }) => e.id).sort()).toEqual([production.id, staging.id].sort());
  });

  it('projects and environments combine: a whole project plus an environment of another', async () => {
    const both = await addMember(t, owner, org, 'both@example.com', 'developer', { projectIds: [other.id], environmentIds: [staging.id] });
    const projects = await api().get(`/api/v1/organizations/${org}/projects`).set(both.auth).expect(200);
    expect(projects.body.items.map((x: { id: string }) => x.id).sort()).toEqual([shop.id, other.id].sort());
    // The whole project: full developer rights, including its project-level variables.
    await api().patch(`/api/v1/projects/${other.id}`).set(both.auth).send({ description: 'by both' }).expect(200);
    await api().put(`/api/v1/projects/${other.id}/variables`).set(both.auth).send({ key: 'OTHER', value: 'v' }).expect(200);
    await api().get(`/api/v1/environments/${other.environments[0].id}/variables`).set(both.auth).expect(200);
    // The environment's project: read only, no project-level variables, no other environment.
    expect((await api().patch(`/api/v1/projects/${shop.id}`).set(both.auth).send({ description: 'x' })).status).toBe(403);
    await api().get(`/api/v1/projects/${shop.id}/variables`).set(both.auth).expect(404);
    await api().get(`/api/v1/environments/${production.id}`).set(both.auth).expect(404);
    await api().get(`/api/v1/environments/${staging.id}/variables`).set(both.auth).expect(200);
  });
});
