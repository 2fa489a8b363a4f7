import { providerWebBase, validateGitProvider } from './git-providers';

describe('Git provider connections through OAuth (validateGitProvider)', () => {
  const pointers = (r: ReturnType<typeof validateGitProvider>) => r.errors.map((e) => e.field);

  it('a GitLab OAuth connection takes a client id and secret instead of a token; auth defaults to token', () => {
    const ok = validateGitProvider({ name: 'GitLab', kind: 'gitlab', auth: 'oauth', clientId: 'abc123', clientSecret: 'gloas-secret' });
    expect(ok.value).toEqual({ name: 'GitLab', kind: 'gitlab', settings: { baseUrl: 'https://gitlab.com', auth: 'oauth', clientId: 'abc123' }, secrets: { clientSecret: 'gloas-secret' } });
    expect(pointers(validateGitProvider({ name: 'x', kind: 'gitlab', auth: 'oauth', clientId: 'abc' }))).toEqual(['clientSecret']);
    expect(pointers(validateGitProvider({ name: 'x', kind: 'gitlab', auth: 'oauth', clientId: 'a b', clientSecret: 's', token: 't' }))).toEqual(['clientId', 'token']);
    expect(pointers(validateGitProvider({ name: 'x', kind: 'gitlab', auth: 'sso', token: 't' }))).toEqual(['auth']);
    expect(validateGitProvider({ name: 'x', kind: 'gitlab', token: 't' }).value?.settings.auth).toBeUndefined();
    expect(pointers(validateGitProvider({ name: 'x', kind: 'gitea', baseUrl: 'https://g.example.com', token: 't', auth: 'oauth' }))).toEqual(['auth']);
  });

  it('the authentication cannot change on an update; a PATCH without the secret keeps it', () => {
    const existing = { name: 'GitLab', kind: 'gitlab' as const, settings: { baseUrl: 'https://gitlab.com', auth: 'oauth' as const, clientId: 'abc' }, secretsSet: ['clientSecret' as const] };
    expect(pointers(validateGitProvider({ auth: 'token', token: 't' }, existing))).toEqual(expect.arrayContaining(['auth', 'token']));
    expect(validateGitProvider({ name: 'Renamed' }, existing).value).toMatchObject({ name: 'Renamed', settings: { auth: 'oauth', clientId: 'abc' }, secrets: {} });
    const tokenOne = { name: 'T', kind: 'gitlab' as const, settings: { baseUrl: 'https://gitlab.com' }, secretsSet: ['token' as const] };
    expect(pointers(validateGitProvider({ auth: 'oauth' }, tokenOne))).toEqual(['auth']);
  });

  it('a Bitbucket OAuth consumer needs the workspace, key and secret; no username or token', () => {
    expect(validateGitProvider({ name: 'BB', kind: 'bitbucket', auth: 'oauth', workspace: 'ws', clientId: 'key', clientSecret: 'secret' }).value?.settings)
      .toEqual({ baseUrl: 'https://api.bitbucket.org/2.0', workspace: 'ws', auth: 'oauth', clientId: 'key' });
    expect(pointers(validateGitProvider({ name: 'BB', kind: 'bitbucket', auth: 'oauth', workspace: 'ws', clientId: 'key', clientSecret: 's', username: 'u', token: 't' }))).toEqual(['username', 'token']);
  });

  it('OAuth endpoints live on the web address: GitLab without /api/v4, Bitbucket Cloud on bitbucket.org', () => {
    expect(providerWebBase('gitlab', 'https://gitlab.example.com/api/v4')).toBe('https://gitlab.example.com');
    expect(providerWebBase('gitlab', 'https://example.com/gitlab/')).toBe('https://example.com/gitlab');
    expect(providerWebBase('bitbucket', 'https://api.bitbucket.org/2.0')).toBe('https://bitbucket.org');
    expect(providerWebBase('bitbucket', 'https://127.0.0.1:8443/2.0')).toBe('https://127.0.0.1:8443');
  });
});
