/**
 * A checkout through a Git provider connection against the real `git http-backend` (test/support/git-server.ts): the
 * worker's ProviderConnections decrypts the connection, the GitHub App adapter mints an installation token from the
 * local contract fake (JWT verified with the app's public key), and git clones with it. A repository on another host
 * than the connection's is refused before any token is minted.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { GitProviderEntity, gitProviderSecretsAad } from '@wharf/applications';
import { SecretBox } from '@wharf/core';
import { checkGitHost, GitCliAdapter, GitProviderHttpAdapter } from '@wharf/orchestration';
import { ProviderConnections } from '../../apps/worker/src/git-providers/provider-connections';
import { gitServersAvailable, GitServers, startGitServers, TestRepository } from '../support/git-server';
import { FakeGitProvider, startFakeGitProvider } from '../support/git-provider-fake';

const describeIf = gitServersAvailable() ? describe : describe.skip;

describeIf('checkout with a GitHub App installation token', () => {
  let servers: GitServers;
  let fake: FakeGitProvider;
  let work: string;
  let repo: TestRepository;
  let connections: ProviderConnections;
  let git: GitCliAdapter;
  const box = new SecretBox('k1', new Map([['k1', randomBytes(32)]]));
  const rows = new Map<string, GitProviderEntity>();

  beforeAll(async () => {
    servers = await startGitServers();
    fake = await startFakeGitProvider({ token: servers.token });
    work = mkdtempSync(join(tmpdir(), 'wharf-provider-co-'));
    repo = await servers.createRepository('app', [{ files: { 'README.md': 'from a provider\n' }, message: 'First' }]);
    const id = '01930000-0000-7000-8000-000000000001';
    rows.set(id, Object.assign(new GitProviderEntity(), {
      id, organizationId: id, name: 'GitHub', kind: 'github' as const, settings: { baseUrl: fake.url, appId: fake.github.appId, installationId: fake.github.installationId },
      secretsSet: ['privateKey' as const], secretsBox: box.encrypt(JSON.stringify({ privateKey: fake.github.privateKeyPem }), gitProviderSecretsAad(id)),
      createdAt: new Date(), updatedAt: new Date(), version: 1,
    }));
    const ds = { getRepository: () => ({ findOneBy: async ({ id: want }: { id: string }) => rows.get(want) ?? null }) } as unknown as DataSource;
    const provider = new GitProviderHttpAdapter({ hostPolicy: (h) => checkGitHost(h, { allowPrivate: true }), ca: fake.caPem });
    connections = new ProviderConnections(ds, box, provider);
    git = new GitCliAdapter({ caFile: servers.caFile, hostPolicy: (h) => checkGitHost(h, { allowPrivate: true }), tmpRoot: work });
  }, 60_000);
  afterAll(async () => {
    await servers?.stop();
    await fake?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('mints a token and clones with it', async () => {
    const minted = fake.minted();
    const auth = await connections.checkoutAuth('01930000-0000-7000-8000-000000000001', servers.httpsUrl('app'));
    expect(auth).toEqual({ kind: 'token', username: 'x-access-token', token: servers.token });
    expect(fake.minted()).toBe(minted + 1);
    const dir = join(work, 'co');
    const info = await git.checkout({ repository: servers.httpsUrl('app'), ref: 'main', auth, submodules: false, directory: dir, deadlineMs: 30_000, maxBytes: 10 * 1024 * 1024 });
    expect(info.commit).toBe(repo.commits[0]);
    expect(readFileSync(join(dir, 'README.md'), 'utf8')).toBe('from a provider\n');
    expect(servers.requests.some((r) => r.auth === 'valid')).toBe(true);
  });

  it('refuses a repository on another host (the token never leaves for it) and an unknown connection', async () => {
    const minted = fake.minted();
    await expect(connections.checkoutAuth('01930000-0000-7000-8000-000000000001', `https://localhost:${servers.httpsPort}/app.git`)).rejects.toMatchObject({ reason: 'invalid-input' });
    await expect(connections.checkoutAuth('01930000-0000-7000-8000-000000000001', `ssh://git@127.0.0.1:${servers.httpsPort}/app.git`)).rejects.toMatchObject({ reason: 'invalid-input' });
    expect(fake.minted()).toBe(minted);
    await expect(connections.checkoutAuth('01930000-0000-7000-8000-000000000002', servers.httpsUrl('app'))).rejects.toMatchObject({ status: 404 });
  });
});
