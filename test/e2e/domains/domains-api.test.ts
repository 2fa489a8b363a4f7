/**
 * Domains through the API against real PostgreSQL: create/list/get/patch/delete, basic-auth passwords stored only as
 * bcrypt hashes and never returned or audited, every hostile field refused with its pointer, conflicts across
 * applications and organizations answered with the same neutral 409, cross-organization 404, viewer 403, If-Match.
 */
import request from 'supertest';
import { startTestApp, TestApp } from '../../support/app';
import { addMember, createOrganization, Session, setupOwner } from '../../support/api';
import { NO_WORKER } from '../../support/route-matrix';
import { auditAll, sql } from '../audit/helpers';

jest.setTimeout(90_000);

describe('domains API', () => {
  let t: TestApp;
  let owner: Session & { organizationId: string };
  let viewer: Session;
  let bOwner: Session;
  let orgA: string;
  let orgB: string;
  let appA: string;
  let appA2: string;
  let appB: string;

  async function newApp(s: Session, orgId: string, name: string): Promise<string> {
    const project = await request(t.server).post(`/api/v1/organizations/${orgId}/projects`).set(s.auth).send({ name: `${name}-project` }).expect(201);
    const app = await request(t.server).post(`/api/v1/environments/${project.body.environments[0].id}/applications`).set(s.auth).send({ name, spec: { image: 'busybox:latest' } }).expect(201);
    return app.body.id;
  }

  beforeAll(async () => {
    t = await startTestApp(NO_WORKER);
    owner = await setupOwner(t, 'owner@example.com', 'Acme');
    orgA = owner.organizationId;
    viewer = await addMember(t, owner, orgA, 'viewer@example.com', 'viewer');
    bOwner = await addMember(t, owner, orgA, 'beta@example.net', 'viewer');
    orgB = await createOrganization(t, bOwner, 'Beta');
    await request(t.server).delete(`/api/v1/organizations/${orgA}/members/${bOwner.userId}`).set(bOwner.auth).expect(204);
    appA = await newApp(owner, orgA, 'web');
    appA2 = await newApp(owner, orgA, 'api');
    appB = await newApp(bOwner, orgB, 'other');
  });
  afterAll(async () => {
    await t?.close();
  });

  const pointers = (res: request.Response): string[] => (res.body.errors ?? []).map((e: { pointer: string }) => e.pointer).sort();

  it('creates a domain: punycode host, defaults, basic-auth users by name only, the password stored as a bcrypt hash', async () => {
    const res = await request(t.server).post(`/api/v1/applications/${appA}/domains`).set(owner.auth)
      .send({ host: 'Bücher.Example.COM', port: 8080, https: true, redirectHttpToHttps: true, basicAuth: [{ username: 'alice', password: 'p4ss-w0rd-canary' }], responseHeaders: { 'X-Frame-Options': 'DENY' }, ipAllowList: ['10.0.0.0/8'], rateLimit: { average: 10, burst: 20 } })
      .expect(201);
    expect(res.body).toMatchObject({
      applicationId: appA, organizationId: orgA, host: 'xn--bcher-kva.example.com', pathPrefix: '/', port: 8080, https: true, redirectHttpToHttps: true,
      basicAuth: [{ username: 'alice', passwordSet: true }], responseHeaders: { 'X-Frame-Options': 'DENY' }, ipAllowList: ['10.0.0.0/8'], rateLimit: { average: 10, burst: 20, periodSeconds: 1 }, version: 1,
    });
    expect(res.text).not.toContain('p4ss-w0rd-canary');
    expect(res.text).not.toContain('$2');
    const [row] = await sql<{ basic_auth: Array<{ username: string; passwordHash: string }>; options: unknown }>(t, `SELECT basic_auth, options FROM domains WHERE id = $1`, [res.body.id]);
    expect(row.basic_auth[0].passwordHash).toMatch(/^\$2[aby]\$12\$/);
    expect(JSON.stringify(row)).not.toContain('p4ss-w0rd-canary');

    const list = await request(t.server).get(`/api/v1/applications/${appA}/domains`).set(viewer.auth).expect(200);
    expect(list.body.map((d: { id: string }) => d.id)).toEqual([res.body.id]);
    const one = await request(t.server).get(`/api/v1/domains/${res.body.id}`).set(viewer.auth).expect(200);
    expect(one.headers.etag).toBe('"1"');
    expect(one.text).not.toContain('$2');
  });

  it('refuses every hostile field with 400 problem+json naming it', async () => {
    const bad = await request(t.server).post(`/api/v1/applications/${appA}/domains`).set(owner.auth).send({
      host: 'a.example.com`) || Host(`evil.com', pathPrefix: '/../etc', port: 8080, https: false,
      redirects: [{ regex: '(?=x)', replacement: 'https://x.example.com/', permanent: true }],
      responseHeaders: { 'X-A': '{{ env "SECRET" }}', 'Bad Name': 'x' },
      ipAllowList: ['not-an-ip'],
      basicAuth: [{ username: 'bob' }, { username: 'eve', password: 'x', extra: 1 }],
    }).expect(400);
    expect(bad.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(pointers(bad)).toEqual(expect.arrayContaining(['/host', '/pathPrefix', '/redirects/0/regex', '/responseHeaders/X-A', '/ipAllowList/0', '/basicAuth/0/password', '/basicAuth/1/extra']));
    // Top-level types and unknown fields: class-validator, also with pointers.
    const typed = await request(t.server).post(`/api/v1/applications/${appA}/domains`).set(owner.auth).send({ host: 'ok.example.com', port: '80', https: 'yes', evil: true }).expect(400);
    expect(pointers(typed)).toEqual(expect.arrayContaining(['/port', '/https', '/evil']));
    const strip = await request(t.server).post(`/api/v1/applications/${appA}/domains`).set(owner.auth).send({ host: 'ok.example.com', port: 80, https: false, stripPrefix: true, redirectHttpToHttps: true }).expect(400);
    expect(pointers(strip)).toEqual(['/redirectHttpToHttps', '/stripPrefix']);
    expect((await sql(t, `SELECT 1 FROM domains WHERE host LIKE 'ok.%' OR host LIKE 'a.example%'`)).length).toBe(0);
  });

  it('refuses a host + path another application holds and a host another organization uses, with the same neutral 409', async () => {
    await request(t.server).post(`/api/v1/applications/${appA}/domains`).set(owner.auth).send({ host: 'shop.example.com', port: 80, https: false }).expect(201);
    // Same organization, another application, same host and path: 409.
    const sameOrg = await request(t.server).post(`/api/v1/applications/${appA2}/domains`).set(owner.auth).send({ host: 'SHOP.example.com', pathPrefix: '/', port: 80, https: false }).expect(409);
    // Same organization, another path: allowed (one host, several applications by path).
    await request(t.server).post(`/api/v1/applications/${appA2}/domains`).set(owner.auth).send({ host: 'shop.example.com', pathPrefix: '/api', port: 80, https: false }).expect(201);
    // Another organization: the same host+path, and the same host on a path nobody uses, are both refused alike.
    const otherSame = await request(t.server).post(`/api/v1/applications/${appB}/domains`).set(bOwner.auth).send({ host: 'shop.example.com', port: 80, https: false }).expect(409);
    const otherPath = await request(t.server).post(`/api/v1/applications/${appB}/domains`).set(bOwner.auth).send({ host: 'shop.example.com', pathPrefix: '/free', port: 80, https: false }).expect(409);
    for (const r of [sameOrg, otherSame, otherPath]) {
      expect(r.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(r.body).toMatchObject({ status: 409, code: 'domain-taken', errors: [{ pointer: '/host', code: 'domain-taken' }] });
    }
    expect(otherSame.body.detail).toBe(otherPath.body.detail);
    expect(otherSame.body.errors).toEqual(otherPath.body.errors);
    for (const secret of [orgA, appA, appA2, 'Acme', 'web']) {
      expect(otherSame.text).not.toContain(secret);
      expect(otherPath.text).not.toContain(secret);
    }
    // A change onto a taken host is refused too.
    const mine = await request(t.server).post(`/api/v1/applications/${appB}/domains`).set(bOwner.auth).send({ host: 'beta.example.net', port: 80, https: false }).expect(201);
    const moved = await request(t.server).patch(`/api/v1/domains/${mine.body.id}`).set(bOwner.auth).send({ host: 'shop.example.com', pathPrefix: '/elsewhere' }).expect(409);
    expect(moved.body.errors).toEqual(otherPath.body.errors);
  });

  it('counts the other form of a host with wwwRedirect as used, both ways', async () => {
    await request(t.server).post(`/api/v1/applications/${appA}/domains`).set(owner.auth).send({ host: 'brand.example.com', wwwRedirect: true, port: 80, https: false }).expect(201);
    const www = await request(t.server).post(`/api/v1/applications/${appB}/domains`).set(bOwner.auth).send({ host: 'www.brand.example.com', port: 80, https: false }).expect(409);
    expect(www.body.errors).toEqual([{ pointer: '/host', code: 'domain-taken', detail: 'www.brand.example.com is already in use on this install' }]);
    await request(t.server).post(`/api/v1/applications/${appB}/domains`).set(bOwner.auth).send({ host: 'www.label.example.net', port: 80, https: false }).expect(201);
    await request(t.server).post(`/api/v1/applications/${appA}/domains`).set(owner.auth).send({ host: 'label.example.net', wwwRedirect: true, port: 80, https: false }).expect(409);
    // Without the redirect the apex is free (another name).
    await request(t.server).post(`/api/v1/applications/${appA}/domains`).set(owner.auth).send({ host: 'label.example.net', port: 80, https: false }).expect(201);
  });

  it('another organization gets 404 for every domain route; a viewer reads but gets 403 for changes', async () => {
    const d = await request(t.server).post(`/api/v1/applications/${appA}/domains`).set(owner.auth).send({ host: 'private.example.com', port: 80, https: false }).expect(201);
    await request(t.server).get(`/api/v1/domains/${d.body.id}`).set(bOwner.auth).expect(404);
    await request(t.server).patch(`/api/v1/domains/${d.body.id}`).set(bOwner.auth).send({ port: 81 }).expect(404);
    await request(t.server).delete(`/api/v1/domains/${d.body.id}`).set(bOwner.auth).expect(404);
    await request(t.server).get(`/api/v1/applications/${appA}/domains`).set(bOwner.auth).expect(404);
    await request(t.server).post(`/api/v1/applications/${appA}/domains`).set(bOwner.auth).send({ host: 'x.example.org', port: 80, https: false }).expect(404);

    await request(t.server).get(`/api/v1/domains/${d.body.id}`).set(viewer.auth).expect(200);
    await request(t.server).post(`/api/v1/applications/${appA}/domains`).set(viewer.auth).send({ host: 'v.example.org', port: 80, https: false }).expect(403);
    await request(t.server).patch(`/api/v1/domains/${d.body.id}`).set(viewer.auth).send({ port: 81 }).expect(403);
    await request(t.server).delete(`/api/v1/domains/${d.body.id}`).set(viewer.auth).expect(403);
    const [row] = await sql<{ version: number }>(t, `SELECT version FROM domains WHERE id = $1`, [d.body.id]);
    expect(row.version).toBe(1);
  });

  it('PATCH honours If-Match, keeps or replaces basic-auth passwords, and the audit log never holds a hash or password', async () => {
    const d = await request(t.server).post(`/api/v1/applications/${appA}/domains`).set(owner.auth).send({ host: 'auth.example.com', port: 80, https: false, basicAuth: [{ username: 'ann', password: 'first-secret-canary' }] }).expect(201);
    const hashOf = async () => (await sql<{ basic_auth: Array<{ passwordHash: string }> }>(t, `SELECT basic_auth FROM domains WHERE id = $1`, [d.body.id]))[0].basic_auth.map((u) => u.passwordHash);
    const [h1] = await hashOf();
    const kept = await request(t.server).patch(`/api/v1/domains/${d.body.id}`).set(owner.auth).set('If-Match', '"1"').send({ port: 81, basicAuth: [{ username: 'ann' }, { username: 'ben', password: 'second-secret-canary' }] }).expect(200);
    expect(kept.body).toMatchObject({ port: 81, version: 2, basicAuth: [{ username: 'ann', passwordSet: true }, { username: 'ben', passwordSet: true }] });
    expect((await hashOf())[0]).toBe(h1);
    await request(t.server).patch(`/api/v1/domains/${d.body.id}`).set(owner.auth).set('If-Match', '"1"').send({ port: 82 }).expect(412);
    await request(t.server).patch(`/api/v1/domains/${d.body.id}`).set(owner.auth).set('If-Match', '"2"').send({ basicAuth: [{ username: 'ann', password: 'third-secret-canary' }] }).expect(200);
    const after = await hashOf();
    expect(after).toHaveLength(1);
    expect(after[0]).not.toBe(h1);
    await request(t.server).patch(`/api/v1/domains/${d.body.id}`).set(owner.auth).send({ basicAuth: [{ username: 'zed' }] }).expect(400);
    await request(t.server).delete(`/api/v1/domains/${d.body.id}`).set(owner.auth).expect(204);
    await request(t.server).get(`/api/v1/domains/${d.body.id}`).set(owner.auth).expect(404);

    const entries = (await auditAll(t, owner, orgA, { subjectId: d.body.id })).reverse();
    expect(entries.map((e) => e.action)).toEqual(['domain.created', 'domain.updated', 'domain.updated', 'domain.deleted']);
    expect(entries[0]).toMatchObject({ subject: { type: 'domain', id: d.body.id, name: 'auth.example.com' }, changes: { host: 'auth.example.com', basicAuth: ['ann'] } });
    expect(entries[1].changes).toMatchObject({ port: { from: 80, to: 81 }, basicAuth: { from: ['ann'], to: ['ann', 'ben'] } });
    expect(entries[2].changes).toMatchObject({ basicAuthReset: ['ann'] });
    const text = JSON.stringify(entries);
    for (const secret of ['first-secret-canary', 'second-secret-canary', 'third-secret-canary', '$2a$', '$2b$', '$2y$', h1]) expect(text).not.toContain(secret);
  });
});
