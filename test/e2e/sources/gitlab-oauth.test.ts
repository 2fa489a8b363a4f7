/**
 * GitLab connections through an OAuth application, end to end against the real API and worker and the contract fake's
 * GitLab OAuth endpoints (test/support/git-provider-fake.ts; no real GitLab is reachable here): the authorize URL's
 * parameters (PKCE S256, state, scopes, redirect URI), the user's consent simulated by following the fake's authorize
 * redirect back to Wharf's callback with the browser's binding cookie, tokens stored and used (Bearer) for the
 * repositories, a refresh 5 minutes before expiry that rotates the refresh token (serialized: parallel users spend it
 * once), a revoked refresh token → needs re-authorization (view, API calls, deploy-time error), and the refusals:
 * replayed, unknown and expired state, another browser, another user, PKCE mismatch, denied consent.
 */
import { createHash } from 'node:crypto';
import { request as httpsRequest } from 'node:https';
import request from 'supertest';
import { startTestApp, TestApp } from '../../support/app';
import { addMember, Session, setupOwner } from '../../support/api';
import { freePort } from '../../support/docker/swarm-test-run';
import { FakeGitProvider, startFakeGitProvider } from '../../support/git-provider-fake';
import { until } from '../../support/until';
import { auditAll, sql } from '../audit/helpers';

const CALLBACK = '/api/v1/git-providers/oauth/callback';
const COMMIT = 'e'.repeat(40);

