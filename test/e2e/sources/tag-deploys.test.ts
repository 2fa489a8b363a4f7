/**
 * Tag deploys through the real HTTP stack (no worker: queued deployments stay queued): the source's `deployTags` globs
 * are validated at their field; a tag push in each provider's exact shape (GitHub and Gitea `push` with refs/tags/…,
 * an annotated GitHub tag whose `after` is the tag object, GitLab's Tag Push Hook, Bitbucket's repo:push with a tag
 * change, the generic sender) deploys that tag's commit with the tag as the deployment's ref when a pattern matches, and
 * is ignored with the reason when none does (or when the list is empty, the default).
 */
import { createHmac } from 'node:crypto';
import request from 'supertest';
import { startTestApp, TestApp } from '../../support/app';
import { Session, setupOwner } from '../../support/api';
import { NO_WORKER } from '../../support/route-matrix';
import { signGenericWebhook } from '@wharf/sources';

const SHA = (n: number) => n.toString(16).padStart(40, 'd');
const hmac = (key: string, body: string) => createHmac('sha256', key).update(body).digest('hex');

describe('tag deploys', () => {
  let t: TestApp;
  let owner: Session & { organizationId: string };
  let appId: string;
  let secret: string;
  const source = { repository: 'https://git.example.com/acme/shop.git', ref: 'main', auth: { kind: 'none' } };
  const hook = (provider: string) => request(t.server).post(`/api/v1/webhooks/applications/${appId}/${provider}`).set('Content-Type', 'application/json');

  const senders: Record<string, (tag: string, n: number, delivery: string) => request.Test> = {
    github: (tag, n, delivery) => {
      const body = JSON.stringify({ ref: `refs/tags/${tag}`, before: '0'.repeat(40), after: SHA(n), created: true, deleted: false, base_ref: 'refs/heads/main', commits: [], head_commit: { id: SHA(n), message: 'release', author: { name: 'Dev', email: 'dev@example.com' }, timestamp: '2026-12-05T10:00:00Z' }, repository: { full_name: 'acme/shop' } });
      return hook('github').set('X-GitHub-Event', 'push').set('X-GitHub-Delivery', delivery).set('X-Hub-Signature-256', `sha256=${hmac(secret, body)}`).send(body);
    },
    gitea: (tag, n, delivery) => {
      const body = JSON.stringify({ ref: `refs/tags/${tag}`, before: '0'.repeat(40), after: SHA(n), compare_url: '', commits: [], total_commits: 0, head_commit: null, repository: { full_name: 'acme/shop' } });
      return hook('gitea').set('X-Gitea-Event', 'push').set('X-Gitea-Delivery', delivery).set('X-Gitea-Signature', hmac(secret, body)).send(body);
    },
    gitlab: (tag, n, delivery) => {
      const body = JSON.stringify({ object_kind: 'tag_push', event_name: 'tag_push', before: '0'.repeat(40), after: 'e'.repeat(40), ref: `refs/tags/${tag}`, checkout_sha: SHA(n), message: 'Release', total_commits_count: 0, commits: [], project: { path_with_namespace: 'acme/shop' } });
      return hook('gitlab').set('X-Gitlab-Event', 'Tag Push Hook').set('X-Gitlab-Event-UUID', delivery).set('X-Gitlab-Token', secret).send(body);
    },
    bitbucket: (tag, n, delivery) => {
      const body = JSON.stringify({ push: { changes: [{ old: null, new: { type: 'tag', name: tag, target: { type: 'commit', hash: SHA(n), message: 'Release\n', author: { raw: 'Dev <dev@example.com>' }, date: '2026-12-05T10:00:00+00:00' } }, created: true, closed: false, forced: false }] }, repository: { full_name: 'acme/shop' } });
      return hook('bitbucket').set('X-Event-Key', 'repo:push').set('X-Request-UUID', delivery).set('X-Hub-Signature', `sha256=${hmac(secret, body)}`).send(body);
    },
    generic: (tag, n) => {
      const body = JSON.stringify({ ref: `refs/tags/${tag}`, commit: SHA(n) });
      return hook('generic').set(signGenericWebhook(secret, body, Math.floor(Date.now() / 1000))).send(body);
    },
  };

  beforeAll(async () => {
    t = await startTestApp(NO_WORKER);
    owner = await setupOwner(t, 'owner@example.com', 'Acme');
    const project = await request(t.server).post(`/api/v1/organizations/${owner.organizationId}/projects`).set(owner.auth).send({ name: 'web' }).expect(201);
    appId = (await request(t.server).post(`/api/v1/environments/${project.body.environments[0].id}/applications`).set(owner.auth).send({ name: 'shop', spec: { image: 'busybox:latest' } }).expect(201)).body.id;
    await request(t.server).put(`/api/v1/applications/${appId}/source`).set(owner.auth).send(source).expect(200);
    secret = (await request(t.server).post(`/api/v1/applications/${appId}/source/webhook-secret/reveal`).set(owner.auth).expect(200)).body.secret;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('tags never deploy by default: ignored with the reason', async () => {
    expect((await request(t.server).get(`/api/v1/applications/${appId}/source`).set(owner.auth).expect(200)).body.deployTags).toEqual([]);
    const r = (await senders.github('v1.0.0', 1, 'gh-default')).body;
    expect(r).toMatchObject({ outcome: 'ignored', reason: 'tag "v1.0.0" matches no deploying tag pattern', deploymentId: null });
  });

  it('refuses bad patterns at their field', async () => {
    const v = (await request(t.server).get(`/api/v1/applications/${appId}/source`).set(owner.auth).expect(200)).body.version;
    for (const bad of ['$(id)', 'v*; rm -rf /', '--upload-pack=x', 'refs/tags/v*', '../x', 'v\n*']) {
      const r = await request(t.server).put(`/api/v1/applications/${appId}/source`).set(owner.auth).send({ ...source, deployTags: ['v*', bad] }).expect(400);
      expect(r.body.errors).toEqual([expect.objectContaining({ pointer: '/deployTags/1' })]);
    }
    await request(t.server).put(`/api/v1/applications/${appId}/source`).set(owner.auth).send({ ...source, deployTags: 'v*' }).expect(400);
    expect((await request(t.server).get(`/api/v1/applications/${appId}/source`).set(owner.auth).expect(200)).body.version).toBe(v);
    const saved = (await request(t.server).put(`/api/v1/applications/${appId}/source`).set(owner.auth).send({ ...source, deployTags: ['v*', 'release-*'] }).expect(200)).body;
    expect(saved.deployTags).toEqual(['v*', 'release-*']);
  });

  it.each(Object.keys(senders).map((p, i) => [p, i + 10]))('%s: a matching tag deploys its commit; another tag is ignored with the reason', async (provider, n) => {
    const ok = await senders[provider](`v2.${n}`, Number(n), `${provider}-tag-${n}`).expect(202);
    expect(ok.body).toMatchObject({ outcome: 'accepted', deploymentId: expect.any(String) });
    const d = (await request(t.server).get(`/api/v1/deployments/${ok.body.deploymentId}`).set(owner.auth).expect(200)).body;
    expect(d).toMatchObject({ kind: 'deploy', status: 'queued', source: { ref: `refs/tags/v2.${n}`, commit: SHA(Number(n)) } });
    const other = await senders[provider](`nightly-${n}`, Number(n) + 100, `${provider}-other-${n}`).expect(202);
    expect(other.body).toMatchObject({ outcome: 'ignored', reason: `tag "nightly-${n}" matches no deploying tag pattern`, deploymentId: null });
  });

  it('an annotated GitHub tag deploys the commit it points at, not the tag object', async () => {
    const body = JSON.stringify({ ref: 'refs/tags/release-7', before: '0'.repeat(40), after: 'f'.repeat(40), created: true, deleted: false, commits: [], head_commit: { id: SHA(7), message: 'release' } });
    const r = await hook('github').set('X-GitHub-Event', 'push').set('X-GitHub-Delivery', 'gh-annotated').set('X-Hub-Signature-256', `sha256=${hmac(secret, body)}`).send(body).expect(202);
    expect((await request(t.server).get(`/api/v1/deployments/${r.body.deploymentId}`).set(owner.auth).expect(200)).body.source).toMatchObject({ ref: 'refs/tags/release-7', commit: SHA(7) });
  });

  it('the delivery history records the tag outcomes', async () => {
    const list = (await request(t.server).get(`/api/v1/applications/${appId}/source/deliveries`).set(owner.auth).expect(200)).body as Array<{ deliveryId: string; outcome: string; ref: string }>;
    expect(list.find((x) => x.deliveryId === 'gitlab-tag-12')).toMatchObject({ outcome: 'accepted', ref: 'refs/tags/v2.12' });
    expect(list.find((x) => x.deliveryId === 'gitlab-other-12')).toMatchObject({ outcome: 'ignored' });
  });
});
