/**
 * Manual deploy of a chosen commit or ref through the real HTTP stack (no worker: queued deployments stay queued): the
 * deployment's snapshot and source name exactly that commit/ref; bad values, image applications and other kinds are
 * 400s naming the field; the Idempotency-Key fingerprint covers the commit; another organization gets a 404.
 */
import request from 'supertest';
import { startTestApp, TestApp } from '../../support/app';
import { addMember, createOrganization, Session, setupOwner } from '../../support/api';
import { NO_WORKER } from '../../support/route-matrix';
import { sql } from '../audit/helpers';

const SHA = (n: number) => n.toString(16).padStart(40, 'b');

describe('deploy a chosen commit', () => {
  let t: TestApp;
  let owner: Session & { organizationId: string };
  let outsider: Session;
  let gitApp: string;
  let imageApp: string;
  const deploy = (appId: string, body: Record<string, unknown>, s: Session = owner) => request(t.server).post(`/api/v1/applications/${appId}/deployments`).set(s.auth).send(body);

  beforeAll(async () => {
    t = await startTestApp(NO_WORKER);
    owner = await setupOwner(t, 'owner@example.com', 'Acme');
    outsider = await addMember(t, owner, owner.organizationId, 'outsider@example.com', 'viewer');
    await createOrganization(t, outsider, 'Elsewhere');
    await request(t.server).delete(`/api/v1/organizations/${owner.organizationId}/members/${outsider.userId}`).set(owner.auth).expect(204);
    const project = await request(t.server).post(`/api/v1/organizations/${owner.organizationId}/projects`).set(owner.auth).send({ name: 'web' }).expect(201);
    const envId = project.body.environments[0].id;
    gitApp = (await request(t.server).post(`/api/v1/environments/${envId}/applications`).set(owner.auth).send({ name: 'shop', spec: { image: 'busybox:latest' } }).expect(201)).body.id;
    imageApp = (await request(t.server).post(`/api/v1/environments/${envId}/applications`).set(owner.auth).send({ name: 'plain', spec: { image: 'busybox:latest' } }).expect(201)).body.id;
    await request(t.server).put(`/api/v1/applications/${gitApp}/source`).set(owner.auth).send({ repository: 'https://git.example.com/acme/shop.git', ref: 'main', auth: { kind: 'none' } }).expect(200);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('queues a deployment of exactly the commit (and the ref override), recorded in the snapshot the worker reads', async () => {
    const d = (await deploy(gitApp, { commit: SHA(1) }).expect(202)).body;
    expect(d).toMatchObject({ kind: 'deploy', status: 'queued', source: { ref: 'main', commit: SHA(1) } });
    const sha256 = 'c'.repeat(64);
    const tagged = (await deploy(gitApp, { kind: 'redeploy', ref: 'refs/tags/v1.2.0', commit: sha256 }).expect(202)).body;
    expect(tagged.source).toMatchObject({ ref: 'refs/tags/v1.2.0', commit: sha256 });
    const [row] = await sql(t, `SELECT snapshot->'source' AS source FROM deployments WHERE id = $1`, [tagged.id]);
    expect(row.source).toMatchObject({ ref: 'refs/tags/v1.2.0', commit: sha256 });
    const branch = (await deploy(gitApp, { ref: 'release/2026' }).expect(202)).body;
    expect(branch.source).toMatchObject({ ref: 'release/2026', commit: null });
    // The source's own ref is unchanged.
    expect((await request(t.server).get(`/api/v1/applications/${gitApp}/source`).set(owner.auth).expect(200)).body.ref).toBe('main');
  });

  it.each([
    [{ commit: 'abc123' }, '/commit'],
    [{ commit: SHA(2).toUpperCase() }, '/commit'],
    [{ commit: `${SHA(2)}\n` }, '/commit'],
    [{ commit: 42 }, 'commit'],
    [{ ref: '--upload-pack=touch /tmp/x' }, '/ref'],
    [{ ref: 'main; rm -rf /' }, '/ref'],
    [{ ref: '$(id)' }, '/ref'],
    [{ ref: 'refs/remotes/origin/main' }, '/ref'],
    [{ ref: '../../etc' }, '/ref'],
  ])('refuses %j with a 400 naming the field', async (body, field) => {
    const r = await deploy(gitApp, body).expect(400);
    expect(r.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(JSON.stringify(r.body.errors)).toContain(field);
  });

  it('an image application takes no commit or ref (400 naming the field); nothing is queued', async () => {
    const before = (await request(t.server).get(`/api/v1/applications/${imageApp}/deployments`).set(owner.auth).expect(200)).body.items.length;
    expect((await deploy(imageApp, { commit: SHA(3) }).expect(400)).body.errors).toEqual([expect.objectContaining({ pointer: '/commit', code: 'not-git' })]);
    expect((await deploy(imageApp, { ref: 'main' }).expect(400)).body.errors).toEqual([expect.objectContaining({ pointer: '/ref', code: 'not-git' })]);
    expect((await request(t.server).get(`/api/v1/applications/${imageApp}/deployments`).set(owner.auth).expect(200)).body.items).toHaveLength(before);
  });

  it('an Idempotency-Key repeat with the same commit gets the original; with another commit a 422', async () => {
    const a = (await deploy(gitApp, { commit: SHA(4) }).set('Idempotency-Key', 'pick-4').expect(202)).body;
    expect((await deploy(gitApp, { commit: SHA(4) }).set('Idempotency-Key', 'pick-4').expect(202)).body.id).toBe(a.id);
    await deploy(gitApp, { commit: SHA(5) }).set('Idempotency-Key', 'pick-4').expect(422);
  });

  it('another organization cannot deploy the application (404)', async () => {
    await deploy(gitApp, { commit: SHA(6) }, outsider).expect(404);
  });
});
