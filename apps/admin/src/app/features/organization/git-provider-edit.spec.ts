import { providerPatch, providerWebhookUrl } from '../../core/api/git-providers-api.service';

const EMPTY = { name: '', baseUrl: '', appId: '', installationId: '', privateKey: '', webhookSecret: '', token: '', username: '', workspace: '', clientId: '', clientSecret: '' };

describe('Git provider edit form', () => {
  it("sends the kind's settings and only the secrets that were typed (empty keeps the stored one)", () => {
    expect(providerPatch({ kind: 'github', auth: 'token' }, { ...EMPTY, name: ' Acme App ', baseUrl: 'https://api.github.com', appId: ' 12 ', installationId: '34', webhookSecret: ' s3cret ', token: 'not-a-github-field' }))
      .toEqual({ name: 'Acme App', baseUrl: 'https://api.github.com', appId: '12', installationId: '34', webhookSecret: 's3cret' });
    expect(providerPatch({ kind: 'gitea', auth: 'token' }, { ...EMPTY, name: 'Gitea', baseUrl: 'https://git.example.com' })).toEqual({ name: 'Gitea', baseUrl: 'https://git.example.com' });
  });

  it('an OAuth connection edits its application id and (write-only) secret, not a token', () => {
    expect(providerPatch({ kind: 'gitlab', auth: 'oauth' }, { ...EMPTY, name: 'GitLab', clientId: ' app-1 ', token: 'ignored' })).toEqual({ name: 'GitLab', clientId: 'app-1' });
  });

  it('an emptied optional setting is sent empty (cleared); an empty base URL is left out (kept)', () => {
    expect(providerPatch({ kind: 'bitbucket', auth: 'token' }, { ...EMPTY, name: 'BB', workspace: 'acme', username: '' })).toEqual({ name: 'BB', workspace: 'acme', username: '' });
  });

  it("the App's webhook URL is Wharf's address and the connection's path; none without a path", () => {
    expect(providerWebhookUrl({ webhookPath: '/api/v1/webhooks/git-providers/x/github' }, 'https://wharf.example.com/')).toBe('https://wharf.example.com/api/v1/webhooks/git-providers/x/github');
    expect(providerWebhookUrl({ webhookPath: null }, 'https://wharf.example.com')).toBeNull();
  });
});
