import { createHmac } from 'node:crypto';
import { constantTimeEqual, parseWebhookEvent, pushDecision, signGenericWebhook, verifyWebhook, WebhookEvent } from '../index';

const SECRET = 'whsec-0123456789abcdef';
const SHA1 = '9fceb02d0ae598e95dc970b74767f19372d61af8';
const SHA2 = 'de8251ff97ee194a289832576287d6f8ad74e3d0';
const ZERO = '0000000000000000000000000000000000000000';
const hex = (body: string, secret = SECRET) => createHmac('sha256', secret).update(body).digest('hex');
const push = (e: WebhookEvent) => {
  if (e.kind !== 'push') throw new Error(`expected a push, got ${JSON.stringify(e)}`);
  return e;
};
const pr = (e: WebhookEvent) => {
  if (e.kind !== 'pull-request') throw new Error(`expected a pull request, got ${JSON.stringify(e)}`);
  return e;
};

// Shapes as the providers send them (trimmed to the fields Wharf reads, plus some it does not).
const GITHUB_PUSH = JSON.stringify({
  ref: 'refs/heads/main', before: SHA2, after: SHA1, created: false, deleted: false, forced: false,
  repository: { id: 1, full_name: 'acme/shop', clone_url: 'https://github.com/acme/shop.git', ssh_url: 'git@github.com:acme/shop.git' },
  pusher: { name: 'octo', email: 'octo@example.com' },
  commits: [
    { id: SHA2, message: 'docs', author: { name: 'Octo', email: 'octo@example.com' }, timestamp: '2026-12-01T10:00:00Z', added: ['docs/a.md'], removed: [], modified: [] },
    { id: SHA1, message: 'Fix checkout\n\nbody', author: { name: 'Octo Cat', email: 'octo@example.com' }, timestamp: '2026-12-01T10:05:00Z', added: [], removed: ['old.js'], modified: ['src/app.ts'] },
  ],
  head_commit: { id: SHA1, message: 'Fix checkout\n\nbody', author: { name: 'Octo Cat', email: 'octo@example.com' }, timestamp: '2026-12-01T10:05:00Z', added: [], removed: ['old.js'], modified: ['src/app.ts'] },
});
const GITHUB_PR = (action: string, headRepo = 'acme/shop', fork = false) => JSON.stringify({
  action, number: 42,
  pull_request: {
    number: 42, title: 'Add cart', merged: action === 'closed', user: { login: 'dev' }, author_association: 'CONTRIBUTOR',
    head: { ref: 'feature/cart', sha: SHA1, repo: { full_name: headRepo, fork } }, base: { ref: 'main', sha: SHA2, repo: { full_name: 'acme/shop', fork: false } },
  },
  repository: { full_name: 'acme/shop' },
});

