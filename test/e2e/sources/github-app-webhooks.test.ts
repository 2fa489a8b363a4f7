/**
 * A GitHub App's webhook through its Git provider connection (POST /api/v1/webhooks/git-providers/{id}/github), over
 * the real HTTP stack and database (no worker: queued deployments stay queued), with payloads in GitHub's shape: the
 * signature is checked with the connection's webhook secret (none set: every delivery refused), a push reaches exactly
 * the applications of that organization whose source uses the connection and names the repository (not an application
 * of another organization with the same repository, not one with the same repository without the connection), a
 * redelivery is a duplicate, ping and installation events are ignored with the reason, a fork's pull request waits for
 * an approval, an oversized body is refused, and deliveries show in the application's and the connection's history
 * (kept like an application's: rejected ones 7 days, others 30).
 */
import { createHmac, generateKeyPairSync } from 'node:crypto';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { REJECTED_RECORDED_PER_10_MIN } from '@wharf/sources';
import { startTestApp, TestApp } from '../../support/app';
import { addMember, createOrganization, Session, setupOwner } from '../../support/api';
import { NO_WORKER } from '../../support/route-matrix';
import { OutboxMaintenance } from '../../../apps/worker/src/jobs/outbox-maintenance';

const SHA = (n: number) => n.toString(16).padStart(40, 'e');
const PEM = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
const WEBHOOK_SECRET = 'gh-app-webhook-secret-4c1d';

/** The repository object GitHub puts in every repository event (the fields Wharf reads, and some it does not). */
const repository = (fullName: string) => ({
  id: 1296269, node_id: 'MDEwOlJlcG9zaXRvcnkxMjk2MjY5', name: fullName.split('/')[1], full_name: fullName, private: true,
  owner: { login: fullName.split('/')[0], id: 1, type: 'Organization' },
  html_url: `https://github.com/${fullName}`, clone_url: `https://github.com/${fullName}.git`, git_url: `git://github.com/${fullName}.git`,
  ssh_url: `git@github.com:${fullName}.git`, default_branch: 'main', fork: false,
});
const installation = { id: 4242, node_id: 'MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uNDI0Mg==' };
const sender = { login: 'dev', id: 7, type: 'User' };

const push = (fullName: string, n: number, ref = 'refs/heads/main') => JSON.stringify({
  ref, before: SHA(0), after: SHA(n), created: false, deleted: false, forced: false, base_ref: null,
  compare: `https://github.com/${fullName}/compare/${SHA(0).slice(0, 12)}...${SHA(n).slice(0, 12)}`,
  commits: [{ id: SHA(n), tree_id: SHA(99), distinct: true, message: `change ${n}`, timestamp: '2026-12-05T10:00:00Z', url: `https://github.com/${fullName}/commit/${SHA(n)}`,
    author: { name: 'Dev', email: 'dev@example.com', username: 'dev' }, committer: { name: 'Dev', email: 'dev@example.com', username: 'dev' }, added: [], removed: [], modified: ['web/index.html'] }],
  head_commit: { id: SHA(n), tree_id: SHA(99), distinct: true, message: `change ${n}`, timestamp: '2026-12-05T10:00:00Z', author: { name: 'Dev', email: 'dev@example.com', username: 'dev' },
    committer: { name: 'Dev', email: 'dev@example.com', username: 'dev' }, added: [], removed: [], modified: ['web/index.html'] },
  repository: repository(fullName), pusher: { name: 'dev', email: 'dev@example.com' }, sender, installation,
});

