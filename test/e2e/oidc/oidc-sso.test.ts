import request from 'supertest';
import { Client } from 'pg';
import { startTestApp, TestApp } from '../../support/app';
import { addMember, setupOwner, Session } from '../../support/api';
import { Browser, freePort, startIdentityProvider, TestIdentityProvider } from '../../support/oidc-provider';

const ACCOUNTS = [
  { sub: 'alice', email: 'alice@example.com', email_verified: true, name: 'Alice Dev', groups: ['staff', 'wharf-devs'] },
  { sub: 'bob', email: 'bob@example.com', email_verified: true, name: 'Bob', groups: [] },
  { sub: 'mallory', email: 'mallory@evil.test', email_verified: true, name: 'Mallory', groups: ['wharf-devs'] },
  { sub: 'eve', email: 'eve@example.com', email_verified: false, name: 'Eve', groups: ['wharf-devs'] },
  // Claims the email of Wharf's existing owner account: must never sign in as that account.
  { sub: 'imposter', email: 'owner@example.com', email_verified: true, name: 'Not the owner', groups: ['wharf-devs'] },
];

jest.setTimeout(60_000);

describe('OIDC single sign-on against a real OpenID provider', () => {
  let t: TestApp;
  let idp: TestIdentityProvider;
  let db: Client;
  let publicUrl: string;
  let callbackUrl: string;
  let owner: Session & { organizationId: string };
  let orgId: string;
  let providerId: string;

  beforeAll(async () => {
    const port = await freePort();
    publicUrl = `http://127.0.0.1:${port}`;
    callbackUrl = `${publicUrl}/api/v1/auth/oidc/callback`;
    idp = await startIdentityProvider(callbackUrl, ACCOUNTS);
    t = await startTestApp({ PORT: String(port), WHARF_PUBLIC_URL: publicUrl });
    db = new Client({ connectionString: t.databaseUrl });
    await db.connect();
    owner = await setupOwner(t);
    orgId = owner.organizationId;
  }, 60_000);
  afterAll(async () => {
    await db?.end();
    await t?.close();
    await idp?.close();
  });

  const base = () => `/api/v1/organizations/${orgId}/oidc-providers`;
  const config = () => ({
    name: 'Example SSO',
    issuerUrl: idp.issuer,
    clientId: idp.clientId,
    clientSecret: idp.clientSecret,
    scopes: ['openid', 'email', 'profile', 'groups'],
    allowedDomains: ['example.com'],
    roleClaim: 'groups',
    roleMapping: { 'wharf-devs': 'developer' },
    defaultRole: 'viewer',
  });

  /** Runs the browser flow up to Wharf's callback; returns the callback URL the provider redirected to. */
  async function throughProvider(browser: Browser, login: string, returnTo = '/dashboard?tab=1'): Promise<string> {
    const start = await browser.request(`${publicUrl}/api/v1/auth/oidc/${providerId}/start?returnTo=${encodeURIComponent(returnTo)}`);
    expect(start.status).toBe(302);
    const authUrl = new URL(start.headers.get('location')!);
    expect(authUrl.origin).toBe(idp.issuer);
    expect(authUrl.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authUrl.searchParams.get('code_challenge')).toBeTruthy();
    expect(authUrl.searchParams.get('state')).toBeTruthy();
    expect(authUrl.searchParams.get('nonce')).toBeTruthy();
    expect(authUrl.searchParams.get('redirect_uri')).toBe(callbackUrl);
    const { hops } = await browser.follow(authUrl.href, { login, stop: (loc) => loc.startsWith(callbackUrl) });
    const cb = hops[hops.length - 1];
    expect(cb.startsWith(callbackUrl)).toBe(true);
    return cb;
  }

  async function signIn(login: string, returnTo?: string): Promise<{ location: string; browser: Browser; callback: string }> {
    const browser = new Browser();
    const callback = await throughProvider(browser, login, returnTo);
    const res = await browser.request(callback);
    expect(res.status).toBe(302);
    return { location: res.headers.get('location')!, browser, callback };
  }

  const accessCookie = (b: Browser) => b.cookie(new URL(publicUrl).host, 'wharf_access');

  it('validates the configuration: issuer URL protocol, openid scope, known roles', async () => {
    const bad1 = await request(t.server).post(base()).set(owner.auth).send({ ...config(), issuerUrl: 'ftp://idp.example.com' }).expect(400);
    expect(bad1.body.errors.map((e: { pointer: string }) => e.pointer)).toContain('/issuerUrl');
    const bad2 = await request(t.server).post(base()).set(owner.auth).send({ ...config(), scopes: ['email', 'profile'] }).expect(400);
    expect(bad2.body.errors.map((e: { code: string }) => e.code)).toContain('openid-required');
    const bad3 = await request(t.server).post(base()).set(owner.auth).send({ ...config(), roleMapping: { x: '0190a6c0-0000-7000-8000-000000000000' } }).expect(400);
    expect(bad3.body.errors[0].code).toBe('unknown-role');
    await request(t.server).post(base()).set(owner.auth).send({ ...config(), defaultRole: 'superuser' }).expect(400);
    await request(t.server).post(base()).set(owner.auth).send({ ...config(), extra: 1 }).expect(400);
  });

  it('lets the owner configure a provider; the client secret is never returned', async () => {
    const res = await request(t.server).post(base()).set(owner.auth).send(config()).expect(201);
    providerId = res.body.id;
    expect(res.body).toMatchObject({ name: 'Example SSO', issuerUrl: idp.issuer, clientSecretSet: true, roleMapping: { 'wharf-devs': 'developer' }, enabled: true, version: 1, redirectUri: callbackUrl });
    expect(res.body).not.toHaveProperty('clientSecret');
    expect(JSON.stringify(res.body)).not.toContain(idp.clientSecret);
    const list = await request(t.server).get(base()).set(owner.auth).expect(200);
    expect(list.body).toHaveLength(1);
    const one = await request(t.server).get(`${base()}/${providerId}`).set(owner.auth).expect(200);
    expect(one.headers.etag).toBe('"1"');
    for (const body of [list.text, one.text]) expect(body).not.toContain(idp.clientSecret);
    // Stored encrypted, bound to the row.
    const [row] = (await db.query(`SELECT client_secret_enc FROM oidc_providers WHERE id = $1`, [providerId])).rows;
    expect(row.client_secret_enc).toMatch(/^v1\./);
    expect(row.client_secret_enc).not.toContain(idp.clientSecret);
  });

  it('updates with If-Match (412 on a stale version) and keeps the secret out of the audit log', async () => {
    await request(t.server).patch(`${base()}/${providerId}`).set(owner.auth).set('If-Match', '"7"').send({ name: 'Stale' }).expect(412);
    const upd = await request(t.server).patch(`${base()}/${providerId}`).set(owner.auth).set('If-Match', '"1"').send({ name: 'Example', clientSecret: idp.clientSecret }).expect(200);
    expect(upd.body).toMatchObject({ name: 'Example', version: 2, clientSecretSet: true });
    expect(upd.text).not.toContain(idp.clientSecret);
  });

  it('lists enabled providers publicly by organization slug (id and name only)', async () => {
    const disabled = await request(t.server).post(base()).set(owner.auth).send({ ...config(), name: 'Off', enabled: false }).expect(201);
    const res = await request(t.server).get('/api/v1/auth/oidc/providers?organization=acme').expect(200);
    expect(res.body).toEqual([{ id: providerId, name: 'Example' }]);
    const none = await request(t.server).get('/api/v1/auth/oidc/providers?organization=no-such-org').expect(200);
    expect(none.body).toEqual([]);
    // A disabled provider cannot be used to sign in either.
    const start = await request(t.server).get(`/api/v1/auth/oidc/${disabled.body.id}/start`).expect(302);
    expect(start.headers.location).toBe('/login?error=oidc-provider-unavailable');
    await request(t.server).delete(`${base()}/${disabled.body.id}`).set(owner.auth).expect(204);
  });

  it('refuses a developer (403), an admin mapping above their role (403), and hides the provider from other organizations (404)', async () => {
    const dev = await addMember(t, owner, orgId, 'dev@example.com', 'developer');
    const denied = await request(t.server).post(base()).set(dev.auth).send(config()).expect(403);
    expect(denied.body.code).toBe('forbidden');
    await request(t.server).patch(`${base()}/${providerId}`).set(dev.auth).send({ name: 'x' }).expect(403);
    await request(t.server).delete(`${base()}/${providerId}`).set(dev.auth).expect(403);

    const admin = await addMember(t, owner, orgId, 'admin@example.com', 'admin');
    const esc = await request(t.server).post(base()).set(admin.auth).send({ ...config(), roleMapping: { root: 'owner' } }).expect(403);
    expect(esc.body.code).toBe('role-escalation');
    await request(t.server).post(base()).set(admin.auth).send({ ...config(), name: 'Admin made', roleMapping: { ops: 'admin' } }).expect(201);

    // Someone who only belongs to another organization.
    const other = await request(t.server).post('/api/v1/organizations').set(owner.auth).send({ name: 'Other' }).expect(201);
    const outsider = await addMember(t, owner, other.body.id, 'outsider@other.test', 'owner');
    await request(t.server).get(base()).set(outsider.auth).expect(404);
    await request(t.server).get(`${base()}/${providerId}`).set(outsider.auth).expect(404);
    await request(t.server).patch(`${base()}/${providerId}`).set(outsider.auth).send({ name: 'pwned' }).expect(404);
    await request(t.server).delete(`${base()}/${providerId}`).set(outsider.auth).expect(404);
    // Another organization's provider id under one's own organization is unknown too.
    await request(t.server).get(`/api/v1/organizations/${other.body.id}/oidc-providers/${providerId}`).set(outsider.auth).expect(404);
  });

  it('signs a new user in through the provider, provisions them with the mapped role, and starts a session', async () => {
    const { location, browser, callback } = await signIn('alice');
    expect(location).toBe('/dashboard?tab=1');
    expect(new URL(callback).searchParams.get('code')).toBeTruthy();
    const cookie = accessCookie(browser);
    expect(cookie).toBeTruthy();
    const me = await request(t.server).get('/api/v1/me').set('Cookie', `wharf_access=${cookie}`).expect(200);
    expect(me.body.user.email).toBe('alice@example.com');
    const orgs = await request(t.server).get('/api/v1/organizations').set('Cookie', `wharf_access=${cookie}`).expect(200);
    expect(orgs.body).toEqual([expect.objectContaining({ id: orgId, role: 'developer' })]);
    const [user] = (await db.query(`SELECT id, name, password_hash FROM users WHERE lower(email) = 'alice@example.com'`)).rows;
    expect(user.name).toBe('Alice Dev');
    expect(user.password_hash).toBeNull();

    // The state is single use: replaying the callback is refused, without a session.
    const replay = await browser.request(callback);
    expect(replay.status).toBe(302);
    expect(replay.headers.get('location')).toBe('/login?error=oidc-invalid-state');
    expect(replay.headers.getSetCookie().some((c) => c.startsWith('wharf_access='))).toBe(false);
  });

  it('reuses the user on the second sign-in and leaves the membership as it is', async () => {
    const before = (await db.query(`SELECT id FROM users WHERE lower(email) = 'alice@example.com'`)).rows;
    const { location, browser } = await signIn('alice', '//evil.example/steal');
    expect(location).toBe('/'); // only same-site relative paths are honoured
    const me = await request(t.server).get('/api/v1/me').set('Cookie', `wharf_access=${accessCookie(browser)}`).expect(200);
    expect(me.body.user.id).toBe(before[0].id);
    const after = (await db.query(`SELECT id FROM users WHERE lower(email) = 'alice@example.com'`)).rows;
    expect(after).toHaveLength(1);
    const members = (await db.query(`SELECT role FROM memberships WHERE user_id = $1`, [before[0].id])).rows;
    expect(members).toEqual([{ role: 'developer' }]);
  });

  it('gives the default role when no claim value is mapped', async () => {
    const { browser } = await signIn('bob');
    const orgs = await request(t.server).get('/api/v1/organizations').set('Cookie', `wharf_access=${accessCookie(browser)}`).expect(200);
    expect(orgs.body).toEqual([expect.objectContaining({ id: orgId, role: 'viewer' })]);
  });

  it('refuses a disallowed email domain, an unverified email and an existing account it was never linked to', async () => {
    for (const [login, code] of [['mallory', 'oidc-email-domain'], ['eve', 'oidc-email-unverified'], ['imposter', 'oidc-account-exists']]) {
      const { location, browser } = await signIn(login);
      expect(location).toBe(`/login?error=${code}`);
      expect(accessCookie(browser)).toBeUndefined();
    }
    const users = (await db.query(`SELECT email FROM users WHERE email IN ('mallory@evil.test', 'eve@example.com')`)).rows;
    expect(users).toEqual([]);
    const ownerMemberships = (await db.query(`SELECT m.role FROM memberships m JOIN users u ON u.id = m.user_id WHERE u.email = 'owner@example.com' AND m.organization_id = $1`, [orgId])).rows;
    expect(ownerMemberships).toEqual([{ role: 'owner' }]);
  });

  it('links an identity to the signed-in account only when asked, then signs that account in', async () => {
    // Without a session, link=true is refused before anything reaches the provider.
    const anon = await request(t.server).get(`/api/v1/auth/oidc/${providerId}/start?link=true`).expect(302);
    expect(anon.headers.location).toBe('/login?error=oidc-link-requires-session');
    const host = new URL(publicUrl).host;
    const browser = new Browser();
    browser.setCookie(host, 'wharf_access', owner.accessToken);
    const start = await browser.request(`${publicUrl}/api/v1/auth/oidc/${providerId}/start?link=true&returnTo=/settings`);
    expect(start.status).toBe(302);
    const { hops } = await browser.follow(start.headers.get('location')!, { login: 'imposter', stop: (loc) => loc.startsWith(callbackUrl) });
    const done = await browser.request(hops[hops.length - 1]);
    expect(done.headers.get('location')).toBe('/settings');
    // From now on this identity signs in as the owner's account (the one that linked it), with its role unchanged.
    const again = await signIn('imposter');
    expect(again.location).toBe('/dashboard?tab=1');
    const me = await request(t.server).get('/api/v1/me').set('Cookie', `wharf_access=${accessCookie(again.browser)}`).expect(200);
    expect(me.body.user.id).toBe(owner.userId);
    const orgs = await request(t.server).get('/api/v1/organizations').set('Cookie', `wharf_access=${accessCookie(again.browser)}`).expect(200);
    expect(orgs.body.find((o: { id: string }) => o.id === orgId).role).toBe('owner');
  });

  it('refuses a callback without a known state, and a provider error', async () => {
    const none = await request(t.server).get('/api/v1/auth/oidc/callback?code=abc&state=forged').expect(302);
    expect(none.headers.location).toBe('/login?error=oidc-invalid-state');
    const browser = new Browser();
    const start = await browser.request(`${publicUrl}/api/v1/auth/oidc/${providerId}/start`);
    const state = new URL(start.headers.get('location')!).searchParams.get('state')!;
    const denied = await browser.request(`${callbackUrl}?error=access_denied&state=${encodeURIComponent(state)}`);
    expect(denied.headers.get('location')).toBe('/login?error=oidc-denied');
  });

  it('binds the sign-in to the browser that started it: a callback from another browser is refused', async () => {
    const host = new URL(publicUrl).host;
    const victim = new Browser();
    // The binding cookie: httpOnly, SameSite=Lax (the provider comes back with a cross-site top-level GET), short-lived.
    const start = await victim.request(`${publicUrl}/api/v1/auth/oidc/${providerId}/start`);
    const binder = start.headers.getSetCookie().find((c) => c.startsWith('wharf_oidc_binder='));
    expect(binder).toMatch(/HttpOnly/);
    expect(binder).toMatch(/SameSite=Lax/);
    expect(binder).toMatch(/Max-Age=600/);
    const { hops } = await victim.follow(start.headers.get('location')!, { login: 'bob', stop: (loc) => loc.startsWith(callbackUrl) });
    const callback = hops[hops.length - 1];
    // Someone else opens the callback URL (a leaked link, or a login-CSRF attempt): no cookie, or their own cookie.
    const stranger = new Browser();
    const refused = await stranger.request(callback);
    expect(refused.status).toBe(302);
    expect(refused.headers.get('location')).toBe('/login?error=oidc-browser-mismatch');
    expect(accessCookie(stranger)).toBeUndefined();
    const other = new Browser();
    await other.request(`${publicUrl}/api/v1/auth/oidc/${providerId}/start`);
    expect(other.cookie(host, 'wharf_oidc_binder')).toBeTruthy();
    expect(other.cookie(host, 'wharf_oidc_binder')).not.toBe(victim.cookie(host, 'wharf_oidc_binder'));
    const refusedToo = await other.request(callback);
    expect(refusedToo.headers.get('location')).toBe('/login?error=oidc-browser-mismatch');
    expect(accessCookie(other)).toBeUndefined();
    // The refused attempts did not use up the sign-in: the browser that started it completes it.
    const done = await victim.request(callback);
    expect(done.headers.get('location')).toBe('/');
    expect(accessCookie(victim)).toBeTruthy();
  });

  it('records sign-ins and provisioning in the audit log, and never the client secret', async () => {
    // The audit entries are appended in the same transaction as the change.
    const rows = (await db.query(`SELECT action, outcome, changes, row_to_json(a)::text AS raw FROM audit_events a WHERE organization_id = $1 ORDER BY seq`, [orgId])).rows;
    const actions = rows.map((r) => `${r.action}:${r.outcome}`);
    expect(actions).toEqual(expect.arrayContaining(['oidc-provider.created:succeeded', 'oidc-provider.updated:succeeded', 'oidc-provider.create:denied', 'member.created:succeeded', 'auth.login:succeeded', 'auth.login:failed']));
    const created = rows.find((r) => r.action === 'oidc-provider.created');
    expect(created.changes.clientSecret).toBe('[redacted]');
    const updated = rows.find((r) => r.action === 'oidc-provider.updated');
    expect(updated.changes).toMatchObject({ clientSecret: '[redacted]', name: { from: 'Example SSO', to: 'Example' } });
    const logins = rows.filter((r) => r.action === 'auth.login' && r.outcome === 'succeeded');
    expect(logins.length).toBeGreaterThanOrEqual(3);
    expect(logins[0].changes).toMatchObject({ method: 'oidc', providerId });
    expect(rows.filter((r) => r.action === 'member.created' && r.changes.via === 'oidc')).toHaveLength(2); // alice, bob
    const failures = rows.filter((r) => r.action === 'auth.login' && r.outcome === 'failed').map((r) => r.changes.reason);
    expect(failures).toEqual(expect.arrayContaining(['oidc-email-domain', 'oidc-email-unverified', 'oidc-account-exists', 'oidc-denied', 'oidc-browser-mismatch']));
    const leaked = await db.query(
      `SELECT (SELECT count(*) FROM audit_events a WHERE row_to_json(a)::text LIKE '%' || $1 || '%')::int AS audit,
              (SELECT count(*) FROM outbox_events o WHERE o.envelope::text LIKE '%' || $1 || '%')::int AS outbox`,
      [idp.clientSecret],
    );
    expect(leaked.rows[0]).toEqual({ audit: 0, outbox: 0 });
  });
});