describe('webhook signatures', () => {
  it('GitHub: X-Hub-Signature-256 over the raw body; event and delivery id from their headers', () => {
    const body = Buffer.from(GITHUB_PUSH);
    const ok = verifyWebhook('github', { 'x-hub-signature-256': `sha256=${hex(GITHUB_PUSH)}`, 'x-github-event': 'push', 'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958' }, body, SECRET);
    expect(ok).toEqual({ ok: true, event: 'push', deliveryId: '72d3162e-cc78-11e3-81ab-4c9367dc0958' });
    expect(verifyWebhook('github', { 'x-hub-signature-256': `sha256=${hex(GITHUB_PUSH, 'other')}`, 'x-github-event': 'push' }, body, SECRET)).toMatchObject({ ok: false, reason: 'bad-signature' });
    // One byte changed in the body.
    expect(verifyWebhook('github', { 'x-hub-signature-256': `sha256=${hex(GITHUB_PUSH)}`, 'x-github-event': 'push' }, Buffer.from(GITHUB_PUSH.replace('main', 'mair')), SECRET)).toMatchObject({ ok: false, reason: 'bad-signature' });
    expect(verifyWebhook('github', { 'x-github-event': 'push' }, body, SECRET)).toMatchObject({ ok: false, reason: 'missing-signature' });
    // The older SHA-1 header alone is not accepted.
    expect(verifyWebhook('github', { 'x-hub-signature': 'sha1=abc', 'x-github-event': 'push' }, body, SECRET)).toMatchObject({ ok: false, reason: 'missing-signature' });
  });

  it('GitLab: X-Gitlab-Token compared in constant time', () => {
    const body = Buffer.from('{"object_kind":"push"}');
    expect(verifyWebhook('gitlab', { 'x-gitlab-token': SECRET, 'x-gitlab-event': 'Push Hook', 'x-gitlab-event-uuid': 'f8f7a1e2-1b2c-4d5e-8f9a-0b1c2d3e4f50' }, body, SECRET)).toEqual({ ok: true, event: 'Push Hook', deliveryId: 'f8f7a1e2-1b2c-4d5e-8f9a-0b1c2d3e4f50' });
    expect(verifyWebhook('gitlab', { 'x-gitlab-token': `${SECRET}x`, 'x-gitlab-event': 'Push Hook' }, body, SECRET)).toMatchObject({ ok: false, reason: 'bad-signature' });
    expect(verifyWebhook('gitlab', { 'x-gitlab-token': SECRET.slice(0, -1), 'x-gitlab-event': 'Push Hook' }, body, SECRET)).toMatchObject({ ok: false, reason: 'bad-signature' });
  });

  it('Gitea and Forgejo: a bare hex HMAC', () => {
    const body = '{"ref":"refs/heads/main"}';
    expect(verifyWebhook('gitea', { 'x-gitea-signature': hex(body), 'x-gitea-event': 'push', 'x-gitea-delivery': 'd1' }, Buffer.from(body), SECRET)).toEqual({ ok: true, event: 'push', deliveryId: 'd1' });
    expect(verifyWebhook('gitea', { 'x-forgejo-signature': hex(body), 'x-forgejo-event': 'push', 'x-forgejo-delivery': 'd2' }, Buffer.from(body), SECRET)).toEqual({ ok: true, event: 'push', deliveryId: 'd2' });
    expect(verifyWebhook('gitea', { 'x-gitea-signature': `sha256=${hex(body)}`, 'x-gitea-event': 'push' }, Buffer.from(body), SECRET)).toMatchObject({ ok: false, reason: 'bad-signature' });
  });

  it('Bitbucket: X-Hub-Signature sha256=…, X-Event-Key, X-Request-UUID', () => {
    const body = '{"push":{"changes":[]}}';
    expect(verifyWebhook('bitbucket', { 'x-hub-signature': `sha256=${hex(body)}`, 'x-event-key': 'repo:push', 'x-request-uuid': '{8a4f}' }, Buffer.from(body), SECRET)).toEqual({ ok: true, event: 'repo:push', deliveryId: '{8a4f}' });
  });

  it('generic: HMAC of "<timestamp>.<body>", refused outside the replay window', () => {
    const body = '{"ref":"main"}';
    const now = new Date('2026-12-05T12:00:00Z');
    const ts = Math.floor(now.getTime() / 1000);
    const ok = verifyWebhook('generic', signGenericWebhook(SECRET, body, ts), Buffer.from(body), SECRET, { now });
    expect(ok).toMatchObject({ ok: true, event: 'push' });
    // Same timestamp and body: the same delivery id (a resend is a duplicate).
    expect(verifyWebhook('generic', signGenericWebhook(SECRET, body, ts), Buffer.from(body), SECRET, { now })).toEqual(ok);
    expect(verifyWebhook('generic', signGenericWebhook(SECRET, body, ts - 301), Buffer.from(body), SECRET, { now })).toMatchObject({ ok: false, reason: 'stale-timestamp' });
    expect(verifyWebhook('generic', signGenericWebhook(SECRET, body, ts + 301), Buffer.from(body), SECRET, { now })).toMatchObject({ ok: false, reason: 'stale-timestamp' });
    // A timestamp changed after signing breaks the signature (it is signed too).
    const h = signGenericWebhook(SECRET, body, ts);
    expect(verifyWebhook('generic', { ...h, 'X-Wharf-Timestamp': String(ts + 1) }, Buffer.from(body), SECRET, { now })).toMatchObject({ ok: false, reason: 'bad-signature' });
    expect(verifyWebhook('generic', { 'X-Wharf-Signature-256': h['X-Wharf-Signature-256'] }, Buffer.from(body), SECRET, { now })).toMatchObject({ ok: false, reason: 'missing-timestamp' });
  });

  it('refuses oversized bodies before anything else, and an empty secret always', () => {
    const big = Buffer.alloc(1024 * 1024 + 1, 0x20);
    expect(verifyWebhook('github', { 'x-hub-signature-256': `sha256=${hex(big.toString())}`, 'x-github-event': 'push' }, big, SECRET)).toMatchObject({ ok: false, reason: 'too-large' });
    expect(verifyWebhook('gitlab', { 'x-gitlab-token': '', 'x-gitlab-event': 'Push Hook' }, Buffer.from('{}'), '')).toMatchObject({ ok: false, reason: 'bad-signature' });
  });

  it('never echoes the secret or the expected signature, and hostile header values are inert', () => {
    const body = Buffer.from('{}');
    for (const provider of ['github', 'gitlab', 'gitea', 'bitbucket', 'generic'] as const) {
      const r = verifyWebhook(provider, { 'x-hub-signature-256': 'sha256=$(id)', 'x-gitlab-token': '`id`', 'x-gitea-signature': '\n', 'x-hub-signature': ['a', 'b'], 'x-wharf-signature-256': 'x', 'x-wharf-timestamp': '1; rm -rf /' }, body, SECRET);
      expect(r.ok).toBe(false);
      expect(JSON.stringify(r)).not.toContain(SECRET);
      expect(JSON.stringify(r)).not.toContain(hex('{}'));
    }
    // A delivery id that is not a plain token is replaced by the body's hash.
    const ok = verifyWebhook('github', { 'x-hub-signature-256': `sha256=${hex('{}')}`, 'x-github-event': 'push', 'x-github-delivery': "x'; DROP TABLE deliveries; --" }, body, SECRET);
    expect(ok).toMatchObject({ ok: true, deliveryId: expect.stringMatching(/^[0-9a-f]{64}$/) });
  });

  it('constantTimeEqual compares whatever the lengths', () => {
    expect(constantTimeEqual('abc', 'abc')).toBe(true);
    expect(constantTimeEqual('abc', 'abd')).toBe(false);
    expect(constantTimeEqual('abc', 'abcd')).toBe(false);
  });
});

