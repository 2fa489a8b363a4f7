/**
 * Git provider connections through the API with a running worker: create/read/update/delete (secrets never returned,
 * an audited change without them), validation naming the field, a viewer may read but not change, another organization
 * sees nothing (404), and the worker's provider calls (test connection, repositories, branches) against the local
 * contract fake (test/support/git-provider-fake.ts) — refused for private addresses unless the instance allows them
 * (WHARF_GIT_ALLOW_PRIVATE_HOSTS). Real provider APIs are not reachable from the test machine.
 */
import request from 'supertest';
import { startTestApp, TestApp } from '../../support/app';
import { addMember, createOrganization, Session, setupOwner } from '../../support/api';
import { FakeGitProvider, startFakeGitProvider } from '../../support/git-provider-fake';
import { auditAll, sql } from '../audit/helpers';
import { until } from '../../support/until';

const COMMIT = 'c'.repeat(40);
const TOKEN_CANARY = 'glpat-provider-canary-7e1f0c';

async function people(t: TestApp) {
  const owner = await setupOwner(t, 'owner@example.com', 'Acme');
  const viewer = await addMember(t, owner, owner.organizationId, 'viewer@example.com', 'viewer');
  const outsider = await addMember(t, owner, owner.organizationId, 'outsider@example.com', 'viewer');
  await createOrganization(t, outsider, 'Elsewhere');
  await request(t.server).delete(`/api/v1/organizations/${owner.organizationId}/members/${outsider.userId}`).set(owner.auth).expect(204);
  return { owner, viewer, outsider };
}

