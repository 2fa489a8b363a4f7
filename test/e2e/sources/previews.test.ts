/**
 * Preview deployments through the real HTTP stack and database (no worker: queued deployments stay queued): signed
 * pull request deliveries create a preview application (spec, source at the head commit, variables with the overrides,
 * a domain under the preview wildcard) and queue its deployment; a push redeploys the newest commit; a fork (or a GitHub
 * author without write access) waits for an approval that only a member who may deploy can give (viewer 403, another
 * organization 404); closing removes the preview through the durable deletion; the limit is enforced with the reason.
 */
import { createHmac } from 'node:crypto';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { startTestApp, TestApp } from '../../support/app';
import { addMember, createOrganization, Session, setupOwner } from '../../support/api';
import { NO_WORKER } from '../../support/route-matrix';
import { auditAll } from '../audit/helpers';

const SHA = (n: number) => n.toString(16).padStart(40, 'b');

describe('preview deployments', () => {
  let t: TestApp;
  let owner: Session & { organizationId: string };
  let developer: Session;
  let viewer: Session;
  let outsider: Session;
  let envId: string;
  let appId: string;
  let secret: string;
  const hook = () => `/api/v1/webhooks/applications/${appId}/github`;
  const pr = (n: number, action: string, sha: string, o: { fork?: boolean; association?: string; merged?: boolean } = {}) => JSON.stringify({
    action, number: n,
    pull_request: {
      number: n, title: `change ${n}`, merged: o.merged ?? false, author_association: o.association ?? 'MEMBER', user: { login: o.fork ? 'stranger' : 'dev' },
      head: { ref: `feature-${n}`, sha, repo: { full_name: o.fork ? 'stranger/shop' : 'acme/shop', fork: !!o.fork } },
      base: { ref: 'main', sha: SHA(0), repo: { full_name: 'acme/shop', fork: false } },
    },
  });
  const send = (body: string, delivery: string) =>
    request(t.server).post(hook()).set('Content-Type', 'application/json').set('X-GitHub-Event', 'pull_request').set('X-GitHub-Delivery', delivery)
      .set('X-Hub-Signature-256', `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`).send(body);
  const previews = async () => (await request(t.server).get(`/api/v1/applications/${appId}/previews`).set(owner.auth).expect(200)).body as Array<Record<string, any>>;
  const sql = (q: string, params: unknown[]) => t.app.get(DataSource).query(q, params) as Promise<Array<Record<string, any>>>;
  const preview = async (n: number) => (await previews()).find((p) => p.number === n);

  beforeAll(async () => {
    t = await startTestApp(NO_WORKER);
    owner = await setupOwner(t, 'owner@example.com', 'Acme');
    developer = await addMember(t, owner, owner.organizationId, 'dev@example.com', 'developer');
    viewer = await addMember(t, owner, owner.organizationId, 'viewer@example.com', 'viewer');
    outsider = await addMember(t, owner, owner.organizationId, 'outsider@example.com', 'viewer');
    await createOrganization(t, outsider, 'Elsewhere');
    await request(t.server).delete(`/api/v1/organizations/${owner.organizationId}/members/${outsider.userId}`).set(owner.auth).expect(204);
    const project = await request(t.server).post(`/api/v1/organizations/${owner.organizationId}/projects`).set(owner.auth).send({ name: 'web' }).expect(201);
    envId = project.body.environments[0].id;
    appId = (await request(t.server).post(`/api/v1/environments/${envId}/applications`).set(owner.auth).send({ name: 'shop', spec: { image: 'busybox:latest', ports: [{ target: 8080, published: 18080, mode: 'host' }] } }).expect(201)).body.id;
    await request(t.server).put(`/api/v1/applications/${appId}/source`).set(owner.auth).send({ repository: 'https://git.example.com/acme/shop.git', ref: 'main', auth: { kind: 'token', token: 'parent-token-123' } }).expect(200);
    await request(t.server).put(`/api/v1/applications/${appId}/variables`).set(owner.auth).send({ variables: [{ key: 'MODE', value: 'production' }, { key: 'DB_PASSWORD', value: 's3cret-db', secret: true }] }).expect((r) => expect(r.status).toBeLessThan(300));
    secret = (await request(t.server).post(`/api/v1/applications/${appId}/source/webhook-secret/reveal`).set(owner.auth).expect(200)).body.secret;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('settings: defaults, validation naming the field, If-Match, viewer read-only, other organization 404, secrets never returned', async () => {
    const initial = await request(t.server).get(`/api/v1/applications/${appId}/previews/settings`).set(viewer.auth).expect(200);
    expect(initial.body).toMatchObject({ enabled: false, domain: null, maxPreviews: 5, version: 0 });
    const bad = await request(t.server).put(`/api/v1/applications/${appId}/previews/settings`).set(owner.auth).send({ enabled: true, domain: 'preview.example.com', maxPreviews: 0, env: [{ key: '1X', value: 'a' }] }).expect(400);
    expect(bad.body.errors.map((e: { pointer: string }) => e.pointer).sort()).toEqual(['/domain', '/env/0/key', '/maxPreviews']);
    await request(t.server).put(`/api/v1/applications/${appId}/previews/settings`).set(viewer.auth).send({ enabled: true }).expect(403);
    await request(t.server).put(`/api/v1/applications/${appId}/previews/settings`).set(outsider.auth).send({ enabled: true }).expect(404);
    await request(t.server).get(`/api/v1/applications/${appId}/previews/settings`).set(outsider.auth).expect(404);
    const body = { enabled: true, domain: '*.Preview.Example.com', https: false, maxPreviews: 2, env: [{ key: 'MODE', value: 'preview', secret: false }, { key: 'PREVIEW_TOKEN', value: 'tok-preview-999', secret: true }] };
    const saved = await request(t.server).put(`/api/v1/applications/${appId}/previews/settings`).set(owner.auth).set('If-Match', '"0"').send(body).expect(200);
    expect(saved.body).toMatchObject({ enabled: true, domain: '*.preview.example.com', https: false, maxPreviews: 2, version: 1, env: [{ key: 'MODE', value: 'preview', secret: false }, { key: 'PREVIEW_TOKEN', value: null, secret: true }] });
    expect(JSON.stringify(saved.body)).not.toContain('tok-preview-999');
    await request(t.server).put(`/api/v1/applications/${appId}/previews/settings`).set(owner.auth).set('If-Match', '"0"').send(body).expect(412);
    // A secret override sent without a value keeps its stored value.
    const kept = await request(t.server).put(`/api/v1/applications/${appId}/previews/settings`).set(owner.auth).set('If-Match', '"1"').send({ ...body, env: [body.env[0], { key: 'PREVIEW_TOKEN', secret: true }] }).expect(200);
    expect(kept.body.version).toBe(2);
    const audit = (await auditAll(t, owner, owner.organizationId)).filter((e) => e.action === 'preview.settings-changed');
    expect(audit).toHaveLength(2);
    expect(JSON.stringify(audit)).not.toContain('tok-preview-999');
  });

  it('a pull request opened by a member creates the preview application and queues its deployment at the head commit', async () => {
    const r = await send(pr(1, 'opened', SHA(1)), 'pr-1-open').expect(202);
    expect(r.body).toMatchObject({ outcome: 'accepted', deploymentId: expect.any(String) });
    const p = await preview(1);
    expect(p).toMatchObject({ state: 'active', headSha: SHA(1), approvedSha: SHA(1), deployedSha: SHA(1), fromFork: false, url: 'http://pr-1-shop.preview.example.com', deployment: { id: r.body.deploymentId, status: 'queued' } });
    const d = (await request(t.server).get(`/api/v1/deployments/${r.body.deploymentId}`).set(owner.auth).expect(200)).body;
    expect(d).toMatchObject({ applicationId: p!.applicationId, status: 'queued', source: { repository: 'https://git.example.com/acme/shop.git', ref: 'feature-1', commit: SHA(1) } });
    // The child: the parent's spec with one replica and no published port, its own source (token kept, not shown), the overrides, the preview domain.
    const child = (await request(t.server).get(`/api/v1/applications/${p!.applicationId}`).set(owner.auth).expect(200)).body;
    expect(child).toMatchObject({ environmentId: envId, previewOf: appId, name: 'shop PR #1', spec: { image: 'busybox:latest', replicas: 1, ports: [] } });
    expect((await request(t.server).get(`/api/v1/applications/${p!.applicationId}/source`).set(owner.auth).expect(200)).body).toMatchObject({ ref: 'feature-1', auth: { kind: 'token', tokenSet: true } });
    const vars = (await request(t.server).get(`/api/v1/applications/${p!.applicationId}/variables`).set(owner.auth).expect(200)).body as Array<{ key: string; value: string | null; secret: boolean }>;
    expect(vars.map((v) => [v.key, v.value, v.secret])).toEqual([['DB_PASSWORD', null, true], ['MODE', 'preview', false], ['PREVIEW_TOKEN', null, true]]);
    const revealed = await request(t.server).post(`/api/v1/applications/${p!.applicationId}/variables/PREVIEW_TOKEN/reveal`).set(owner.auth).expect(200);
    expect(revealed.body.value).toBe('tok-preview-999');
    expect((await request(t.server).post(`/api/v1/applications/${p!.applicationId}/variables/DB_PASSWORD/reveal`).set(owner.auth).expect(200)).body.value).toBe('s3cret-db');
    expect((await request(t.server).get(`/api/v1/applications/${p!.applicationId}/domains`).set(owner.auth).expect(200)).body).toMatchObject([{ host: 'pr-1-shop.preview.example.com', port: 8080, https: false }]);
    // Previews stay out of the application list.
    const list = (await request(t.server).get(`/api/v1/environments/${envId}/applications`).set(owner.auth).expect(200)).body.items as Array<{ id: string }>;
    expect(list.map((a) => a.id)).toEqual([appId]);
    // A preview takes no webhooks of its own.
    await request(t.server).post(`/api/v1/webhooks/applications/${p!.applicationId}/github`).set('Content-Type', 'application/json').send('{}').expect(404);
  });

  it('a push to the pull request redeploys at the newest commit (the older queued deployment is superseded)', async () => {
    const first = (await preview(1))!.deployment.id;
    const r = await send(pr(1, 'synchronize', SHA(2)), 'pr-1-sync').expect(202);
    expect(r.body.outcome).toBe('accepted');
    expect((await request(t.server).get(`/api/v1/deployments/${first}`).set(owner.auth).expect(200)).body.status).toBe('superseded');
    expect(await preview(1)).toMatchObject({ headSha: SHA(2), deployedSha: SHA(2), deployment: { id: r.body.deploymentId, status: 'queued' } });
    // The same delivery again is a duplicate, nothing happens.
    expect((await send(pr(1, 'synchronize', SHA(2)), 'pr-1-sync').expect(200)).body.outcome).toBe('duplicate');
    // An edit without a new commit (GitHub's "edited") changes nothing.
    expect((await send(pr(1, 'edited', SHA(2)), 'pr-1-edit').expect(202)).body).toMatchObject({ outcome: 'ignored', reason: 'pull request #1: no new commit' });
    expect((await preview(1))!.deployment.id).toBe(r.body.deploymentId);
  });

  it('a fork waits for an approval: viewer 403, other organization 404, a developer approves, a new push needs a new approval', async () => {
    const r = await send(pr(2, 'opened', SHA(3), { fork: true, association: 'NONE' }), 'pr-2-open').expect(202);
    expect(r.body).toMatchObject({ outcome: 'accepted', deploymentId: null, reason: expect.stringMatching(/awaits an approval: the pull request comes from a fork/) });
    expect(await preview(2)).toMatchObject({ state: 'awaiting-approval', applicationId: null, approvedSha: null, deployment: null, approvalReason: 'the pull request comes from a fork' });
    await request(t.server).post(`/api/v1/applications/${appId}/previews/2/approve`).set(viewer.auth).send({}).expect(403);
    await request(t.server).post(`/api/v1/applications/${appId}/previews/2/approve`).set(outsider.auth).send({}).expect(404);
    await request(t.server).post(`/api/v1/applications/${appId}/previews/99/approve`).set(developer.auth).send({}).expect(404);
    await request(t.server).post(`/api/v1/applications/${appId}/previews/2/approve`).set(developer.auth).send({ commit: SHA(9) }).expect(409);
    const approved = await request(t.server).post(`/api/v1/applications/${appId}/previews/2/approve`).set(developer.auth).send({ commit: SHA(3) }).expect(200);
    expect(approved.body).toMatchObject({ state: 'active', approvedSha: SHA(3), deployedSha: SHA(3), deployment: { status: 'queued' }, url: 'http://pr-2-shop.preview.example.com' });
    const d = (await request(t.server).get(`/api/v1/deployments/${approved.body.deployment.id}`).set(owner.auth).expect(200)).body;
    expect(d).toMatchObject({ source: { commit: SHA(3), ref: SHA(3) }, requestedBy: { type: 'user', name: expect.any(String) } });
    await request(t.server).post(`/api/v1/applications/${appId}/previews/2/approve`).set(developer.auth).send({}).expect(409);
    const audit = (await auditAll(t, owner, owner.organizationId)).filter((e) => e.action === 'preview.approved');
    expect(audit).toHaveLength(1);
    expect(audit[0].actor.name).not.toMatch(/^preview/);

    // A push to the fork: awaiting again, the approved commit keeps running, nothing is deployed.
    const push = await send(pr(2, 'synchronize', SHA(4), { fork: true, association: 'NONE' }), 'pr-2-sync').expect(202);
    expect(push.body).toMatchObject({ outcome: 'accepted', deploymentId: null });
    expect(await preview(2)).toMatchObject({ state: 'awaiting-approval', headSha: SHA(4), approvedSha: SHA(3), deployedSha: SHA(3), deployment: { id: approved.body.deployment.id } });
    // Approving it again deploys the new head (the approval names what was reviewed).
    const again = await request(t.server).post(`/api/v1/applications/${appId}/previews/2/approve`).set(owner.auth).send({ commit: SHA(4) }).expect(200);
    expect(again.body).toMatchObject({ state: 'active', approvedSha: SHA(4), deployedSha: SHA(4), applicationId: approved.body.applicationId });
    expect(again.body.deployment.id).not.toBe(approved.body.deployment.id);
  });

  it('the limit is enforced with the reason; a GitHub author without write access waits for an approval', async () => {
    const full = await send(pr(3, 'opened', SHA(5)), 'pr-3-open').expect(202);
    expect(full.body).toMatchObject({ outcome: 'ignored', reason: 'pull request #3: the limit of 2 previews is reached' });
    expect(await preview(3)).toBeUndefined();
  });

  it('closing a pull request removes its preview through the durable deletion; every delivery is recorded', async () => {
    const child = (await preview(1))!.applicationId;
    const r = await send(pr(1, 'closed', SHA(2), { merged: true }), 'pr-1-close').expect(202);
    expect(r.body).toMatchObject({ outcome: 'accepted', reason: 'pull request #1 merged: preview removed' });
    expect(await preview(1)).toBeUndefined();
    const [row] = await sql(`SELECT deleting FROM applications WHERE id = $1`, [child]);
    expect(row).toMatchObject({ deleting: true });
    expect((await send(pr(1, 'closed', SHA(2)), 'pr-1-close-again').expect(202)).body).toMatchObject({ outcome: 'ignored', reason: 'pull request #1 closed: no preview to remove' });

    // Room again: a contributor's same-repository pull request waits for an approval.
    const c = await send(pr(4, 'opened', SHA(6), { association: 'CONTRIBUTOR' }), 'pr-4-open').expect(202);
    expect(c.body).toMatchObject({ outcome: 'accepted', deploymentId: null });
    expect((await preview(4))!.approvalReason).toMatch(/CONTRIBUTOR/);

    const deliveries = (await request(t.server).get(`/api/v1/applications/${appId}/source/deliveries`).set(owner.auth).expect(200)).body as Array<{ deliveryId: string; outcome: string; reason: string | null }>;
    const byId = Object.fromEntries(deliveries.map((d) => [d.deliveryId, d]));
    expect(byId['pr-1-open'].outcome).toBe('accepted');
    expect(byId['pr-3-open']).toMatchObject({ outcome: 'ignored', reason: expect.stringMatching(/limit/) });
    expect(byId['pr-1-close']).toMatchObject({ outcome: 'accepted', reason: expect.stringMatching(/removed/) });
    const audit = await auditAll(t, owner, owner.organizationId);
    expect(audit.filter((e) => e.action === 'preview.created').length).toBe(3);
    expect(audit.filter((e) => e.action === 'preview.removed').length).toBe(1);
  });

  it('GitLab merge requests: opened from the project deploys, merged removes; from a fork it waits; previews off ignores them', async () => {
    const gl = (await request(t.server).post(`/api/v1/environments/${envId}/applications`).set(owner.auth).send({ name: 'gl', spec: { image: 'busybox:latest' } }).expect(201)).body.id as string;
    await request(t.server).put(`/api/v1/applications/${gl}/source`).set(owner.auth).send({ repository: 'https://gitlab.example.com/acme/gl.git', ref: 'main', auth: { kind: 'none' } }).expect(200);
    const token = (await request(t.server).post(`/api/v1/applications/${gl}/source/webhook-secret/reveal`).set(owner.auth).expect(200)).body.secret as string;
    const mr = (iid: number, action: string, sha: string, source = 10) => JSON.stringify({
      object_kind: 'merge_request', user: { username: 'dev' },
      object_attributes: { iid, action, state: action === 'merge' ? 'merged' : 'opened', title: `MR ${iid}`, source_branch: `mr-${iid}`, target_branch: 'main', source_project_id: source, target_project_id: 10, last_commit: { id: sha } },
    });
    const hookGl = (body: string, uuid: string) => request(t.server).post(`/api/v1/webhooks/applications/${gl}/gitlab`).set('Content-Type', 'application/json')
      .set('X-Gitlab-Event', 'Merge Request Hook').set('X-Gitlab-Event-UUID', uuid).set('X-Gitlab-Token', token).send(body).expect(202);
    expect((await hookGl(mr(1, 'open', SHA(20)), 'gl-1')).body).toMatchObject({ outcome: 'ignored', reason: 'pull request #1: previews are not enabled for this application' });
    await request(t.server).put(`/api/v1/applications/${gl}/previews/settings`).set(owner.auth).send({ enabled: true }).expect(200);
    const opened = (await hookGl(mr(1, 'open', SHA(21)), 'gl-2')).body;
    expect(opened).toMatchObject({ outcome: 'accepted', deploymentId: expect.any(String) });
    const list = (await request(t.server).get(`/api/v1/applications/${gl}/previews`).set(owner.auth).expect(200)).body;
    expect(list).toMatchObject([{ number: 1, provider: 'gitlab', state: 'active', headSha: SHA(21), url: null, deployment: { id: opened.deploymentId } }]);
    expect((await hookGl(mr(2, 'open', SHA(22), 99), 'gl-3')).body).toMatchObject({ outcome: 'accepted', deploymentId: null, reason: expect.stringMatching(/fork/) });
    expect((await hookGl(mr(1, 'merge', SHA(21)), 'gl-4')).body).toMatchObject({ outcome: 'accepted', reason: 'pull request #1 merged: preview removed' });
    expect(((await request(t.server).get(`/api/v1/applications/${gl}/previews`).set(owner.auth).expect(200)).body as Array<{ number: number }>).map((p) => p.number)).toEqual([2]);
  });

  it('deleting the application deletes its previews', async () => {
    const children = (await previews()).map((p) => p.applicationId).filter(Boolean);
    expect(children.length).toBeGreaterThan(0);
    await request(t.server).delete(`/api/v1/applications/${appId}`).set(owner.auth).expect((r) => expect(r.status).toBeLessThan(300));
    const deadline = Date.now() + 15_000;
    for (;;) {
      const rows = await sql(`SELECT count(*)::int AS n FROM applications WHERE preview_of = $1 AND NOT deleting`, [appId]);
      if (rows[0].n === 0) break;
      if (Date.now() > deadline) throw new Error('previews were not deleted with their application');
      await new Promise((r) => setTimeout(r, 200));
    }
  });
});