describe('webhook payloads', () => {
  it('GitHub push: branch, commit, head commit, changed files of every commit', () => {
    const e = push(parseWebhookEvent('github', 'push', GITHUB_PUSH));
    expect(e).toMatchObject({ ref: 'refs/heads/main', branch: 'main', tag: null, commit: SHA1, deleted: false });
    expect(e.head).toEqual({ sha: SHA1, message: 'Fix checkout\n\nbody', authorName: 'Octo Cat', authorEmail: 'octo@example.com', timestamp: '2026-12-01T10:05:00Z' });
    expect(e.changedFiles!.sort()).toEqual(['docs/a.md', 'old.js', 'src/app.ts']);
  });

  it('GitHub: a deleted branch, a tag, ping, and events that are not used', () => {
    expect(push(parseWebhookEvent('github', 'push', JSON.stringify({ ref: 'refs/heads/old', before: SHA1, after: ZERO, deleted: true, commits: [] })))).toMatchObject({ deleted: true, commit: null, branch: 'old' });
    expect(push(parseWebhookEvent('github', 'push', JSON.stringify({ ref: 'refs/tags/v1.2.0', after: SHA1, commits: [], head_commit: null })))).toMatchObject({ tag: 'v1.2.0', branch: null, commit: SHA1 });
    // An annotated tag: `after` is the tag object, the head commit is what it points at (what gets checked out).
    const tagObject = 'f'.repeat(40);
    expect(push(parseWebhookEvent('github', 'push', JSON.stringify({ ref: 'refs/tags/v1.3.0', after: tagObject, commits: [], head_commit: { id: SHA1, message: 'm' } })))).toMatchObject({ tag: 'v1.3.0', commit: SHA1 });
    expect(parseWebhookEvent('github', 'ping', JSON.stringify({ zen: 'Keep it logically awesome.', hook_id: 1 }))).toEqual({ kind: 'ping' });
    expect(parseWebhookEvent('github', 'issues', '{}')).toEqual({ kind: 'ignored', reason: 'event "issues" is not used' });
  });

  it('GitHub pull requests: actions, fork detection, merged', () => {
    expect(pr(parseWebhookEvent('github', 'pull_request', GITHUB_PR('opened')))).toMatchObject({ action: 'opened', number: 42, headRef: 'feature/cart', headSha: SHA1, baseRef: 'main', fromFork: false, author: 'dev', authorAssociation: 'CONTRIBUTOR', title: 'Add cart' });
    expect(pr(parseWebhookEvent('github', 'pull_request', GITHUB_PR('synchronize')))).toMatchObject({ action: 'updated' });
    expect(pr(parseWebhookEvent('github', 'pull_request', GITHUB_PR('closed')))).toMatchObject({ action: 'closed', merged: true });
    expect(pr(parseWebhookEvent('github', 'pull_request', GITHUB_PR('opened', 'mallory/shop', true)))).toMatchObject({ fromFork: true });
    // A fork whose repository is gone (head.repo null) counts as a fork.
    const gone = JSON.parse(GITHUB_PR('opened'));
    gone.pull_request.head.repo = null;
    expect(pr(parseWebhookEvent('github', 'pull_request', JSON.stringify(gone)))).toMatchObject({ fromFork: true });
  });

  it('Gitea pull request "synchronized" is an update', () => {
    expect(pr(parseWebhookEvent('gitea', 'pull_request', GITHUB_PR('synchronized')))).toMatchObject({ action: 'updated' });
  });

  it('GitLab push, tag push and merge requests', () => {
    const body = JSON.stringify({
      object_kind: 'push', ref: 'refs/heads/main', before: SHA2, after: SHA1, checkout_sha: SHA1, total_commits_count: 1,
      project: { path_with_namespace: 'acme/shop', git_http_url: 'https://gitlab.example.com/acme/shop.git' },
      commits: [{ id: SHA1, message: 'Update', timestamp: '2026-12-01T10:05:00+00:00', author: { name: 'Jane', email: 'jane@example.com' }, added: ['a'], modified: ['b'], removed: [] }],
    });
    const e = push(parseWebhookEvent('gitlab', 'Push Hook', body));
    expect(e).toMatchObject({ branch: 'main', commit: SHA1, head: { sha: SHA1, authorName: 'Jane' }, changedFiles: ['a', 'b'] });
    // More commits than listed: the file list is unknown (so watch paths cannot skip the deploy).
    expect(push(parseWebhookEvent('gitlab', 'Push Hook', JSON.stringify({ ...JSON.parse(body), total_commits_count: 25 }))).changedFiles).toBeNull();
    expect(push(parseWebhookEvent('gitlab', 'Tag Push Hook', JSON.stringify({ object_kind: 'tag_push', ref: 'refs/tags/v2', after: SHA1, checkout_sha: SHA1, commits: [] })))).toMatchObject({ tag: 'v2' });
    const mr = (action: string, source = 7) => JSON.stringify({
      object_kind: 'merge_request', user: { username: 'jane' },
      object_attributes: { iid: 5, action, state: action === 'merge' ? 'merged' : 'opened', title: 'MR', source_branch: 'feat', target_branch: 'main', source_project_id: source, target_project_id: 7, last_commit: { id: SHA1 } },
    });
    expect(pr(parseWebhookEvent('gitlab', 'Merge Request Hook', mr('open')))).toMatchObject({ action: 'opened', number: 5, headRef: 'feat', baseRef: 'main', fromFork: false, author: 'jane' });
    expect(pr(parseWebhookEvent('gitlab', 'Merge Request Hook', mr('merge')))).toMatchObject({ action: 'closed', merged: true });
    expect(pr(parseWebhookEvent('gitlab', 'Merge Request Hook', mr('update', 99)))).toMatchObject({ action: 'updated', fromFork: true });
  });

  it('Bitbucket push (no file list) and pull requests', () => {
    const body = JSON.stringify({
      repository: { full_name: 'acme/shop' },
      push: { changes: [{ old: { type: 'branch', name: 'main', target: { hash: SHA2 } }, new: { type: 'branch', name: 'main', target: { hash: SHA1, message: 'Edit\n', date: '2026-12-01T10:05:00+00:00', author: { raw: 'Jane Doe <jane@example.com>' } } } }] },
    });
    expect(push(parseWebhookEvent('bitbucket', 'repo:push', body))).toMatchObject({ branch: 'main', commit: SHA1, head: { authorName: 'Jane Doe', authorEmail: 'jane@example.com' }, changedFiles: null });
    const deleted = JSON.stringify({ push: { changes: [{ old: { type: 'branch', name: 'gone', target: { hash: SHA2 } }, new: null }] } });
    expect(push(parseWebhookEvent('bitbucket', 'repo:push', deleted))).toMatchObject({ deleted: true, branch: 'gone' });
    const prBody = (key: string, src = 'acme/shop') => JSON.stringify({
      pullrequest: { id: 3, title: 'T', author: { nickname: 'jd' }, source: { branch: { name: 'feat' }, commit: { hash: 'abcdef012345' }, repository: { full_name: src } }, destination: { branch: { name: 'main' }, repository: { full_name: 'acme/shop' } } },
    });
    expect(pr(parseWebhookEvent('bitbucket', 'pullrequest:created', prBody('created')))).toMatchObject({ action: 'opened', number: 3, headSha: 'abcdef012345', fromFork: false });
    expect(pr(parseWebhookEvent('bitbucket', 'pullrequest:fulfilled', prBody('x')))).toMatchObject({ action: 'closed', merged: true });
    expect(pr(parseWebhookEvent('bitbucket', 'pullrequest:created', prBody('x', 'mallory/shop')))).toMatchObject({ fromFork: true });
  });

  it('generic: a ref or a branch name, an optional commit', () => {
    expect(push(parseWebhookEvent('generic', 'push', '{"ref":"main"}'))).toMatchObject({ ref: 'refs/heads/main', branch: 'main', commit: null });
    expect(push(parseWebhookEvent('generic', 'push', JSON.stringify({ ref: 'refs/tags/v1', commit: SHA1 })))).toMatchObject({ tag: 'v1', commit: SHA1 });
    expect(parseWebhookEvent('generic', 'push', JSON.stringify({ ref: 'main', commit: '$(id)' }))).toEqual({ kind: 'ignored', reason: 'malformed payload: commit' });
  });

  it('malformed payloads are ignored with a reason, never thrown', () => {
    for (const [provider, event, body] of [
      ['github', 'push', 'not json'], ['github', 'push', '[]'], ['github', 'push', '{"ref":1}'], ['github', 'push', '{"ref":"refs/heads/main","after":"$(id)"}'],
      ['github', 'pull_request', '{"pull_request":{}}'], ['gitlab', 'Merge Request Hook', '{"object_kind":"merge_request"}'], ['bitbucket', 'repo:push', '{"push":{"changes":[{}]}}'],
      ['bitbucket', 'pullrequest:created', '{"pullrequest":{"id":"1"}}'], ['generic', 'push', '{}'],
    ] as const) {
      const e = parseWebhookEvent(provider, event, body);
      expect(e.kind).toBe('ignored');
      expect((e as { reason: string }).reason).toMatch(/^malformed payload/);
    }
  });
});