describe('Git provider connections (private hosts refused: the default)', () => {
  let t: TestApp;
  let owner: Session & { organizationId: string };
  let viewer: Session;
  let outsider: Session;
  let fake: FakeGitProvider;
  let id: string;

  beforeAll(async () => {
    fake = await startFakeGitProvider();
    t = await startTestApp({ WHARF_GIT_ALLOW_PRIVATE_HOSTS: 'false' });
    ({ owner, viewer, outsider } = await people(t));
  });
  afterAll(async () => {
    await t?.close();
    await fake?.stop();
  });

  it('creates a connection whose secrets are stored encrypted and never returned or audited', async () => {
    const r = await request(t.server).post(`/api/v1/organizations/${owner.organizationId}/git-providers`).set(owner.auth)
      .send({ name: 'Company GitLab', kind: 'gitlab', baseUrl: 'https://gitlab.example.com/', token: TOKEN_CANARY }).expect(201);
    id = r.body.id;
    expect(r.body).toMatchObject({ name: 'Company GitLab', kind: 'gitlab', baseUrl: 'https://gitlab.example.com', secretsSet: ['token'], appId: null, version: 1 });
    const gh = await request(t.server).post(`/api/v1/organizations/${owner.organizationId}/git-providers`).set(owner.auth)
      .send({ name: 'GitHub', kind: 'github', appId: fake.github.appId, installationId: fake.github.installationId, privateKey: fake.github.privateKeyPem, webhookSecret: fake.github.webhookSecret }).expect(201);
    expect(gh.body).toMatchObject({ baseUrl: 'https://api.github.com', secretsSet: ['privateKey', 'webhookSecret'] });
    const list = await request(t.server).get(`/api/v1/organizations/${owner.organizationId}/git-providers`).set(viewer.auth).expect(200);
    expect(list.body.map((p: { name: string }) => p.name)).toEqual(['Company GitLab', 'GitHub']);
    const rows = await sql<{ secrets_box: string }>(t, `SELECT secrets_box FROM git_providers WHERE organization_id = $1`, [owner.organizationId]);
    const everything = JSON.stringify([r.body, gh.body, list.body, rows, await auditAll(t, owner, owner.organizationId)]);
    for (const secret of [TOKEN_CANARY, 'PRIVATE KEY', fake.github.privateKeyPem.split('\n')[1], fake.github.webhookSecret]) expect(everything).not.toContain(secret);
    const audit = await auditAll(t, owner, owner.organizationId);
    expect(audit.map((a) => a.action)).toEqual(expect.arrayContaining(['git-provider.created']));
  });

  it('refuses invalid input naming the field', async () => {
    const post = (body: object) => request(t.server).post(`/api/v1/organizations/${owner.organizationId}/git-providers`).set(owner.auth).send(body).expect(400);
    const cases: Array<[object, string]> = [
      [{ name: 'x', kind: 'gitea', token: 't' }, '/baseUrl'],
      [{ name: 'x', kind: 'gitea', baseUrl: 'http://gitea.example.com', token: 't' }, '/baseUrl'],
      [{ name: 'x', kind: 'gitea', baseUrl: 'https://user:pw@gitea.example.com', token: 't' }, '/baseUrl'],
      [{ name: 'x', kind: 'gitea', baseUrl: 'https://gitea.example.com/$(id)', token: 't' }, '/baseUrl'],
      [{ name: 'x', kind: 'gitea', baseUrl: 'https://gitea.example.com' }, '/token'],
      [{ name: 'x', kind: 'github', appId: 'abc', installationId: '1', privateKey: fake.github.privateKeyPem }, '/appId'],
      [{ name: 'x', kind: 'github', appId: '1', installationId: '1', privateKey: 'not a key' }, '/privateKey'],
      [{ name: 'x', kind: 'bitbucket', token: 't' }, '/workspace'],
      [{ name: 'x', kind: 'gitlab', token: 't', appId: '1' }, '/appId'],
    ];
    for (const [body, pointer] of cases) {
      const r = await post(body);
      expect(r.body.errors.map((e: { pointer: string }) => e.pointer)).toContain(pointer);
    }
    await request(t.server).post(`/api/v1/organizations/${owner.organizationId}/git-providers`).set(owner.auth).send({ name: 'x', kind: 'svn' }).expect(400);
    await request(t.server).post(`/api/v1/organizations/${owner.organizationId}/git-providers`).set(owner.auth).send({ name: 'company gitlab', kind: 'gitlab', token: 't' }).expect(409);
  });

  it('updates keep stored secrets unless given; If-Match guards; the kind cannot change', async () => {
    const u = await request(t.server).patch(`/api/v1/git-providers/${id}`).set(owner.auth).set('If-Match', '"1"').send({ name: 'GitLab EU' }).expect(200);
    expect(u.body).toMatchObject({ name: 'GitLab EU', secretsSet: ['token'], version: 2 });
    await request(t.server).patch(`/api/v1/git-providers/${id}`).set(owner.auth).set('If-Match', '"1"').send({ name: 'stale' }).expect(412);
    const k = await request(t.server).patch(`/api/v1/git-providers/${id}`).set(owner.auth).send({ kind: 'gitea' }).expect(400);
    expect(k.body.errors[0].pointer).toBe('/kind');
    await request(t.server).patch(`/api/v1/git-providers/${id}`).set(owner.auth).send({ token: `${TOKEN_CANARY}-2` }).expect(200);
    const audit = await auditAll(t, owner, owner.organizationId);
    expect(audit.filter((a) => a.action === 'git-provider.updated')).toHaveLength(2);
    expect(JSON.stringify(audit)).not.toContain(TOKEN_CANARY);
  });

  it('a viewer reads but cannot change; another organization gets 404 for everything', async () => {
    await request(t.server).get(`/api/v1/git-providers/${id}`).set(viewer.auth).expect(200);
    await request(t.server).patch(`/api/v1/git-providers/${id}`).set(viewer.auth).send({ name: 'mine' }).expect(403);
    await request(t.server).post(`/api/v1/git-providers/${id}/test`).set(viewer.auth).expect(403);
    await request(t.server).delete(`/api/v1/git-providers/${id}`).set(viewer.auth).expect(403);
    await request(t.server).post(`/api/v1/organizations/${owner.organizationId}/git-providers`).set(viewer.auth).send({ name: 'v', kind: 'gitlab', token: 't' }).expect(403);
    for (const [method, path] of [['get', ''], ['patch', ''], ['delete', ''], ['post', '/test'], ['get', '/repositories'], ['get', '/branches?repository=octo/hello']] as const) {
      await request(t.server)[method](`/api/v1/git-providers/${id}${path}`).set(outsider.auth).send(method === 'patch' ? { name: 'x' } : undefined).expect(404);
    }
    await request(t.server).get(`/api/v1/organizations/${owner.organizationId}/git-providers`).set(outsider.auth).expect(404);
  });

  it('the worker refuses loopback, private and link-local base URLs before any request', async () => {
    const before = fake.requests.length;
    for (const baseUrl of [fake.url, 'https://10.20.30.40', 'https://169.254.169.254']) {
      const c = await request(t.server).post(`/api/v1/organizations/${owner.organizationId}/git-providers`).set(owner.auth)
        .send({ name: `ssrf ${baseUrl.replace(/[^0-9]/g, '')}`, kind: 'gitea', baseUrl, token: fake.token }).expect(201);
      const r = await request(t.server).post(`/api/v1/git-providers/${c.body.id}/test`).set(owner.auth).expect(200);
      expect(r.body.ok).toBe(false);
      expect(r.body.message).toMatch(/private, loopback or reserved.*host-refused/);
      const repos = await request(t.server).get(`/api/v1/git-providers/${c.body.id}/repositories`).set(owner.auth).expect(503);
      expect(repos.body.detail).toMatch(/host-refused/);
      await request(t.server).delete(`/api/v1/git-providers/${c.body.id}`).set(owner.auth).expect(204);
    }
    expect(fake.requests.length).toBe(before);
    const audit = await auditAll(t, owner, owner.organizationId);
    expect(audit.filter((a) => a.action === 'git-provider.tested').length).toBeGreaterThanOrEqual(3);
  });

  it('an application source can use the connection (its host only, auth none); a connection in use is not deleted', async () => {
    const project = await request(t.server).post(`/api/v1/organizations/${owner.organizationId}/projects`).set(owner.auth).send({ name: 'web' }).expect(201);
    const appId = (await request(t.server).post(`/api/v1/environments/${project.body.environments[0].id}/applications`).set(owner.auth).send({ name: 'shop', spec: { image: 'busybox:latest' } }).expect(201)).body.id;
    const put = (body: object) => request(t.server).put(`/api/v1/applications/${appId}/source`).set(owner.auth).send({ ref: 'main', auth: { kind: 'none' }, ...body });
    const wrongHost = await put({ repository: 'https://evil.example.net/acme/shop.git', providerId: id }).expect(400);
    expect(wrongHost.body.errors[0].pointer).toBe('/repository');
    const withToken = await put({ repository: 'https://gitlab.example.com/acme/shop.git', providerId: id, auth: { kind: 'token', token: 'x' } }).expect(400);
    expect(withToken.body.errors[0].pointer).toBe('/auth/kind');
    const bad = await put({ repository: 'https://gitlab.example.com/acme/shop.git', providerId: 'nope' }).expect(400);
    expect(bad.body.errors[0].pointer).toBe('/providerId');
    const other = await request(t.server).post(`/api/v1/organizations/${(await request(t.server).get('/api/v1/me').set(outsider.auth)).body.memberships[0].organizationId}/git-providers`).set(outsider.auth).send({ name: 'theirs', kind: 'gitlab', token: 't' }).expect(201);
    await put({ repository: 'https://gitlab.com/acme/shop.git', providerId: other.body.id }).expect(404);
    const ok = await put({ repository: 'https://gitlab.example.com/acme/shop.git', providerId: id }).expect(200);
    expect(ok.body).toMatchObject({ providerId: id, auth: { kind: 'none', tokenSet: false } });
    expect((await request(t.server).get(`/api/v1/applications/${appId}/source`).set(viewer.auth).expect(200)).body.providerId).toBe(id);
    const inUse = await request(t.server).delete(`/api/v1/git-providers/${id}`).set(owner.auth).expect(409);
    expect(inUse.body.code).toBe('git-provider-in-use');
    await put({ repository: 'https://gitlab.example.com/acme/shop.git', providerId: null }).expect(200);
  });

  it('deletes (audited); then 404', async () => {
    await request(t.server).delete(`/api/v1/git-providers/${id}`).set(owner.auth).expect(204);
    await request(t.server).get(`/api/v1/git-providers/${id}`).set(owner.auth).expect(404);
    const audit = await auditAll(t, owner, owner.organizationId);
    expect(audit.map((a) => a.action)).toContain('git-provider.deleted');
  });
});

