import request from 'supertest';
import { startTestApp, TestApp } from '../../support/app';
import { Session, setupOwner, createOrganization } from '../../support/api';
import { createProject, withDb } from './helpers';


// Boots the real app and makes many requests: allow for a slow CI machine.
jest.setTimeout(60_000);
describe('projects and environments: CRUD, slugs, pagination, versions', () => {
  let t: TestApp;
  let owner: Session & { organizationId: string };
  let orgId: string;

  beforeAll(async () => {
    t = await startTestApp();
    owner = await setupOwner(t);
    orgId = owner.organizationId;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('creates a project with a production environment in the same transaction, and reads it back', async () => {
    const res = await request(t.server).post(`/api/v1/organizations/${orgId}/projects`).set(owner.auth).send({ name: 'Web Shop', description: 'the shop' }).expect(201);
    expect(res.body).toMatchObject({ organizationId: orgId, name: 'Web Shop', slug: 'web-shop', description: 'the shop', version: 1 });
    expect(res.body.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/); // UUID v7
    expect(res.body.environments).toEqual([expect.objectContaining({ name: 'Production', slug: 'production', projectId: res.body.id, organizationId: orgId })]);

    const got = await request(t.server).get(`/api/v1/projects/${res.body.id}`).set(owner.auth).expect(200);
    expect(got.headers.etag).toBe('"1"');
    expect(got.body).toMatchObject({ id: res.body.id, slug: 'web-shop', version: 1 });

    const envs = await request(t.server).get(`/api/v1/projects/${res.body.id}/environments`).set(owner.auth).expect(200);
    expect(envs.body.items.map((e: { slug: string }) => e.slug)).toEqual(['production']);
    expect(envs.body.nextCursor).toBeNull();

    const rows = await withDb(t, (c) => c.query(`SELECT e.slug, e.organization_id, e.project_id FROM environments e WHERE e.project_id = $1`, [res.body.id]));
    expect(rows.rows).toEqual([{ slug: 'production', organization_id: orgId, project_id: res.body.id }]);
    // Both rows share created_at (now() is the transaction's start): the UUIDv7 ids break the tie in the order written.
    const events = await withDb(t, (c) => c.query(`SELECT type FROM outbox_events WHERE envelope->'payload'->>'projectId' = $1 ORDER BY created_at, id`, [res.body.id]));
    expect(events.rows.map((r: { type: string }) => r.type)).toEqual(['project.created', 'environment.created']);
  });

  it('derives unique, immutable slugs; an explicit slug that is taken is a 409', async () => {
    const a = await createProject(t, owner, orgId, 'API');
    const b = await createProject(t, owner, orgId, 'api');
    const c = await createProject(t, owner, orgId, 'A.P.I!');
    expect([a.slug, b.slug]).toEqual(['api', 'api-2']);
    expect(c.slug).toBe('a-p-i');
    const d = await createProject(t, owner, orgId, 'Ünïcode 🚢 Näme');
    expect(d.slug).toBe('unicode-name');
    const e = await createProject(t, owner, orgId, '🚢🚢');
    expect(e.slug).toMatch(/^[a-z0-9-]+$/);

    const taken = await request(t.server).post(`/api/v1/organizations/${orgId}/projects`).set(owner.auth).send({ name: 'Other', slug: 'api' }).expect(409);
    expect(taken.body.code).toBe('slug-taken');
    const bad = await request(t.server).post(`/api/v1/organizations/${orgId}/projects`).set(owner.auth).send({ name: 'Other', slug: 'Bad Slug' }).expect(400);
    expect(bad.body.errors[0].pointer).toBe('/slug');

    // Immutable: PATCH cannot send a slug.
    const patch = await request(t.server).patch(`/api/v1/projects/${a.id}`).set(owner.auth).send({ slug: 'changed' }).expect(400);
    expect(patch.body.errors[0]).toMatchObject({ pointer: '/slug', code: 'unknown-field' });
    // Renaming keeps the slug.
    const renamed = await request(t.server).patch(`/api/v1/projects/${a.id}`).set(owner.auth).send({ name: 'Public API' }).expect(200);
    expect(renamed.body).toMatchObject({ name: 'Public API', slug: 'api', version: 2 });

    // Concurrent creations with the same name all succeed with distinct slugs.
    const racers = await Promise.all(
      Array.from({ length: 5 }, () => request(t.server).post(`/api/v1/organizations/${orgId}/projects`).set(owner.auth).send({ name: 'Race' })),
    );
    expect(racers.map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
    expect(new Set(racers.map((r) => r.body.slug)).size).toBe(5);

    // Slugs are unique per parent: another organization may reuse one.
    const other = await createOrganization(t, owner, 'Other Org');
    expect((await createProject(t, owner, other, 'API')).slug).toBe('api');
  });

  it('validates names: 1–100 characters, not blank; unknown fields rejected', async () => {
    for (const name of ['', '   ', 'x'.repeat(101)]) {
      const r = await request(t.server).post(`/api/v1/organizations/${orgId}/projects`).set(owner.auth).send({ name }).expect(400);
      expect(r.body.errors.some((e: { pointer: string }) => e.pointer === '/name')).toBe(true);
    }
    await request(t.server).post(`/api/v1/organizations/${orgId}/projects`).set(owner.auth).send({ name: 'x'.repeat(100) }).expect(201);
    const unk = await request(t.server).post(`/api/v1/organizations/${orgId}/projects`).set(owner.auth).send({ name: 'ok', organizationId: orgId }).expect(400);
    expect(unk.body.errors[0]).toMatchObject({ pointer: '/organizationId', code: 'unknown-field' });
  });

  it('paginates 60 projects by name then id with a stable cursor and no duplicates', async () => {
    const org = await createOrganization(t, owner, 'Paging');
    const created: string[] = [];
    // 30 distinct names, each twice: the id breaks ties.
    for (let i = 0; i < 60; i++) created.push((await createProject(t, owner, org, `Project ${String(i % 30).padStart(2, '0')}`)).id);

    const seen: Array<{ id: string; name: string }> = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const url: string = `/api/v1/organizations/${org}/projects?limit=7${cursor ? `&cursor=${cursor}` : ''}`;
      const res: request.Response = await request(t.server).get(url).set(owner.auth).expect(200);
      // The same cursor always yields the same page.
      const again = await request(t.server).get(url).set(owner.auth).expect(200);
      expect(again.body).toEqual(res.body);
      expect(res.body.items.length).toBeLessThanOrEqual(7);
      seen.push(...res.body.items.map((x: { id: string; name: string }) => ({ id: x.id, name: x.name })));
      cursor = res.body.nextCursor;
      pages++;
      // A project created mid-walk that sorts before the cursor never shows up as a duplicate.
      if (pages === 3) await createProject(t, owner, org, 'Project 00');
    } while (cursor);
    expect(pages).toBe(9);
    const ids = seen.map((x) => x.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of created) expect(ids).toContain(id);
    const sorted = [...seen].sort((a, b) => (a.name === b.name ? (a.id < b.id ? -1 : 1) : a.name < b.name ? -1 : 1));
    expect(seen).toEqual(sorted);

    const def = await request(t.server).get(`/api/v1/organizations/${org}/projects`).set(owner.auth).expect(200);
    expect(def.body.items).toHaveLength(50);
    await request(t.server).get(`/api/v1/organizations/${org}/projects?limit=0`).set(owner.auth).expect(400);
    await request(t.server).get(`/api/v1/organizations/${org}/projects?limit=201`).set(owner.auth).expect(400);
    const badCursor = await request(t.server).get(`/api/v1/organizations/${org}/projects?cursor=garbage`).set(owner.auth).expect(400);
    expect(badCursor.body.errors[0].pointer).toBe('/cursor');
  });

  it('PATCH honours If-Match: a stale version is 412 and changes nothing', async () => {
    const p = await createProject(t, owner, orgId, 'Versioned');
    const ok = await request(t.server).patch(`/api/v1/projects/${p.id}`).set(owner.auth).set('If-Match', '"1"').send({ description: 'v2' }).expect(200);
    expect(ok.body.version).toBe(2);
    expect(ok.headers.etag).toBe('"2"');
    const stale = await request(t.server).patch(`/api/v1/projects/${p.id}`).set(owner.auth).set('If-Match', '"1"').send({ name: 'Lost update' }).expect(412);
    expect(stale.body.code).toBe('precondition-failed');
    const now = await request(t.server).get(`/api/v1/projects/${p.id}`).set(owner.auth).expect(200);
    expect(now.body).toMatchObject({ name: 'Versioned', description: 'v2', version: 2 });

    const env = p.environments[0];
    const eok = await request(t.server).patch(`/api/v1/environments/${env.id}`).set(owner.auth).set('If-Match', '"1"').send({ name: 'Prod' }).expect(200);
    expect(eok.body).toMatchObject({ name: 'Prod', slug: 'production', version: 2 });
    await request(t.server).patch(`/api/v1/environments/${env.id}`).set(owner.auth).set('If-Match', 'W/"1"').send({ name: 'Again' }).expect(412);
    const eget = await request(t.server).get(`/api/v1/environments/${env.id}`).set(owner.auth).expect(200);
    expect(eget.headers.etag).toBe('"2"');
    expect(eget.body.name).toBe('Prod');
  });

  it('manages environments; the last one cannot be deleted', async () => {
    const p = await createProject(t, owner, orgId, 'Envs');
    const staging = await request(t.server).post(`/api/v1/projects/${p.id}/environments`).set(owner.auth).send({ name: 'Staging' }).expect(201);
    expect(staging.body).toMatchObject({ slug: 'staging', projectId: p.id, organizationId: orgId, version: 1 });
    const dup = await request(t.server).post(`/api/v1/projects/${p.id}/environments`).set(owner.auth).send({ name: 'Staging' }).expect(201);
    expect(dup.body.slug).toBe('staging-2');
    const taken = await request(t.server).post(`/api/v1/projects/${p.id}/environments`).set(owner.auth).send({ name: 'x', slug: 'production' }).expect(409);
    expect(taken.body.code).toBe('slug-taken');

    const list = await request(t.server).get(`/api/v1/projects/${p.id}/environments?limit=2`).set(owner.auth).expect(200);
    expect(list.body.items.map((e: { name: string }) => e.name)).toEqual(['Production', 'Staging']);
    const rest = await request(t.server).get(`/api/v1/projects/${p.id}/environments?limit=2&cursor=${list.body.nextCursor}`).set(owner.auth).expect(200);
    expect(rest.body.items).toHaveLength(1);
    expect(rest.body.nextCursor).toBeNull();

    await request(t.server).delete(`/api/v1/environments/${staging.body.id}`).set(owner.auth).expect(204);
    await request(t.server).delete(`/api/v1/environments/${dup.body.id}`).set(owner.auth).expect(204);
    const last = await request(t.server).delete(`/api/v1/environments/${p.environments[0].id}`).set(owner.auth).expect(409);
    expect(last.body.code).toBe('last-environment');
    await request(t.server).get(`/api/v1/environments/${staging.body.id}`).set(owner.auth).expect(404);
    await request(t.server).get(`/api/v1/environments/${p.environments[0].id}`).set(owner.auth).expect(200);

    // Two concurrent deletions of the last two environments: exactly one wins.
    const e2 = await request(t.server).post(`/api/v1/projects/${p.id}/environments`).set(owner.auth).send({ name: 'Two' }).expect(201);
    const [r1, r2] = await Promise.all([
      request(t.server).delete(`/api/v1/environments/${p.environments[0].id}`).set(owner.auth),
      request(t.server).delete(`/api/v1/environments/${e2.body.id}`).set(owner.auth),
    ]);
    expect([r1.status, r2.status].sort()).toEqual([204, 409]);
    const count = await withDb(t, (c) => c.query(`SELECT count(*)::int AS n FROM environments WHERE project_id = $1`, [p.id]));
    expect(count.rows[0].n).toBe(1);
  });

  it('deletes a project only with typed confirmation, taking environments and variables with it', async () => {
    const p = await createProject(t, owner, orgId, 'Doomed');
    await request(t.server).post(`/api/v1/projects/${p.id}/environments`).set(owner.auth).send({ name: 'Staging' }).expect(201);
    await request(t.server).put(`/api/v1/projects/${p.id}/variables`).set(owner.auth).send({ key: 'A', value: '1' }).expect(200);
    await request(t.server).put(`/api/v1/environments/${p.environments[0].id}/variables`).set(owner.auth).send({ key: 'B', value: '2', secret: true }).expect(200);

    const missing = await request(t.server).delete(`/api/v1/projects/${p.id}`).set(owner.auth).expect(400);
    expect(missing.body.errors[0]).toMatchObject({ pointer: '/headers/x-confirm', code: 'confirmation-required' });
    expect(missing.body.detail).toContain('X-Confirm');
    const wrong = await request(t.server).delete(`/api/v1/projects/${p.id}`).set(owner.auth).set('X-Confirm', 'nope').expect(400);
    expect(wrong.body.errors[0].code).toBe('confirmation-mismatch');
    await request(t.server).get(`/api/v1/projects/${p.id}`).set(owner.auth).expect(200);

    await request(t.server).delete(`/api/v1/projects/${p.id}`).set(owner.auth).set('X-Confirm', 'doomed').expect(204);
    await request(t.server).get(`/api/v1/projects/${p.id}`).set(owner.auth).expect(404);
    await request(t.server).get(`/api/v1/environments/${p.environments[0].id}`).set(owner.auth).expect(404);
    const left = await withDb(t, (c) =>
      c.query(`SELECT (SELECT count(*) FROM environments WHERE project_id = $1)::int AS e, (SELECT count(*) FROM variables WHERE project_id = $1)::int AS v`, [p.id]),
    );
    expect(left.rows[0]).toEqual({ e: 0, v: 0 });

    // The body field works too.
    const q = await createProject(t, owner, orgId, 'Doomed Too');
    await request(t.server).delete(`/api/v1/projects/${q.id}`).set(owner.auth).send({ confirm: 'doomed-too' }).expect(204);

    const events = await withDb(t, (c) => c.query(`SELECT type FROM outbox_events WHERE envelope->'payload'->>'projectId' = $1 ORDER BY created_at, type`, [p.id]));
    const types = events.rows.map((r: { type: string }) => r.type);
    for (const type of ['project.created', 'environment.created', 'variable.created', 'environment.deleted', 'project.deleted']) expect(types).toContain(type);
    expect(types.filter((x: string) => x === 'environment.deleted')).toHaveLength(2);
    const audit = await request(t.server).get(`/api/v1/organizations/${orgId}/audit-events?action=project.deleted`).set(owner.auth).expect(200);
    expect(audit.body.items.some((e: { subject: { id: string } }) => e.subject.id === p.id)).toBe(true);
  });

  it('answers 404 for unknown or malformed ids', async () => {
    await request(t.server).get('/api/v1/projects/not-a-uuid').set(owner.auth).expect(404);
    await request(t.server).get('/api/v1/projects/0190a0a0-0000-7000-8000-000000000000').set(owner.auth).expect(404);
    await request(t.server).get('/api/v1/environments/0190a0a0-0000-7000-8000-000000000000').set(owner.auth).expect(404);
    await request(t.server).get('/api/v1/organizations/0190a0a0-0000-7000-8000-000000000000/projects').set(owner.auth).expect(404);
    await request(t.server).get(`/api/v1/organizations/${orgId}/projects`).expect(401);
  });
});
