/**
 * Bitbucket Cloud connections through an OAuth consumer, end to end against the real API and worker and the contract
 * fake's Bitbucket OAuth endpoints (test/support/git-provider-fake.ts; no real Bitbucket is reachable here): the
 * authorize URL (client_id = the consumer's key, response_type=code, state; Bitbucket takes the consumer's callback URL
 * and documents no PKCE), consent → callback → authorized as the Bitbucket user, repositories with the Bearer access
 * token, a refresh near expiry (Basic client authentication), a revoked refresh token → needs re-authorization, and
 * the state bound to the browser. The GitLab flow's refusals (replay, other user, expiry, PKCE) are in
 * gitlab-oauth.test.ts; the state handling is the same code.
 */
import { request as httpsRequest } from 'node:https';
import request from 'supertest';
import { startTestApp, TestApp } from '../../support/app';
import { Session, setupOwner } from '../../support/api';
import { freePort } from '../../support/docker/swarm-test-run';
import { FakeGitProvider, startFakeGitProvider } from '../../support/git-provider-fake';
import { auditAll, sql } from '../audit/helpers';

const CALLBACK = '/api/v1/git-providers/oauth/callback';

describe('Bitbucket Cloud connections through an OAuth consumer', () => {
  let t: TestApp;
  let fake: FakeGitProvider;
  let publicUrl = '';
  let owner: Session & { organizationId: string };
  let id = '';
  const answers: unknown[] = [];

  beforeAll(async () => {
    fake = await startFakeGitProvider();
    fake.setRepositories([{ fullName: 'wharf-ws/hello', cloneUrl: 'https://127.0.0.1/wharf-ws/hello.git', commit: 'f'.repeat(40) }]);
    const port = await freePort();
    publicUrl = `http://127.0.0.1:${port}`;
    fake.bitbucketOAuth.callbackUrl = `${publicUrl}${CALLBACK}`;
    t = await startTestApp({ PORT: String(port), WHARF_PUBLIC_URL: publicUrl, WHARF_GIT_ALLOW_PRIVATE_HOSTS: 'true', WHARF_GIT_CA_FILE: fake.caFile });
    owner = await setupOwner(t, 'owner@example.com', 'Acme');
  });
  afterAll(async () => {
    await t?.close();
    await fake?.stop();
  });

  const api = () => request(t.server);
  const view = async () => {
    const r = await api().get(`/api/v1/git-providers/${id}`).set(owner.auth).expect(200);
    answers.push(r.body);
    return r.body;
  };
  async function authorize(): Promise<{ url: URL; cookie: string }> {
    const r = await api().post(`/api/v1/git-providers/${id}/oauth/authorize`).set(owner.auth).expect(200);
    answers.push(r.body);
    const set = ([] as string[]).concat(r.headers['set-cookie'] ?? []).find((c) => c.startsWith('wharf_git_oauth_binder='));
    return { url: new URL(r.body.authorizationUrl), cookie: set!.split(';')[0] };
  }
  function consent(url: URL): Promise<URL> {
    return new Promise((resolve, reject) => {
      const req = httpsRequest(url, { ca: fake.caPem }, (res) => {
        res.resume();
        if (res.statusCode !== 302 || !res.headers.location) return reject(new Error(`the fake's authorize answered ${res.statusCode}`));
        resolve(new URL(res.headers.location));
      });
      req.on('error', reject);
      req.end();
    });
  }
  async function callback(back: URL, headers: Record<string, string> = {}): Promise<URL> {
    const r = await api().get(`${back.pathname}${back.search}`).set(headers).expect(302);
    return new URL(r.headers.location, publicUrl);
  }

  it('creates an OAuth connection (workspace, key, write-only secret); the authorize URL is the consumer one', async () => {
    const post = (body: object) => api().post(`/api/v1/organizations/${owner.organizationId}/git-providers`).set(owner.auth).send({ name: 'Bitbucket OAuth', kind: 'bitbucket', baseUrl: `${fake.url}/2.0`, ...body });
    expect((await post({ auth: 'oauth', clientId: fake.bitbucketOAuth.key, clientSecret: 's' }).expect(400)).body.errors[0].pointer).toBe('/workspace');
    expect((await post({ auth: 'oauth', workspace: 'wharf-ws', clientId: 'k', clientSecret: 's', username: 'me' }).expect(400)).body.errors[0].pointer).toBe('/username');
    const c = await post({ auth: 'oauth', workspace: fake.bitbucket.workspace, clientId: fake.bitbucketOAuth.key, clientSecret: fake.bitbucketOAuth.secret }).expect(201);
    answers.push(c.body);
    id = c.body.id;
    expect(c.body).toMatchObject({ kind: 'bitbucket', auth: 'oauth', clientId: fake.bitbucketOAuth.key, secretsSet: ['clientSecret'], oauth: { status: 'not-authorized', redirectUri: `${publicUrl}${CALLBACK}` } });
    const { url } = await authorize();
    expect(`${url.origin}${url.pathname}`).toBe(`${fake.url}/site/oauth2/authorize`);
    expect(Object.fromEntries(url.searchParams)).toEqual({ client_id: fake.bitbucketOAuth.key, response_type: 'code', state: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
    const r = await api().get(`/api/v1/git-providers/${id}/repositories`).set(owner.auth).expect(503);
    expect(r.body.detail).toMatch(/Bitbucket connection .* has not been authorized yet.*Authorize with Bitbucket/);
  });

  it('consent → callback: authorized as the Bitbucket user; repositories with the Bearer access token; another browser is refused', async () => {
    const { url, cookie } = await authorize();
    const back = await consent(url);
    expect((await callback(back)).searchParams.get('reason')).toBe('oauth-browser-mismatch');
    const landed = await callback(back, { Cookie: cookie });
    expect(landed.searchParams.get('oauth')).toBe('authorized');
    expect((await view()).oauth).toMatchObject({ status: 'authorized', username: 'wharf-bot' });
    const before = fake.requests.length;
    const repos = await api().get(`/api/v1/git-providers/${id}/repositories`).set(owner.auth).expect(200);
    expect(repos.body.map((x: { fullName: string }) => x.fullName)).toEqual(['wharf-ws/hello']);
    const used = fake.requests.slice(before).filter((x) => x.path.startsWith('/2.0/'));
    expect(used.map((x) => x.headers.authorization)).toEqual([expect.stringMatching(/^Bearer [A-Za-z0-9_-]{48}$/)]);
    const token = await request(t.server).get(`/api/v1/git-providers/${id}/branches`).query({ repository: 'wharf-ws/hello' }).set(owner.auth).expect(200);
    expect(token.body).toEqual([{ name: 'main', commit: 'f'.repeat(40) }]);
  });

  it('refreshes near expiry; a revoked refresh token needs re-authorization; authorizing again fixes it', async () => {
    await sql(t, `UPDATE git_providers SET oauth_expires_at = now() + interval '1 minute' WHERE id = $1`, [id]);
    const refreshes = fake.bitbucketOAuth.grants.refresh_token;
    await api().get(`/api/v1/git-providers/${id}/repositories`).set(owner.auth).expect(200);
    expect(fake.bitbucketOAuth.grants.refresh_token).toBe(refreshes + 1);
    expect(Date.parse((await view()).oauth.expiresAt) - Date.now()).toBeGreaterThan(7000_000);

    fake.bitbucketOAuth.revokeAll();
    await sql(t, `UPDATE git_providers SET oauth_expires_at = now() + interval '1 minute' WHERE id = $1`, [id]);
    const r = await api().get(`/api/v1/git-providers/${id}/repositories`).set(owner.auth).expect(503);
    expect(r.body.detail).toMatch(/needs re-authorization.*Authorize with Bitbucket/);
    expect((await view()).oauth).toMatchObject({ status: 'needs-reauthorization', message: expect.stringMatching(/invalid_grant/) });

    const { url, cookie } = await authorize();
    expect((await callback(await consent(url), { Cookie: cookie })).searchParams.get('oauth')).toBe('authorized');
    await api().get(`/api/v1/git-providers/${id}/repositories`).set(owner.auth).expect(200);
  });

  it('never shows the consumer secret, tokens or codes in answers, the audit log or the database in clear', async () => {
    const audit = await auditAll(t, owner, owner.organizationId);
    expect(audit.filter((a) => a.action === 'git-provider.authorized').map((a) => a.outcome).sort()).toEqual(['denied', 'succeeded', 'succeeded']);
    const rows = await sql(t, `SELECT * FROM git_providers WHERE id = $1`, [id]);
    const everything = JSON.stringify([answers, audit, rows]);
    const bearer = fake.requests.map((x) => /^Bearer (\S+)$/.exec(String(x.headers.authorization ?? ''))?.[1]).filter((x): x is string => !!x);
    const codes = fake.requests.filter((x) => x.path === '/site/oauth2/access_token').map((x) => (x.body as Record<string, string>).code).filter((x): x is string => !!x);
    expect(bearer.length).toBeGreaterThan(0);
    for (const secret of [fake.bitbucketOAuth.secret, ...fake.bitbucketOAuth.issuedRefreshTokens, ...bearer, ...codes]) expect(everything).not.toContain(secret);
  });
});