describe('whether a push deploys', () => {
  const base = push(parseWebhookEvent('github', 'push', GITHUB_PUSH));
  it('the tracked branch only; tags by pattern; deletions never', () => {
    expect(pushDecision(base, { branch: 'main' })).toEqual({ deploy: true });
    expect(pushDecision(base, { branch: 'develop' })).toEqual({ deploy: false, reason: 'branch "main" is not the tracked branch "develop"' });
    const tag = { ...base, ref: 'refs/tags/v1.2.0', branch: null, tag: 'v1.2.0' };
    expect(pushDecision(tag, { branch: 'main' })).toMatchObject({ deploy: false });
    expect(pushDecision(tag, { branch: 'main', tagPatterns: ['v*'] })).toEqual({ deploy: true });
    expect(pushDecision({ ...base, deleted: true, commit: null }, { branch: 'main' })).toMatchObject({ deploy: false, reason: 'refs/heads/main was deleted' });
  });
  it('watch paths: deploy only when a changed file matches; an unknown file list deploys', () => {
    expect(pushDecision(base, { branch: 'main', watchPaths: ['src/**'] })).toEqual({ deploy: true });
    expect(pushDecision(base, { branch: 'main', watchPaths: ['api/**', '*.json'] })).toMatchObject({ deploy: false, reason: expect.stringContaining('no changed file matches') });
    expect(pushDecision({ ...base, changedFiles: null }, { branch: 'main', watchPaths: ['api/**'] })).toEqual({ deploy: true });
    expect(pushDecision({ ...base, changedFiles: ['.github/workflows/ci.yml'] }, { branch: 'main', watchPaths: ['.github/**'] })).toEqual({ deploy: true });
  });
});