const pullRequest = (fullName: string, n: number, sha: string, fork: boolean) => JSON.stringify({
  action: 'opened', number: n,
  pull_request: {
    url: `https://api.github.com/repos/${fullName}/pulls/${n}`, id: 1000 + n, number: n, state: 'open', locked: false, title: `change ${n}`,
    user: { login: fork ? 'stranger' : 'dev', id: fork ? 99 : 7, type: 'User' }, body: null, author_association: fork ? 'CONTRIBUTOR' : 'MEMBER', draft: false, merged: false,
    head: { label: `${fork ? 'stranger' : 'acme'}:feature-${n}`, ref: `feature-${n}`, sha, user: { login: fork ? 'stranger' : 'acme' }, repo: { ...repository(fork ? `stranger/${fullName.split('/')[1]}` : fullName), fork } },
    base: { label: 'acme:main', ref: 'main', sha: SHA(0), user: { login: 'acme' }, repo: repository(fullName) },
  },
  repository: repository(fullName), sender: fork ? { login: 'stranger', id: 99, type: 'User' } : sender, installation,
});

describe('GitHub App webhooks through the connection', () => {
  let t: TestApp;
  let ds: DataSource;
  let owner: Session & { organizationId: string };
  let outsider: Session;
  let otherOrgId: string;
  let providerId: string;
  let noSecretProviderId: string;
  let giteaProviderId: string;
  const apps: Record<string, string> = {};
  const hook = (id = providerId) => `/api/v1/webhooks/git-providers/${id}/github`;
  const sign = (body: string, secret = WEBHOOK_SECRET) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
  const deliver = (event: string, body: string, delivery: string, o: { secret?: string; id?: string; signature?: string | null } = {}) => {
    const r = request(t.server).post(hook(o.id)).set('Content-Type', 'application/json').set('X-GitHub-Event', event).set('X-GitHub-Delivery', delivery)
      .set('X-GitHub-Hook-ID', '123456').set('X-GitHub-Hook-Installation-Target-Type', 'integration').set('X-GitHub-Hook-Installation-Target-ID', '1234').set('User-Agent', 'GitHub-Hookshot/abc123');
    if (o.signature !== null) r.set('X-Hub-Signature-256', o.signature ?? sign(body, o.secret));
    return r.send(body);
  };
  const deployments = async (session: Session, appId: string) => (await request(t.server).get(`/api/v1/applications/${appId}/deployments`).set(session.auth).expect(200)).body.items as Array<{ id: string }>;
  const deliveries = async (session: Session, appId: string) => (await request(t.server).get(`/api/v1/applications/${appId}/source/deliveries`).set(session.auth).expect(200)).body as Array<Record<string, unknown>>;
  const connectionDeliveries = async (id = providerId) => (await request(t.server).get(`/api/v1/git-providers/${id}/deliveries`).set(owner.auth).expect(200)).body as Array<Record<string, unknown>>;

  async function connect(session: Session, orgId: string, name: string, webhookSecret?: string): Promise<string> {
    const body = { name, kind: 'github', appId: '1234', installationId: '4242', privateKey: PEM, ...(webhookSecret ? { webhookSecret } : {}) };
    return (await request(t.server).post(`/api/v1/organizations/${orgId}/git-providers`).set(session.auth).send(body).expect(201)).body.id;
  }
  async function application(session: Session, orgId: string, name: string, source: Record<string, unknown>): Promise<string> {
    const project = await request(t.server).post(`/api/v1/organizations/${orgId}/projects`).set(session.auth).send({ name: `p-${name}` }).expect(201);
    const id = (await request(t.server).post(`/api/v1/environments/${project.body.environments[0].id}/applications`).set(session.auth).send({ name, spec: { image: 'busybox:latest' } }).expect(201)).body.id;
    await request(t.server).put(`/api/v1/applications/${id}/source`).set(session.auth).send({ ref: 'main', auth: { kind: 'none' }, ...source }).expect(200);
    return id;
  }

  beforeAll(async () => {
    t = await startTestApp(NO_WORKER);
    ds = t.app.get(DataSource);
    owner = await setupOwner(t, 'owner@example.com', 'Acme');
    outsider = await addMember(t, owner, owner.organizationId, 'outsider@example.com', 'viewer');
    otherOrgId = await createOrganization(t, outsider, 'Elsewhere');
    await request(t.server).delete(`/api/v1/organizations/${owner.organizationId}/members/${outsider.userId}`).set(owner.auth).expect(204);

    providerId = await connect(owner, owner.organizationId, 'GitHub', WEBHOOK_SECRET);
    noSecretProviderId = await connect(owner, owner.organizationId, 'GitHub without secret');
    giteaProviderId = (await request(t.server).post(`/api/v1/organizations/${owner.organizationId}/git-providers`).set(owner.auth).send({ name: 'Gitea', kind: 'gitea', baseUrl: 'https://gitea.example.com', token: 'tok' }).expect(201)).body.id;
    const otherProviderId = await connect(outsider, otherOrgId, 'Their GitHub', WEBHOOK_SECRET);

    apps.shop = await application(owner, owner.organizationId, 'shop', { repository: 'https://github.com/Acme/Shop.git', providerId, watchPaths: ['web/**'] });
    apps.withoutConnection = await application(owner, owner.organizationId, 'shop-plain', { repository: 'https://github.com/acme/shop.git' });
    apps.otherRepository = await application(owner, owner.organizationId, 'blog', { repository: 'https://github.com/acme/blog.git', providerId });
    apps.otherOrganization = await application(outsider, otherOrgId, 'their-shop', { repository: 'https://github.com/acme/shop.git', providerId: otherProviderId });
  });
  afterAll(async () => {
    await t?.close();
  });

  it("shows the App's webhook path on GitHub connections only", async () => {
    const gh = (await request(t.server).get(`/api/v1/git-providers/${providerId}`).set(owner.auth).expect(200)).body;
    expect(gh.webhookPath).toBe(`/api/v1/webhooks/git-providers/${providerId}/github`);
    expect((await request(t.server).get(`/api/v1/git-providers/${giteaProviderId}`).set(owner.auth).expect(200)).body.webhookPath).toBeNull();
  });

  it("a signed push deploys exactly the matching application of the connection's organization", async () => {
    const r = await deliver('push', push('acme/shop', 1), 'd-push-1').expect(202);
    expect(r.body).toMatchObject({ outcome: 'accepted', deliveryId: 'd-push-1', applications: [{ applicationId: apps.shop, outcome: 'accepted', deploymentId: expect.any(String) }] });
    expect(r.body.applications).toHaveLength(1);
    const d = (await request(t.server).get(`/api/v1/deployments/${r.body.applications[0].deploymentId}`).set(owner.auth).expect(200)).body;
    expect(d).toMatchObject({ kind: 'deploy', status: 'queued', source: { commit: SHA(1) } });
    expect(d.requestedBy).toMatchObject({ type: 'api-key', name: 'webhook:github d-push-1' });
    expect(await deliveries(owner, apps.shop)).toMatchObject([{ deliveryId: 'd-push-1', provider: 'github', event: 'push', outcome: 'accepted', commit: SHA(1), deploymentId: d.id, gitProviderId: providerId }]);
    for (const id of [apps.withoutConnection, apps.otherRepository]) {
      expect(await deployments(owner, id)).toHaveLength(0);
      expect(await deliveries(owner, id)).toHaveLength(0);
    }
    expect(await deployments(outsider, apps.otherOrganization)).toHaveLength(0);
    expect(await deliveries(outsider, apps.otherOrganization)).toHaveLength(0);
    expect((await connectionDeliveries()).find((x) => x.deliveryId === 'd-push-1')).toMatchObject({ event: 'push', outcome: 'accepted', repository: 'acme/shop', applications: 1 });
  });

  it('a redelivery is a duplicate; branch and watch paths are the per-application rules; a burst collapses', async () => {
    expect((await deliver('push', push('acme/shop', 1), 'd-push-1').expect(200)).body).toMatchObject({ outcome: 'duplicate', applications: [] });
    expect(await deployments(owner, apps.shop)).toHaveLength(1);
    const other = await deliver('push', push('acme/shop', 2, 'refs/heads/develop'), 'd-push-2').expect(202);
    expect(other.body).toMatchObject({ outcome: 'ignored', applications: [{ applicationId: apps.shop, outcome: 'ignored', reason: 'branch "develop" is not the tracked branch "main"' }] });
    expect(other.body.reason).toContain('branch "develop" is not the tracked branch "main"');
    const a = (await deliver('push', push('acme/shop', 3), 'd-push-3').expect(202)).body.applications[0].deploymentId;
    const b = (await deliver('push', push('acme/shop', 4), 'd-push-4').expect(202)).body.applications[0].deploymentId;
    expect((await request(t.server).get(`/api/v1/deployments/${a}`).set(owner.auth).expect(200)).body.status).toBe('superseded');
    expect((await request(t.server).get(`/api/v1/deployments/${b}`).set(owner.auth).expect(200)).body).toMatchObject({ status: 'queued', source: { commit: SHA(4) } });
  });

  it('a push of a repository no application uses is recorded on the connection as ignored with the reason', async () => {
    const r = await deliver('push', push('acme/unknown', 5), 'd-unknown').expect(202);
    expect(r.body).toMatchObject({ outcome: 'ignored', reason: 'no application of this connection uses the repository acme/unknown', applications: [] });
    expect((await connectionDeliveries()).find((x) => x.deliveryId === 'd-unknown')).toMatchObject({ outcome: 'ignored', reason: 'no application of this connection uses the repository acme/unknown', applications: 0 });
  });

  it('ping and installation events are answered and recorded as ignored with the reason', async () => {
    const ping = JSON.stringify({ zen: 'Keep it logically awesome.', hook_id: 123456, hook: { type: 'App', id: 123456, active: true, events: ['push', 'pull_request'], app_id: 1234 } });
    expect((await deliver('ping', ping, 'd-ping').expect(202)).body).toMatchObject({ outcome: 'ignored', reason: 'ping' });
    const inst = JSON.stringify({ action: 'added', installation, repository_selection: 'selected', repositories_added: [{ id: 1, full_name: 'acme/shop', private: true }], repositories_removed: [], sender });
    const r = await deliver('installation_repositories', inst, 'd-inst').expect(202);
    expect(r.body).toMatchObject({ outcome: 'ignored', reason: expect.stringContaining('installation') });
    const list = await connectionDeliveries();
    expect(list.find((x) => x.deliveryId === 'd-ping')).toMatchObject({ event: 'ping', outcome: 'ignored', reason: 'ping' });
    expect(list.find((x) => x.deliveryId === 'd-inst')).toMatchObject({ event: 'installation_repositories', outcome: 'ignored', reason: r.body.reason });
    expect((await deliveries(owner, apps.shop)).map((d) => d.deliveryId)).not.toContain('d-ping');
  });

  it('a pull request from a fork waits for an approval', async () => {
    await request(t.server).put(`/api/v1/applications/${apps.shop}/previews/settings`).set(owner.auth).send({ enabled: true, domain: '*.preview.example.com' }).expect(200);
    const r = await deliver('pull_request', pullRequest('acme/shop', 7, SHA(7), true), 'd-pr-7').expect(202);
    expect(r.body.applications).toMatchObject([{ applicationId: apps.shop, outcome: 'accepted', reason: expect.stringMatching(/^pull request #7 awaits an approval/), deploymentId: null }]);
    const previews = (await request(t.server).get(`/api/v1/applications/${apps.shop}/previews`).set(owner.auth).expect(200)).body as Array<Record<string, unknown>>;
    expect(previews.find((p) => p.number === 7)).toMatchObject({ state: 'awaiting-approval', headSha: SHA(7), fromFork: true });
    const member = await deliver('pull_request', pullRequest('acme/shop', 8, SHA(8), false), 'd-pr-8').expect(202);
    expect(member.body.applications).toMatchObject([{ outcome: 'accepted', deploymentId: expect.any(String) }]);
    // The preview's source uses the parent's connection: its checkout gets the App's token and its commit the statuses.
    const child = (await request(t.server).get(`/api/v1/applications/${apps.shop}/previews`).set(owner.auth).expect(200)).body.find((p: { number: number }) => p.number === 8);
    const [row] = await ds.query(`SELECT provider_id FROM application_sources WHERE application_id = $1`, [child.applicationId]);
    expect(row.provider_id).toBe(providerId);
  });

  it('refuses bad, missing and unset signatures (401) and oversized bodies (413); unknown or non-GitHub connections are 404', async () => {
    const body = push('acme/shop', 9);
    const before = (await deployments(owner, apps.shop)).length;
    expect((await deliver('push', body, 'd-bad', { secret: 'not-the-secret' }).expect(401)).body).toMatchObject({ outcome: 'rejected', applications: [] });
    await deliver('push', body, 'd-missing', { signature: null }).expect(401);
    const unset = await deliver('push', body, 'd-unset', { id: noSecretProviderId }).expect(401);
    expect(unset.body.reason).toMatch(/no webhook secret/);
    const big = JSON.stringify({ ...JSON.parse(body), padding: 'x'.repeat(1024 * 1024 + 10) });
    await deliver('push', big, 'd-big').expect(413);
    await deliver('push', body, 'd-404', { id: '01a2467e-188d-7b72-946c-6fddb979a3f0' }).expect(404);
    await deliver('push', body, 'd-gitea', { id: giteaProviderId }).expect(404);
    await request(t.server).post(hook()).set('Content-Type', 'text/plain').send('hello').expect(400);
    expect(await deployments(owner, apps.shop)).toHaveLength(before);
    const rejected = (await connectionDeliveries()).filter((x) => x.outcome === 'rejected');
    expect(rejected.length).toBeGreaterThanOrEqual(2);
    expect(rejected.map((x) => x.deliveryId)).not.toContain('d-bad');
    expect((await connectionDeliveries(noSecretProviderId))[0]).toMatchObject({ outcome: 'rejected', reason: expect.stringMatching(/no webhook secret/) });
    expect(JSON.stringify(await connectionDeliveries())).not.toContain(WEBHOOK_SECRET);
  });

  it('records at most REJECTED_RECORDED_PER_10_MIN rejected deliveries per connection, answering every one', async () => {
    const before = await rejectedCount();
    for (let i = 0; i < REJECTED_RECORDED_PER_10_MIN + 3 - before; i++) await deliver('push', '{}', `d-flood-${i}`, { secret: 'wrong' }).expect(401);
    expect(await rejectedCount()).toBe(REJECTED_RECORDED_PER_10_MIN);
  });
  const rejectedCount = async (): Promise<number> =>
    (await ds.query(`SELECT count(*)::int AS n FROM git_provider_deliveries WHERE git_provider_id = $1 AND outcome = 'rejected'`, [providerId]))[0].n;

  it("the connection's deliveries are the organization's: another organization gets 404", async () => {
    await request(t.server).get(`/api/v1/git-providers/${providerId}/deliveries`).set(outsider.auth).expect(404);
  });

  it("the retention job removes the connection's old deliveries and keeps recent ones", async () => {
    const [{ organization_id: org }] = await ds.query(`SELECT organization_id FROM git_providers WHERE id = $1`, [providerId]);
    await ds.query(
      `INSERT INTO git_provider_deliveries (id, git_provider_id, organization_id, delivery_id, event, outcome, reason, received_at) VALUES
         (gen_random_uuid(), $1, $2, 'old-push', 'push', 'ignored', 'r', now() - interval '31 days'),
         (gen_random_uuid(), $1, $2, 'old-rejected', NULL, 'rejected', 'r', now() - interval '8 days'),
         (gen_random_uuid(), $1, $2, 'week-old-push', 'push', 'ignored', 'r', now() - interval '8 days')`,
      [providerId, org],
    );
    await new OutboxMaintenance(ds).purgeDeliveries();
    const ids = (await ds.query(`SELECT delivery_id FROM git_provider_deliveries WHERE git_provider_id = $1`, [providerId])).map((r: { delivery_id: string }) => r.delivery_id);
    expect(ids).toEqual(expect.arrayContaining(['week-old-push', 'd-push-1', 'd-ping']));
    expect(ids).not.toContain('old-push');
    expect(ids).not.toContain('old-rejected');
  });
});