describe('GitLab connections through an OAuth application', () => {
  let t: TestApp;
  let fake: FakeGitProvider;
  let publicUrl = '';
  let owner: Session & { organizationId: string };
  let admin: Session;
  let viewer: Session;
  let id = '';
  /** Everything the API answered, searched for secrets at the end. */
  const answers: unknown[] = [];

  beforeAll(async () => {
    fake = await startFakeGitProvider();
    fake.setRepositories([{ fullName: 'octo/hello', cloneUrl: 'https://127.0.0.1/octo/hello.git', commit: COMMIT }]);
    const port = await freePort();
    publicUrl = `http://127.0.0.1:${port}`;
    fake.gitlabOAuth.redirectUris = [`${publicUrl}${CALLBACK}`];
    t = await startTestApp({ PORT: String(port), WHARF_PUBLIC_URL: publicUrl, WHARF_GIT_ALLOW_PRIVATE_HOSTS: 'true', WHARF_GIT_CA_FILE: fake.caFile });
    owner = await setupOwner(t, 'owner@example.com', 'Acme');
    admin = await addMember(t, owner, owner.organizationId, 'admin@example.com', 'admin');
    viewer = await addMember(t, owner, owner.organizationId, 'viewer@example.com', 'viewer');
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

  /** Starts an authorization: the authorize URL and the binding cookie the answer set. */
  async function authorize(s: Session, cookie?: string): Promise<{ url: URL; cookie: string }> {
    const r = await api().post(`/api/v1/git-providers/${id}/oauth/authorize`).set(s.auth).set(cookie ? { Cookie: cookie } : {}).expect(200);
    answers.push(r.body);
    const set = ([] as string[]).concat(r.headers['set-cookie'] ?? []).find((c) => c.startsWith('wharf_git_oauth_binder='));
    expect(set).toMatch(/HttpOnly/i);
    expect(set).toMatch(/SameSite=Lax/i);
    return { url: new URL(r.body.authorizationUrl), cookie: set!.split(';')[0] };
  }

  /** The user's consent at the provider: GET the authorize URL at the fake, which redirects back with code and state. */
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

  /** The browser following the provider's redirect to Wharf's callback: where Wharf sends it next. */
  async function callback(back: URL, headers: Record<string, string> = {}): Promise<URL> {
    expect(`${back.origin}${back.pathname}`).toBe(`${publicUrl}${CALLBACK}`);
    const r = await api().get(`${back.pathname}${back.search}`).set(headers).expect(302);
    expect(r.headers['cache-control']).toBe('no-store');
    return new URL(r.headers.location, publicUrl);
  }

  const flagOf = (u: URL) => ({ path: u.pathname, oauth: u.searchParams.get('oauth') ?? u.searchParams.get('gitProviderOAuth'), reason: u.searchParams.get('reason') });

  it('creates an OAuth connection (validated; the client secret write-only); nothing works before authorization', async () => {
    const post = (body: object) => api().post(`/api/v1/organizations/${owner.organizationId}/git-providers`).set(owner.auth).send({ name: 'GitLab OAuth', kind: 'gitlab', baseUrl: fake.url, ...body });
    for (const [body, pointer] of [
      [{ auth: 'oauth', clientSecret: 's' }, '/clientId'],
      [{ auth: 'oauth', clientId: fake.gitlabOAuth.clientId }, '/clientSecret'],
      [{ auth: 'oauth', clientId: 'a b', clientSecret: 's' }, '/clientId'],
      [{ auth: 'oauth', clientId: 'x', clientSecret: 's', token: 't' }, '/token'],
      [{ auth: 'password', token: 't' }, '/auth'],
    ] as const) {
      const r = await post(body).expect(400);
      expect(r.body.errors.map((e: { pointer: string }) => e.pointer)).toContain(pointer);
    }
    const c = await post({ auth: 'oauth', clientId: fake.gitlabOAuth.clientId, clientSecret: fake.gitlabOAuth.clientSecret }).expect(201);
    answers.push(c.body);
    id = c.body.id;
    expect(c.body).toMatchObject({
      kind: 'gitlab', auth: 'oauth', clientId: fake.gitlabOAuth.clientId, secretsSet: ['clientSecret'],
      oauth: { status: 'not-authorized', username: null, expiresAt: null, redirectUri: `${publicUrl}${CALLBACK}` },
    });
    const k = await api().patch(`/api/v1/git-providers/${id}`).set(owner.auth).send({ auth: 'token' }).expect(400);
    expect(k.body.errors[0].pointer).toBe('/auth');
    const repos = await api().get(`/api/v1/git-providers/${id}/repositories`).set(owner.auth).expect(503);
    expect(repos.body.detail).toMatch(/has not been authorized yet.*Authorize with GitLab/);
    // Only OAuth connections are authorized; a viewer may not; another organization's member gets 404.
    const tok = await api().post(`/api/v1/organizations/${owner.organizationId}/git-providers`).set(owner.auth).send({ name: 'GitLab token', kind: 'gitlab', baseUrl: fake.url, token: fake.token }).expect(201);
    expect(tok.body).toMatchObject({ auth: 'token', clientId: null, oauth: null });
    expect((await api().post(`/api/v1/git-providers/${tok.body.id}/oauth/authorize`).set(owner.auth).expect(409)).body.code).toBe('git-provider-not-oauth');
    await api().post(`/api/v1/git-providers/${id}/oauth/authorize`).set(viewer.auth).expect(403);
  });

  it('the authorize URL carries the client, redirect URI, scopes, a state and an S256 code challenge', async () => {
    const { url } = await authorize(owner);
    expect(`${url.origin}${url.pathname}`).toBe(`${fake.url}/oauth/authorize`);
    const q = Object.fromEntries(url.searchParams);
    expect(q).toEqual({
      client_id: fake.gitlabOAuth.clientId, redirect_uri: `${publicUrl}${CALLBACK}`, response_type: 'code', state: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      scope: 'api read_repository', code_challenge: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), code_challenge_method: 'S256',
    });
    const audit = await auditAll(t, owner, owner.organizationId);
    expect(audit.filter((a) => a.action === 'git-provider.authorization-started')).toHaveLength(1);
  });

  it('consent → callback: authorized as the GitLab user; repositories and branches use the access token; the state works once', async () => {
    const { url, cookie } = await authorize(owner);
    const back = await consent(url);
    expect(back.searchParams.get('state')).toBe(url.searchParams.get('state'));
    const landed = await callback(back, { Cookie: cookie });
    expect(flagOf(landed)).toEqual({ path: `/orgs/${owner.organizationId}/settings/git-providers`, oauth: 'authorized', reason: null });
    expect(landed.searchParams.get('provider')).toBe(id);
    const v = await view();
    expect(v.oauth).toMatchObject({ status: 'authorized', username: 'wharf-bot', message: null });
    expect(Date.parse(v.oauth.expiresAt) - Date.now()).toBeGreaterThan(7000_000);
    const before = fake.requests.length;
    const repos = await api().get(`/api/v1/git-providers/${id}/repositories`).set(owner.auth).expect(200);
    expect(repos.body).toEqual([{ fullName: 'octo/hello', cloneUrl: 'https://127.0.0.1/octo/hello.git', defaultBranch: 'main', private: true }]);
    const b = await api().get(`/api/v1/git-providers/${id}/branches`).query({ repository: 'octo/hello' }).set(owner.auth).expect(200);
    expect(b.body).toEqual([{ name: 'main', commit: COMMIT }]);
    const used = fake.requests.slice(before).filter((r) => r.path.startsWith('/api/v4/'));
    expect(used.length).toBe(2);
    for (const r of used) {
      expect(r.headers.authorization).toMatch(/^Bearer [0-9a-f]{64}$/);
      expect(r.headers['private-token']).toBeUndefined();
    }
    expect((await api().post(`/api/v1/git-providers/${id}/test`).set(owner.auth).expect(200)).body).toEqual({ ok: true, message: 'signed in as wharf-bot' });
    // Replayed: the state was consumed.
    expect(flagOf(await callback(back, { Cookie: cookie })).reason).toBe('oauth-invalid-state');
    const audit = await auditAll(t, owner, owner.organizationId);
    expect(audit.filter((a) => a.action === 'git-provider.authorized').map((a) => a.outcome)).toEqual(['succeeded']);
  });

  it('refuses unknown, expired, other-browser and other-user states, a PKCE mismatch and a denied consent', async () => {
    const unknown = await callback(new URL(`${publicUrl}${CALLBACK}?code=abc&state=${'x'.repeat(43)}`));
    expect(flagOf(unknown)).toEqual({ path: '/', oauth: 'failed', reason: 'oauth-invalid-state' });
    expect(flagOf(await callback(new URL(`${publicUrl}${CALLBACK}?code=abc`))).reason).toBe('oauth-invalid-state');

    // Expired (10 minutes): the row is there but too old.
    const old = await authorize(owner);
    await sql(t, `UPDATE git_provider_oauth_states SET expires_at = now() - interval '1 second' WHERE state_hash = encode(sha256($1::bytea), 'hex')`, [old.url.searchParams.get('state')]);
    expect(flagOf(await callback(await consent(old.url), { Cookie: old.cookie })).reason).toBe('oauth-invalid-state');

    // Another browser (no or another binding cookie), then another user with the right cookie: refused, not consumed.
    const mine = await authorize(owner);
    const back = await consent(mine.url);
    expect(flagOf(await callback(back)).reason).toBe('oauth-browser-mismatch');
    const theirs = await authorize(admin);
    expect(flagOf(await callback(back, { Cookie: theirs.cookie })).reason).toBe('oauth-browser-mismatch');
    expect(flagOf(await callback(back, { Cookie: mine.cookie, ...admin.auth })).reason).toBe('oauth-user-mismatch');
    // The rightful browser and user still complete it.
    expect(flagOf(await callback(back, { Cookie: mine.cookie, ...owner.auth })).oauth).toBe('authorized');

    // A code obtained with another code challenge (an injected code): the provider refuses Wharf's verifier.
    const grants = fake.gitlabOAuth.grants.authorization_code;
    const pkce = await authorize(owner);
    const forged = new URL(pkce.url);
    forged.searchParams.set('code_challenge', createHash('sha256').update('attacker-verifier-attacker-verifier-attacker').digest('base64url'));
    const refused = await callback(await consent(forged), { Cookie: pkce.cookie });
    expect(flagOf(refused)).toEqual({ path: `/orgs/${owner.organizationId}/settings/git-providers`, oauth: 'failed', reason: 'oauth-exchange-failed' });
    expect(fake.gitlabOAuth.grants.authorization_code).toBe(grants);
    expect((await view()).oauth.status).toBe('authorized');

    // The user clicked Deny at GitLab.
    fake.gitlabOAuth.deny = true;
    const denied = await authorize(owner);
    expect(flagOf(await callback(await consent(denied.url), { Cookie: denied.cookie })).reason).toBe('oauth-denied');
    fake.gitlabOAuth.deny = false;

    const audit = await auditAll(t, owner, owner.organizationId);
    const outcomes = audit.filter((a) => a.action === 'git-provider.authorized').map((a) => a.outcome).sort();
    expect(outcomes).toEqual(['denied', 'denied', 'denied', 'failed', 'failed', 'succeeded', 'succeeded']);
  });

  it('refreshes a token near expiry once, under a lock, storing the rotated refresh token (the old one is refused)', async () => {
    // An authorization whose access token lives 2 minutes: every use is within the 5-minute margin.
    fake.gitlabOAuth.accessTokenTtlSeconds = 120;
    const { url, cookie } = await authorize(owner);
    expect(flagOf(await callback(await consent(url), { Cookie: cookie })).oauth).toBe('authorized');
    const first = fake.gitlabOAuth.issuedRefreshTokens.at(-1)!;
    expect(Date.parse((await view()).oauth.expiresAt) - Date.now()).toBeLessThan(5 * 60_000);
    fake.gitlabOAuth.accessTokenTtlSeconds = 7200;
    const refreshes = fake.gitlabOAuth.grants.refresh_token;
    const all = await Promise.all([1, 2, 3, 4].map(() => api().get(`/api/v1/git-providers/${id}/repositories`).set(owner.auth)));
    expect(all.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(fake.gitlabOAuth.grants.refresh_token).toBe(refreshes + 1);
    const v = await view();
    expect(v.oauth.status).toBe('authorized');
    expect(Date.parse(v.oauth.expiresAt) - Date.now()).toBeGreaterThan(7000_000);
    expect(fake.gitlabOAuth.liveRefreshTokens()).not.toContain(first);
    const rotated = fake.gitlabOAuth.issuedRefreshTokens.at(-1)!;
    expect(fake.gitlabOAuth.liveRefreshTokens()).toContain(rotated);
    // The provider refuses the spent refresh token.
    const spent = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const body = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: first, client_id: fake.gitlabOAuth.clientId, client_secret: fake.gitlabOAuth.clientSecret }).toString();
      const req = httpsRequest(`${fake.url}/oauth/token`, { method: 'POST', ca: fake.caPem, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } }, (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
      req.end(body);
    });
    expect(spent.status).toBe(400);
    expect(JSON.parse(spent.body).error).toBe('invalid_grant');
  });

  it('an access token refused before its expiry is refreshed once and the call retried', async () => {
    fake.gitlabOAuth.revokeAccessTokens();
    const refreshes = fake.gitlabOAuth.grants.refresh_token;
    await api().get(`/api/v1/git-providers/${id}/repositories`).set(owner.auth).expect(200);
    await api().get(`/api/v1/git-providers/${id}/branches`).query({ repository: 'octo/hello' }).set(owner.auth).expect(200);
    expect(fake.gitlabOAuth.grants.refresh_token).toBe(refreshes + 1);
    expect((await view()).oauth.status).toBe('authorized');
  });

  it('a revoked refresh token: needs re-authorization (view, API calls, a deployment says so); authorizing again fixes it', async () => {
    fake.gitlabOAuth.revokeAll();
    // Time passes: the access token is now within the margin.
    await sql(t, `UPDATE git_providers SET oauth_expires_at = now() + interval '1 minute' WHERE id = $1`, [id]);
    const r = await api().get(`/api/v1/git-providers/${id}/repositories`).set(owner.auth).expect(503);
    expect(r.body.detail).toMatch(/needs re-authorization.*Authorize with GitLab/);
    const v = await view();
    expect(v.oauth).toMatchObject({ status: 'needs-reauthorization', message: expect.stringMatching(/refresh token was refused.*invalid_grant/) });
    const test = await api().post(`/api/v1/git-providers/${id}/test`).set(owner.auth).expect(200);
    expect(test.body).toEqual({ ok: false, message: expect.stringMatching(/needs re-authorization/) });

    const project = await api().post(`/api/v1/organizations/${owner.organizationId}/projects`).set(owner.auth).send({ name: 'oauth' }).expect(201);
    const appId = (await api().post(`/api/v1/environments/${project.body.environments[0].id}/applications`).set(owner.auth).send({ name: 'hello', spec: { image: 'busybox:latest' } }).expect(201)).body.id;
    await api().put(`/api/v1/applications/${appId}/source`).set(owner.auth).send({ repository: 'https://127.0.0.1/octo/hello.git', ref: 'main', auth: { kind: 'none' }, providerId: id }).expect(200);
    const d = await api().post(`/api/v1/applications/${appId}/deployments`).set(owner.auth).send({ commit: COMMIT }).expect(202);
    const failed = await until('the deployment fails', async () => {
      const x = await api().get(`/api/v1/deployments/${d.body.id}`).set(owner.auth).expect(200);
      return x.body.status === 'failed' ? x.body : null;
    }, 60_000);
    expect(failed.error).toMatch(/needs re-authorization/);

    const { url, cookie } = await authorize(owner);
    expect(flagOf(await callback(await consent(url), { Cookie: cookie })).oauth).toBe('authorized');
    expect((await view()).oauth).toMatchObject({ status: 'authorized', message: null });
    await api().get(`/api/v1/git-providers/${id}/repositories`).set(owner.auth).expect(200);
  });

  it('never shows the client secret, tokens, codes or verifiers in answers, the audit log or the database in clear', async () => {
    const audit = await auditAll(t, owner, owner.organizationId);
    const rows = await sql(t, `SELECT * FROM git_providers WHERE id = $1`, [id]);
    const states = await sql(t, `SELECT * FROM git_provider_oauth_states`);
    const list = await api().get(`/api/v1/organizations/${owner.organizationId}/git-providers`).set(owner.auth).expect(200);
    const everything = JSON.stringify([answers, audit, rows, states, list.body]);
    const accessTokens = fake.requests.map((r) => /^Bearer ([0-9a-f]{64})$/.exec(String(r.headers.authorization ?? ''))?.[1]).filter((x): x is string => !!x);
    const codes = fake.requests.filter((r) => r.path === '/oauth/token').map((r) => (r.body as Record<string, string>).code).filter((x): x is string => !!x);
    const verifiers = fake.requests.filter((r) => r.path === '/oauth/token').map((r) => (r.body as Record<string, string>).code_verifier).filter((x): x is string => !!x);
    expect(accessTokens.length).toBeGreaterThan(0);
    expect(codes.length).toBeGreaterThan(0);
    for (const secret of [fake.gitlabOAuth.clientSecret, ...fake.gitlabOAuth.issuedRefreshTokens, ...accessTokens, ...codes, ...verifiers]) expect(everything).not.toContain(secret);
  });
});
