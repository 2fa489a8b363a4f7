/**
 * Push-to-deploy webhooks through the real HTTP stack (no worker: queued deployments stay queued): signatures of each
 * provider checked over the exact bytes, every delivery recorded, duplicates answered without acting, other branches
 * and unwatched paths ignored with the reason, a burst collapsing to the newest commit, and the deployment requested
 * by a webhook principal limited to the application's environment.
 */
import { createHmac } from 'node:crypto';
import request from 'supertest';
import { startTestApp, TestApp } from '../../support/app';
import { addMember, createOrganization, Session, setupOwner } from '../../support/api';
import { NO_WORKER } from '../../support/route-matrix';
import { signGenericWebhook } from '@wharf/sources';
import { auditAll } from '../audit/helpers';

const SHA = (n: number) => n.toString(16).padStart(40, 'a');

describe('webhooks', () => {
  let t: TestApp;
  let owner: Session & { organizationId: string };
  let outsider: Session;
  let appId: string;
  let secret: string;
  const hook = (provider: string) => `/api/v1/webhooks/applications/${appId}/${provider}`;
  const githubPush = (n: number, extra: Record<string, unknown> = {}) => JSON.stringify({
    ref: 'refs/heads/main', before: SHA(0), after: SHA(n), deleted: false, repository: { full_name: 'acme/shop' },
    commits: [{ id: SHA(n), message: `change ${n}`, author: { name: 'Dev', email: 'dev@example.com' }, timestamp: '2026-12-05T10:00:00Z', added: [], removed: [], modified: ['web/index.html'] }],
    head_commit: { id: SHA(n), message: `change ${n}`, author: { name: 'Dev', email: 'dev@example.com' }, timestamp: '2026-12-05T10:00:00Z' },
    ...extra,
  });
  const github = (body: string, delivery: string, key = secret) =>
    request(t.server).post(hook('github')).set('Content-Type', 'application/json').set('X-GitHub-Event', 'push').set('X-GitHub-Delivery', delivery)
      .set('X-Hub-Signature-256', `sha256=${createHmac('sha256', key).update(body).digest('hex')}`).send(body);

  beforeAll(async () => {
    t = await startTestApp(NO_WORKER);
    owner = await setupOwner(t, 'owner@example.com', 'Acme');
    outsider = await addMember(t, owner, owner.organizationId, 'outsider@example.com', 'viewer');
    await createOrganization(t, outsider, 'Elsewhere');
    await request(t.server).delete(`/api/v1/organizations/${owner.organizationId}/members/${outsider.userId}`).set(owner.auth).expect(204);
    const project = await request(t.server).post(`/api/v1/organizations/${owner.organizationId}/projects`).set(owner.auth).send({ name: 'web' }).expect(201);
    appId = (await request(t.server).post(`/api/v1/environments/${project.body.environments[0].id}/applications`).set(owner.auth).send({ name: 'shop', spec: { image: 'busybox:latest' } }).expect(201)).body.id;
    await request(t.server).put(`/api/v1/applications/${appId}/source`).set(owner.auth).send({ repository: 'https://git.example.com/acme/shop.git', ref: 'main', watchPaths: ['web/**'], auth: { kind: 'none' } }).expect(200);
    secret = (await request(t.server).post(`/api/v1/applications/${appId}/source/webhook-secret/reveal`).set(owner.auth).expect(200)).body.secret;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('a signed GitHub push to the tracked branch queues a deployment of that commit, requested by the webhook', async () => {
    const r = await github(githubPush(1), 'gh-1').expect(202);
    expect(r.body).toMatchObject({ outcome: 'accepted', deliveryId: 'gh-1', deploymentId: expect.any(String) });
    const d = (await request(t.server).get(`/api/v1/deployments/${r.body.deploymentId}`).set(owner.auth).expect(200)).body;
    expect(d).toMatchObject({ kind: 'deploy', status: 'queued', source: { repository: 'https://git.example.com/acme/shop.git', ref: 'main', commit: SHA(1) } });
    expect(d.requestedBy).toMatchObject({ type: 'api-key', name: 'webhook:github gh-1' });
    const queued = (await auditAll(t, owner, owner.organizationId)).find((e) => e.action === 'deployment.queued');
    expect(queued?.actor.name).toBe('webhook:github gh-1');
  });

  it('a repeated delivery id is a duplicate: answered, not acted on', async () => {
    const before = (await request(t.server).get(`/api/v1/applications/${appId}/deployments`).set(owner.auth).expect(200)).body.items.length;
    const r = await github(githubPush(1), 'gh-1').expect(200);
    expect(r.body).toMatchObject({ outcome: 'duplicate', deploymentId: null });
    expect((await request(t.server).get(`/api/v1/applications/${appId}/deployments`).set(owner.auth).expect(200)).body.items).toHaveLength(before);
  });

  it('refuses bad signatures (401), and ignores other branches and unwatched paths with the reason (202)', async () => {
    expect((await github(githubPush(2), 'gh-bad', 'not-the-secret').expect(401)).body).toMatchObject({ outcome: 'rejected', deploymentId: null });
    await request(t.server).post(hook('github')).set('Content-Type', 'application/json').set('X-GitHub-Event', 'push').send(githubPush(2)).expect(401);
    expect((await github(githubPush(3, { ref: 'refs/heads/develop' }), 'gh-3').expect(202)).body).toMatchObject({ outcome: 'ignored', reason: 'branch "develop" is not the tracked branch "main"' });
    const docsOnly = githubPush(4, { commits: [{ id: SHA(4), message: 'docs', added: ['docs/a.md'], removed: [], modified: [] }] });
    expect((await github(docsOnly, 'gh-4').expect(202)).body.reason).toMatch(/^no changed file matches the watch paths/);
    const ping = JSON.stringify({ zen: 'hi' });
    const p = await request(t.server).post(hook('github')).set('Content-Type', 'application/json').set('X-GitHub-Event', 'ping').set('X-GitHub-Delivery', 'gh-ping')
      .set('X-Hub-Signature-256', `sha256=${createHmac('sha256', secret).update(ping).digest('hex')}`).send(ping).expect(202);
    expect(p.body).toMatchObject({ outcome: 'ignored', reason: 'ping' });
  });

  it('a burst of pushes collapses to the newest commit', async () => {
    const a = (await github(githubPush(5), 'gh-5').expect(202)).body.deploymentId;
    const b = (await github(githubPush(6), 'gh-6').expect(202)).body.deploymentId;
    expect((await request(t.server).get(`/api/v1/deployments/${a}`).set(owner.auth).expect(200)).body.status).toBe('superseded');
    expect((await request(t.server).get(`/api/v1/deployments/${b}`).set(owner.auth).expect(200)).body).toMatchObject({ status: 'queued', source: { commit: SHA(6) } });
  });

  it('GitLab (token) and the generic sender (signed timestamp, replay window)', async () => {
    const gl = JSON.stringify({ object_kind: 'push', ref: 'refs/heads/main', after: SHA(7), checkout_sha: SHA(7), total_commits_count: 1, commits: [{ id: SHA(7), message: 'm', added: ['web/x'], modified: [], removed: [] }] });
    expect((await request(t.server).post(hook('gitlab')).set('Content-Type', 'application/json').set('X-Gitlab-Event', 'Push Hook').set('X-Gitlab-Event-UUID', 'gl-7').set('X-Gitlab-Token', secret).send(gl).expect(202)).body.outcome).toBe('accepted');
    await request(t.server).post(hook('gitlab')).set('Content-Type', 'application/json').set('X-Gitlab-Event', 'Push Hook').set('X-Gitlab-Token', 'wrong').send(gl).expect(401);
    const body = JSON.stringify({ ref: 'main', commit: SHA(8) });
    const now = Math.floor(Date.now() / 1000);
    expect((await request(t.server).post(hook('generic')).set('Content-Type', 'application/json').set(signGenericWebhook(secret, body, now)).send(body).expect(202)).body.outcome).toBe('accepted');
    expect((await request(t.server).post(hook('generic')).set('Content-Type', 'application/json').set(signGenericWebhook(secret, body, now - 3600)).send(body).expect(401)).body.reason).toMatch(/X-Wharf-Timestamp is \d+ s away/);
  });

  it('unknown applications and providers are 404; non-JSON is a 400; the delivery history lists every outcome (owner only)', async () => {
    await request(t.server).post(`/api/v1/webhooks/applications/01a2467e-188d-7b72-946c-6fddb979a3f0/github`).set('Content-Type', 'application/json').send('{}').expect(404);
    await request(t.server).post(hook('svn')).set('Content-Type', 'application/json').send('{}').expect(404);
    await request(t.server).post(hook('github')).set('Content-Type', 'text/plain').send('hello').expect(400);
    const list = (await request(t.server).get(`/api/v1/applications/${appId}/source/deliveries`).set(owner.auth).expect(200)).body as Array<{ outcome: string; deliveryId: string; reason: string | null }>;
    expect(new Set(list.map((d) => d.outcome))).toEqual(new Set(['accepted', 'ignored', 'rejected']));
    expect(list.filter((d) => d.deliveryId === 'gh-1')).toHaveLength(1);
    expect(JSON.stringify(list)).not.toContain(secret);
    await request(t.server).get(`/api/v1/applications/${appId}/source/deliveries`).set(outsider.auth).expect(404);
  });
});
