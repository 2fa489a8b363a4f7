/**
 * An application's Git source through the API: set, read (secrets never returned), keep a stored token, deploy keys,
 * the webhook secret revealed and rotated (audited), hostile input refused at its field, optimistic concurrency, and
 * tenant isolation (a viewer may read but not change; another organization sees nothing).
 */
import request from 'supertest';
import { startTestApp, TestApp } from '../../support/app';
import { addMember, createOrganization, Session, setupOwner } from '../../support/api';
import { NO_WORKER } from '../../support/route-matrix';
import { auditAll, sql } from '../audit/helpers';

const TOKEN = 'glpat-canary-5d1c7e0b9a';

describe('application Git source', () => {
  let t: TestApp;
  let owner: Session & { organizationId: string };
  let viewer: Session;
  let outsider: Session;
  let appId: string;
  const url = () => `/api/v1/applications/${appId}/source`;

  beforeAll(async () => {
    t = await startTestApp(NO_WORKER);
    owner = await setupOwner(t, 'owner@example.com', 'Acme');
    viewer = await addMember(t, owner, owner.organizationId, 'viewer@example.com', 'viewer');
    outsider = await addMember(t, owner, owner.organizationId, 'outsider@example.com', 'viewer');
    await createOrganization(t, outsider, 'Elsewhere');
    await request(t.server).delete(`/api/v1/organizations/${owner.organizationId}/members/${outsider.userId}`).set(owner.auth).expect(204);
    const project = await request(t.server).post(`/api/v1/organizations/${owner.organizationId}/projects`).set(owner.auth).send({ name: 'web' }).expect(201);
    appId = (await request(t.server).post(`/api/v1/environments/${project.body.environments[0].id}/applications`).set(owner.auth).send({ name: 'shop', spec: { image: 'busybox:latest' } }).expect(201)).body.id;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('has none at first; a token source is stored encrypted and never returned', async () => {
    await request(t.server).get(url()).set(owner.auth).expect(404);
    const r = await request(t.server).put(url()).set(owner.auth).send({
      repository: 'https://git.example.com/acme/shop.git', ref: 'main', buildPath: 'services/web', watchPaths: ['services/web/**'],
      auth: { kind: 'token', token: TOKEN }, build: { dockerfile: 'docker/Dockerfile', target: 'runtime', args: { NODE_ENV: 'production' } },
    }).expect(200);
    expect(r.body).toMatchObject({
      repository: 'https://git.example.com/acme/shop.git', ref: 'main', buildPath: 'services/web', watchPaths: ['services/web/**'], submodules: false,
      auth: { kind: 'token', username: null, tokenSet: true }, deployKey: null,
      build: { kind: 'dockerfile', dockerfile: 'docker/Dockerfile', target: 'runtime', args: { NODE_ENV: 'production' } }, version: 1,
    });
    expect(r.body.webhooks.github).toBe(`/api/v1/webhooks/applications/${appId}/github`);
    expect(JSON.stringify(r.body)).not.toContain(TOKEN);
    const [row] = await sql<{ token_box: string; webhook_secret_box: string }>(t, `SELECT token_box, webhook_secret_box FROM application_sources WHERE application_id = $1`, [appId]);
    expect(row.token_box).not.toContain(TOKEN);
    const g = await request(t.server).get(url()).set(viewer.auth).expect(200);
    expect(g.headers.etag).toBe('"1"');
    expect(JSON.stringify(g.body)).not.toContain(TOKEN);
    const audit = await auditAll(t, owner, owner.organizationId);
    expect(audit.map((a) => a.action)).toContain('application.source-changed');
    expect(JSON.stringify(audit)).not.toContain(TOKEN);
  });

  it('keeps the stored token when it is left out; If-Match guards concurrent changes', async () => {
    await request(t.server).put(url()).set(owner.auth).set('If-Match', '"7"').send({ repository: 'https://git.example.com/acme/shop.git', ref: 'develop', auth: { kind: 'token' } }).expect(412);
    const r = await request(t.server).put(url()).set(owner.auth).set('If-Match', '"1"').send({ repository: 'https://git.example.com/acme/shop.git', ref: 'develop', auth: { kind: 'token' } }).expect(200);
    expect(r.body).toMatchObject({ ref: 'develop', auth: { tokenSet: true }, version: 2, buildPath: '.', build: { dockerfile: 'Dockerfile', target: null, args: {} } });
    const [before] = await sql<{ token_box: string }>(t, `SELECT token_box FROM application_sources WHERE application_id = $1`, [appId]);
    expect(before.token_box).toBeTruthy();
  });

  it.each([
    ['repository', { repository: 'ext::sh -c touch% /tmp/pwned', ref: 'main' }, '/repository'],
    ['repository', { repository: '--upload-pack=touch /tmp/pwned', ref: 'main' }, '/repository'],
    ['repository', { repository: 'https://user:pass@git.example.com/a.git', ref: 'main' }, '/repository'],
    ['ref', { repository: 'https://git.example.com/a.git', ref: 'main; rm -rf /' }, '/ref'],
    ['ref', { repository: 'https://git.example.com/a.git', ref: '--output=/tmp/x' }, '/ref'],
    ['ref', { repository: 'https://git.example.com/a.git', ref: '$(id)' }, '/ref'],
    ['buildPath', { repository: 'https://git.example.com/a.git', ref: 'main', buildPath: '../../etc' }, '/buildPath'],
    ['build.dockerfile', { repository: 'https://git.example.com/a.git', ref: 'main', build: { dockerfile: '/etc/passwd' } }, '/build/dockerfile'],
    ['build.args', { repository: 'https://git.example.com/a.git', ref: 'main', build: { args: { 'A;B': 'x' } } }, '/build/args/A;B'],
  ])('refuses a hostile %s at its field, and keeps what was stored', async (_what, body, pointer) => {
    const r = await request(t.server).put(url()).set(owner.auth).send({ auth: { kind: 'none' }, ...body }).expect(400);
    expect(r.body.errors.map((e: { pointer: string }) => e.pointer)).toContain(pointer);
    expect((await request(t.server).get(url()).set(owner.auth).expect(200)).body).toMatchObject({ ref: 'develop', version: 2 });
  });

  it('deploy-key authentication generates an ed25519 key; a new one replaces it; the private half never leaves', async () => {
    const r = await request(t.server).put(url()).set(owner.auth).send({ repository: 'git@git.example.com:acme/shop.git', ref: 'main', auth: { kind: 'deploy-key' } }).expect(200);
    expect(r.body.auth).toEqual({ kind: 'deploy-key', username: null, tokenSet: false });
    expect(r.body.deployKey.publicKey).toMatch(/^ssh-ed25519 AAAA[A-Za-z0-9+/=]+ wharf-shop$/);
    expect(r.body.deployKey.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    const again = await request(t.server).post(`${url()}/deploy-key`).set(owner.auth).expect(200);
    expect(again.body.deployKey.fingerprint).not.toBe(r.body.deployKey.fingerprint);
    expect(JSON.stringify(again.body)).not.toContain('PRIVATE KEY');
    const [row] = await sql<{ deploy_key_box: string; token_box: string | null }>(t, `SELECT deploy_key_box, token_box FROM application_sources WHERE application_id = $1`, [appId]);
    expect(row.deploy_key_box).not.toContain('PRIVATE KEY');
    expect(row.token_box).toBeNull();
  });

  it('the webhook secret is revealed on request and rotated, both audited; a viewer may do neither', async () => {
    const first = (await request(t.server).post(`${url()}/webhook-secret/reveal`).set(owner.auth).expect(200)).body.secret as string;
    expect(first).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await request(t.server).post(`${url()}/webhook-secret/reveal`).set(owner.auth).expect(200)).body.secret).toBe(first);
    const rotated = (await request(t.server).post(`${url()}/webhook-secret/rotate`).set(owner.auth).expect(200)).body.secret as string;
    expect(rotated).not.toBe(first);
    await request(t.server).post(`${url()}/webhook-secret/reveal`).set(viewer.auth).expect(403);
    await request(t.server).put(url()).set(viewer.auth).send({ repository: 'https://git.example.com/a.git', ref: 'main', auth: { kind: 'none' } }).expect(403);
    const audit = await auditAll(t, owner, owner.organizationId);
    expect(audit.filter((a) => a.action === 'application.webhook-secret-revealed')).toHaveLength(2);
    expect(audit.filter((a) => a.action === 'application.webhook-secret-rotated')).toHaveLength(1);
    expect(JSON.stringify(audit)).not.toContain(first);
    expect(JSON.stringify(audit)).not.toContain(rotated);
  });

  it('another organization sees nothing, whatever the route', async () => {
    await request(t.server).get(url()).set(outsider.auth).expect(404);
    await request(t.server).put(url()).set(outsider.auth).send({ repository: 'https://git.example.com/a.git', ref: 'main', auth: { kind: 'none' } }).expect(404);
    await request(t.server).post(`${url()}/webhook-secret/reveal`).set(outsider.auth).expect(404);
    await request(t.server).delete(url()).set(outsider.auth).expect(404);
  });

  it('removing it takes the deploy key and secret with it', async () => {
    await request(t.server).delete(url()).set(owner.auth).expect(204);
    await request(t.server).get(url()).set(owner.auth).expect(404);
    await request(t.server).delete(url()).set(owner.auth).expect(404);
    expect(await sql(t, `SELECT 1 FROM application_sources WHERE application_id = $1`, [appId])).toEqual([]);
  });
});