describe('Git provider connections (the instance allows private hosts)', () => {
  let t: TestApp;
  let owner: Session & { organizationId: string };
  let fake: FakeGitProvider;

  beforeAll(async () => {
    fake = await startFakeGitProvider();
    fake.setRepositories([{ fullName: 'octo/hello', cloneUrl: 'https://127.0.0.1/octo/hello.git', commit: COMMIT }]);
    t = await startTestApp({ WHARF_GIT_ALLOW_PRIVATE_HOSTS: 'true', WHARF_GIT_CA_FILE: fake.caFile });
    ({ owner } = await people(t));
  });
  afterAll(async () => {
    await t?.close();
    await fake?.stop();
  });

  it.each([
    ['github', () => ({ appId: fake.github.appId, installationId: fake.github.installationId, privateKey: fake.github.privateKeyPem, baseUrl: fake.url })],
    ['gitlab', () => ({ baseUrl: fake.url, token: fake.token })],
    ['gitea', () => ({ baseUrl: fake.url, token: fake.token })],
    ['bitbucket', () => ({ baseUrl: `${fake.url}/2.0`, workspace: fake.bitbucket.workspace, username: fake.bitbucket.username, token: fake.token })],
  ] as const)('%s: test connection, repositories and branches through the worker', async (kind, fields) => {
    const c = await request(t.server).post(`/api/v1/organizations/${owner.organizationId}/git-providers`).set(owner.auth).send({ name: `p-${kind}`, kind, ...fields() }).expect(201);
    const r = await request(t.server).post(`/api/v1/git-providers/${c.body.id}/test`).set(owner.auth).expect(200);
    expect(r.body).toEqual({ ok: true, message: expect.any(String) });
    const repos = await request(t.server).get(`/api/v1/git-providers/${c.body.id}/repositories`).set(owner.auth).expect(200);
    expect(repos.body).toEqual([{ fullName: 'octo/hello', cloneUrl: 'https://127.0.0.1/octo/hello.git', defaultBranch: 'main', private: true }]);
    const b = await request(t.server).get(`/api/v1/git-providers/${c.body.id}/branches`).query({ repository: 'octo/hello' }).set(owner.auth).expect(200);
    expect(b.body).toEqual([{ name: 'main', commit: COMMIT }]);
    const bad = await request(t.server).get(`/api/v1/git-providers/${c.body.id}/branches`).query({ repository: '../../etc' }).set(owner.auth).expect(400);
    expect(bad.body.errors[0].pointer).toBe('/repository');
    expect(JSON.stringify([c.body, r.body, repos.body, b.body])).not.toContain(fake.token);
  });

  it('a deployment of a source using the connection posts pending, then failure, as commit statuses', async () => {
    const p = await request(t.server).post(`/api/v1/organizations/${owner.organizationId}/git-providers`).set(owner.auth).send({ name: 'statuses', kind: 'gitea', baseUrl: fake.url, token: fake.token }).expect(201);
    const project = await request(t.server).post(`/api/v1/organizations/${owner.organizationId}/projects`).set(owner.auth).send({ name: 'status' }).expect(201);
    const appId = (await request(t.server).post(`/api/v1/environments/${project.body.environments[0].id}/applications`).set(owner.auth).send({ name: 'hello', spec: { image: 'busybox:latest' } }).expect(201)).body.id;
    // Nothing serves Git on 127.0.0.1:443: the checkout fails, so the deployment ends as failed without touching Docker.
    await request(t.server).put(`/api/v1/applications/${appId}/source`).set(owner.auth).send({ repository: 'https://127.0.0.1/octo/hello.git', ref: 'main', auth: { kind: 'none' }, providerId: p.body.id }).expect(200);
    const d = await request(t.server).post(`/api/v1/applications/${appId}/deployments`).set(owner.auth).send({ commit: COMMIT }).expect(202);
    const path = `/api/v1/repos/octo/hello/statuses/${COMMIT}`;
    const statuses = await until('pending and failure statuses', async () => {
      const got = fake.requests.filter((r) => r.method === 'POST' && r.path === path).map((r) => r.body as { state: string; context: string; target_url: string; description: string });
      return got.some((b) => b.state === 'failure') ? got : null;
    }, 60_000);
    expect(statuses.map((b) => b.state)).toEqual(['pending', 'failure']);
    expect(statuses[1]).toEqual({ state: 'failure', context: 'wharf/hello', description: 'The Wharf deployment failed', target_url: expect.stringMatching(new RegExp(`/orgs/${owner.organizationId}/applications/${appId}/deployments$`)) });
    const after = await request(t.server).get(`/api/v1/deployments/${d.body.id}`).set(owner.auth).expect(200);
    expect(after.body.status).toBe('failed');
  });

  it('wrong credentials: the test says so (no 500)', async () => {
    const c = await request(t.server).post(`/api/v1/organizations/${owner.organizationId}/git-providers`).set(owner.auth).send({ name: 'wrong', kind: 'gitea', baseUrl: fake.url, token: 'wrong-token' }).expect(201);
    const r = await request(t.server).post(`/api/v1/git-providers/${c.body.id}/test`).set(owner.auth).expect(200);
    expect(r.body.ok).toBe(false);
    expect(r.body.message).toMatch(/401.*authentication/);
    await request(t.server).get(`/api/v1/git-providers/${c.body.id}/repositories`).set(owner.auth).expect(503);
  });
});
