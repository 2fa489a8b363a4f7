/**
 * GitProviderHttpAdapter against the local contract fake of GitHub, GitLab, Gitea and Bitbucket (test/support/git-provider-fake.ts):
 * real HTTPS, the GitHub App JWT verified by the fake with the app's public key, statuses received in each provider's
 * documented shape, the host policy applied before any request, redirects refused, size and time limits.
 * Real provider APIs are not reachable from here: this is a contract test, not a live one.
 */
import { checkGitHost, GitProviderConnection, GitProviderError, GitProviderHttpAdapter, githubAppJwt } from '@wharf/orchestration';
import { FakeGitProvider, startFakeGitProvider } from '../support/git-provider-fake';

const COMMIT = 'b'.repeat(40);
let fake: FakeGitProvider;
let adapter: GitProviderHttpAdapter;

beforeAll(async () => {
  fake = await startFakeGitProvider();
  fake.setRepositories([{ fullName: 'octo/hello', cloneUrl: 'https://127.0.0.1/octo/hello.git', commit: COMMIT }, { fullName: 'octo/other', cloneUrl: 'https://127.0.0.1/octo/other.git', commit: COMMIT }]);
  adapter = new GitProviderHttpAdapter({ hostPolicy: (h) => checkGitHost(h, { allowPrivate: true }), ca: fake.caPem, timeoutMs: 5_000 });
});
afterAll(async () => fake?.stop());

const connections = (): Record<string, GitProviderConnection> => ({
  github: { kind: 'github', baseUrl: fake.url, appId: fake.github.appId, installationId: fake.github.installationId, privateKey: fake.github.privateKeyPem },
  gitlab: { kind: 'gitlab', baseUrl: fake.url, token: fake.token },
  gitea: { kind: 'gitea', baseUrl: fake.url, token: fake.token },
  bitbucket: { kind: 'bitbucket', baseUrl: `${fake.url}/2.0`, workspace: fake.bitbucket.workspace, username: fake.bitbucket.username, token: fake.token },
});

describe('every provider kind', () => {
  it.each(['github', 'gitlab', 'gitea', 'bitbucket'])('%s: test, repositories, branches, checkout credentials', async (kind) => {
    const c = connections()[kind];
    const t = await adapter.test(c);
    expect(t).toEqual({ ok: true, message: expect.any(String) });
    const repos = await adapter.listRepositories(c);
    expect(repos.map((r) => r.fullName).sort()).toEqual(['octo/hello', 'octo/other']);
    expect(repos[0].cloneUrl).toMatch(/^https:\/\/127\.0\.0\.1\/octo\//); // Bitbucket's user@ is stripped
    expect(repos[0].defaultBranch).toBe('main');
    expect(await adapter.listRepositories(c, 'OTHER')).toHaveLength(1);
    expect(await adapter.listBranches(c, 'octo/hello')).toEqual([{ name: 'main', commit: COMMIT }]);
    const creds = await adapter.checkoutCredentials(c);
    expect(creds.token).toBe(fake.token);
    expect(creds.username).toBe({ github: 'x-access-token', gitlab: 'oauth2', gitea: 'oauth2', bitbucket: fake.bitbucket.username }[kind]);
  });

  it('wrong credentials are reported (never thrown) by test, with the provider message and without the token', async () => {
    for (const c of Object.values(connections())) {
      const bad = c.kind === 'github' ? { ...c, appId: '1' } : { ...c, token: 'wrong-token-value' };
      const t = await adapter.test(bad);
      expect(t.ok).toBe(false);
      expect(t.message).toMatch(/401.*\(authentication\)/);
      expect(t.message).not.toContain('wrong-token-value');
    }
  });
});

describe('GitHub App', () => {
  it('mints an installation token with a JWT the fake verifies with the public key, and reuses it until near expiry', async () => {
    const local = new GitProviderHttpAdapter({ hostPolicy: (h) => checkGitHost(h, { allowPrivate: true }), ca: fake.caPem });
    const before = fake.minted();
    const c = connections().github;
    const creds = await local.checkoutCredentials(c);
    expect(creds).toEqual({ username: 'x-access-token', token: fake.token, expiresAt: expect.any(String) });
    expect(Date.parse(creds.expiresAt!)).toBeGreaterThan(Date.now() + 50 * 60_000);
    await local.listBranches(c, 'octo/hello');
    expect(fake.minted()).toBe(before + 1);
    const mint = fake.requests.filter((r) => r.method === 'POST' && r.path === `/app/installations/${fake.github.installationId}/access_tokens`).pop()!;
    expect(mint.headers.accept).toBe('application/vnd.github+json');
    expect(mint.headers['x-github-api-version']).toBe('2022-11-28');
    expect(mint.headers['user-agent']).toBeTruthy();
  });

  it('a JWT is RS256 with iss = app id and a window of at most ten minutes', () => {
    const jwt = githubAppJwt('42', fake.github.privateKeyPem, Date.UTC(2026, 0, 1));
    const [h, p] = jwt.split('.').slice(0, 2).map((s) => JSON.parse(Buffer.from(s, 'base64url').toString()));
    expect(h).toEqual({ alg: 'RS256', typ: 'JWT' });
    expect(p.iss).toBe('42');
    expect(p.exp - p.iat).toBeLessThanOrEqual(600);
    expect(() => githubAppJwt('42', 'not a key', Date.now())).toThrow(GitProviderError);
  });

  it('an unknown installation is not-found', async () => {
    await expect(adapter.checkoutCredentials({ ...connections().github, installationId: '999' })).rejects.toMatchObject({ reason: 'not-found' });
  });
});

describe('commit statuses in each documented shape', () => {
  it.each([
    ['github', 'pending', 'POST', `/repos/octo/hello/statuses/${COMMIT}`, { state: 'pending', context: 'wharf/app', description: 'Deploying', target_url: 'https://wharf.example/d/1' }],
    ['github', 'failure', 'POST', `/repos/octo/hello/statuses/${COMMIT}`, { state: 'failure', context: 'wharf/app', description: 'Deploying', target_url: 'https://wharf.example/d/1' }],
    ['gitlab', 'pending', 'POST', `/api/v4/projects/octo%2Fhello/statuses/${COMMIT}`, { state: 'running', name: 'wharf/app', description: 'Deploying', target_url: 'https://wharf.example/d/1' }],
    ['gitlab', 'failure', 'POST', `/api/v4/projects/octo%2Fhello/statuses/${COMMIT}`, { state: 'failed', name: 'wharf/app', description: 'Deploying', target_url: 'https://wharf.example/d/1' }],
    ['gitea', 'success', 'POST', `/api/v1/repos/octo/hello/statuses/${COMMIT}`, { state: 'success', context: 'wharf/app', description: 'Deploying', target_url: 'https://wharf.example/d/1' }],
    ['bitbucket', 'pending', 'POST', `/2.0/repositories/octo/hello/commit/${COMMIT}/statuses/build`, { key: 'wharf-app', state: 'INPROGRESS', name: 'wharf/app', description: 'Deploying', url: 'https://wharf.example/d/1' }],
    ['bitbucket', 'success', 'POST', `/2.0/repositories/octo/hello/commit/${COMMIT}/statuses/build`, { key: 'wharf-app', state: 'SUCCESSFUL', name: 'wharf/app', description: 'Deploying', url: 'https://wharf.example/d/1' }],
  ] as const)('%s %s', async (kind, state, method, path, body) => {
    const n = fake.requests.length;
    await adapter.postCommitStatus(connections()[kind], { repository: 'octo/hello', commit: COMMIT, state, context: 'wharf/app', description: 'Deploying', targetUrl: 'https://wharf.example/d/1' });
    const got = fake.requests.slice(n).filter((r) => r.method === 'POST' && !r.path.includes('access_tokens'));
    expect(got).toHaveLength(1);
    expect(got[0].path).toBe(path);
    expect(got[0].method).toBe(method);
    expect(got[0].body).toEqual(body);
    expect(got[0].headers['content-type']).toBe('application/json');
  });

  it('hostile repository names and commit ids are refused before any request', async () => {
    const n = fake.requests.length;
    for (const repository of ['../x', 'octo/../../admin', 'octo', 'octo/hello?x=1', 'octo/hel lo']) {
      await expect(adapter.postCommitStatus(connections().gitea, { repository, commit: COMMIT, state: 'success', context: 'c', description: 'd' })).rejects.toMatchObject({ reason: 'invalid-input' });
    }
    await expect(adapter.postCommitStatus(connections().gitea, { repository: 'octo/hello', commit: 'HEAD', state: 'success', context: 'c', description: 'd' })).rejects.toMatchObject({ reason: 'invalid-input' });
    expect(fake.requests.length).toBe(n);
  });
});

describe('request policy', () => {
  it('private addresses are refused before any request unless allowed', async () => {
    const strict = new GitProviderHttpAdapter({ hostPolicy: (h) => checkGitHost(h, { allowPrivate: false }), ca: fake.caPem });
    const n = fake.requests.length;
    const t = await strict.test(connections().gitea);
    expect(t.ok).toBe(false);
    expect(t.message).toMatch(/host-refused/);
    for (const baseUrl of ['https://10.1.2.3', 'https://169.254.169.254', 'https://[::1]:8443']) {
      await expect(strict.listRepositories({ ...connections().gitlab, baseUrl })).rejects.toMatchObject({ reason: 'host-refused' });
    }
    expect(fake.requests.length).toBe(n);
  });

  it('base URLs with credentials or another scheme are refused', async () => {
    for (const baseUrl of ['http://127.0.0.1', `https://user:pw@127.0.0.1`, 'file:///etc/passwd', 'https://127.0.0.1/a?b=c']) {
      await expect(adapter.listRepositories({ ...connections().gitea, baseUrl })).rejects.toMatchObject({ reason: 'invalid-input' });
    }
  });

  it('a redirect is refused, not followed', async () => {
    await expect(adapter.listRepositories({ ...connections().gitea, baseUrl: `${fake.url}/redirect` })).rejects.toMatchObject({ reason: 'redirect', status: 302 });
    expect(fake.requests.some((r) => r.path.includes('meta-data'))).toBe(false);
  });

  it('an answer larger than the limit is cut off', async () => {
    const small = new GitProviderHttpAdapter({ hostPolicy: (h) => checkGitHost(h, { allowPrivate: true }), ca: fake.caPem, maxResponseBytes: 256 * 1024 });
    await expect(small.listRepositories({ ...connections().gitea, baseUrl: `${fake.url}/huge` })).rejects.toMatchObject({ reason: 'too-large' });
  });

  it('a server that does not answer hits the deadline', async () => {
    const net = await import('node:net');
    const silent = net.createServer(() => undefined); // accepts, never speaks TLS
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    try {
      const quick = new GitProviderHttpAdapter({ hostPolicy: (h) => checkGitHost(h, { allowPrivate: true }), ca: fake.caPem, timeoutMs: 300 });
      await expect(quick.listRepositories({ ...connections().gitea, baseUrl: `https://127.0.0.1:${port}` })).rejects.toMatchObject({ reason: 'timeout' });
    } finally {
      silent.close();
    }
  });

  it('a certificate not from a trusted CA is refused', async () => {
    const untrusting = new GitProviderHttpAdapter({ hostPolicy: (h) => checkGitHost(h, { allowPrivate: true }) });
    await expect(untrusting.listRepositories(connections().gitea)).rejects.toMatchObject({ reason: 'unreachable' });
  });
});
