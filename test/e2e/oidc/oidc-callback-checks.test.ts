import { createHash, randomBytes } from 'node:crypto';
import { Client } from 'pg';
import request from 'supertest';
import { startTestApp, TestApp } from '../../support/app';
import { setupOwner } from '../../support/api';
import { Browser, freePort, startIdentityProvider, TestIdentityProvider } from '../../support/oidc-provider';

/**
 * What the callback checks besides a known, single-use state, each against a real OpenID provider: the ID token's
 * nonce must be the one this sign-in sent, the code must have been issued for this sign-in's PKCE challenge, and the
 * login state expires. A failed check ends at the sign-in page with an error code, without a session, a provisioned
 * account or a membership.
 *
 * The browser keeps cookies per host, so whatever cookie Wharf binds a sign-in to the browser with travels with it.
 */
describe('OIDC callback: nonce, PKCE and expired state', () => {
  let t: TestApp;
  let idp: TestIdentityProvider;
  let db: Client;
  let publicUrl: string;
  let callbackUrl: string;
  let orgId: string;
  let providerId: string;

  beforeAll(async () => {
    const port = await freePort();
    publicUrl = `http://127.0.0.1:${port}`;
    callbackUrl = `${publicUrl}/api/v1/auth/oidc/callback`;
    idp = await startIdentityProvider(callbackUrl, [
      { sub: 'carol', email: 'carol@example.com', email_verified: true, name: 'Carol', groups: [] },
      { sub: 'dave', email: 'dave@example.com', email_verified: true, name: 'Dave', groups: [] },
    ]);
    t = await startTestApp({ PORT: String(port), WHARF_PUBLIC_URL: publicUrl });
    db = new Client({ connectionString: t.databaseUrl });
    await db.connect();
    const owner = await setupOwner(t);
    orgId = owner.organizationId;
    const created = await request(t.server).post(`/api/v1/organizations/${orgId}/oidc-providers`).set(owner.auth).send({
      name: 'Example SSO', issuerUrl: idp.issuer, clientId: idp.clientId, clientSecret: idp.clientSecret,
      scopes: ['openid', 'email', 'profile'], allowedDomains: ['example.com'], defaultRole: 'viewer',
    }).expect(201);
    providerId = created.body.id;
  }, 60_000);
  afterAll(async () => {
    await db?.end();
    await t?.close();
    await idp?.close();
  });

  const host = () => new URL(publicUrl).host;
  const usersNamed = async (email: string): Promise<number> => (await db.query(`SELECT count(*)::int AS n FROM users WHERE lower(email) = $1`, [email])).rows[0].n;
  const failuresFor = async (reason: string): Promise<number> =>
    (await db.query(`SELECT count(*)::int AS n FROM audit_events WHERE organization_id = $1 AND action = 'auth.login' AND outcome = 'failed' AND changes->>'reason' = $2`, [orgId, reason])).rows[0].n;

  /**
   * Starts a sign-in in `browser` and returns the provider's authorization URL, after `tamper` changed it (what an
   * attacker who controls the redirect, or injects a code from another flow, would achieve).
   */
  async function start(browser: Browser, tamper: (u: URL) => void = () => undefined): Promise<{ authUrl: URL; state: string }> {
    const res = await browser.request(`${publicUrl}/api/v1/auth/oidc/${providerId}/start`);
    expect(res.status).toBe(302);
    const authUrl = new URL(res.headers.get('location')!);
    expect(authUrl.origin).toBe(idp.issuer);
    const state = authUrl.searchParams.get('state')!;
    tamper(authUrl);
    return { authUrl, state };
  }

  /** Signs in at the provider as `login` and returns Wharf's callback URL, without opening it yet. */
  async function throughProvider(browser: Browser, authUrl: URL, login: string): Promise<string> {
    const { hops } = await browser.follow(authUrl.href, { login, stop: (loc) => loc.startsWith(callbackUrl) });
    const cb = hops[hops.length - 1];
    expect(cb.startsWith(callbackUrl)).toBe(true);
    expect(new URL(cb).searchParams.get('code')).toBeTruthy();
    return cb;
  }

  async function callback(browser: Browser, url: string): Promise<{ location: string | null; sessionCookie: boolean }> {
    const res = await browser.request(url);
    expect(res.status).toBe(302);
    return { location: res.headers.get('location'), sessionCookie: res.headers.getSetCookie().some((c) => c.startsWith('wharf_access=')) || !!browser.cookie(host(), 'wharf_access') };
  }

  it('control: the untampered flow signs in (so the refusals below are the checks, not a broken set-up)', async () => {
    const browser = new Browser();
    const { authUrl } = await start(browser);
    const done = await callback(browser, await throughProvider(browser, authUrl, 'dave'));
    expect(done).toEqual({ location: '/', sessionCookie: true });
    expect(await usersNamed('dave@example.com')).toBe(1);
  });

  it('refuses an ID token whose nonce is not the one this sign-in sent', async () => {
    const browser = new Browser();
    const before = await failuresFor('oidc-exchange-failed');
    // The provider signs an ID token for another nonce (as for a token minted for someone else's sign-in).
    const { authUrl } = await start(browser, (u) => u.searchParams.set('nonce', randomBytes(32).toString('base64url')));
    const done = await callback(browser, await throughProvider(browser, authUrl, 'carol'));
    expect(done).toEqual({ location: '/login?error=oidc-exchange-failed', sessionCookie: false });
    expect(await usersNamed('carol@example.com')).toBe(0);
    expect(await failuresFor('oidc-exchange-failed')).toBe(before + 1);
  });

  it('refuses a code issued for another PKCE challenge (code injection), and one from another sign-in', async () => {
    const before = await failuresFor('oidc-exchange-failed');
    // 1. The challenge the provider saw is not derived from this sign-in's verifier.
    const browser = new Browser();
    const forged = createHash('sha256').update(randomBytes(32).toString('base64url')).digest('base64url');
    const { authUrl } = await start(browser, (u) => u.searchParams.set('code_challenge', forged));
    const done = await callback(browser, await throughProvider(browser, authUrl, 'carol'));
    expect(done).toEqual({ location: '/login?error=oidc-exchange-failed', sessionCookie: false });

    // 2. An attacker's code (their own sign-in) pasted into the victim's callback with the victim's state.
    const victim = new Browser();
    const { state: victimState } = await start(victim);
    const attacker = new Browser();
    const { authUrl: attackerUrl } = await start(attacker);
    const attackerCallback = new URL(await throughProvider(attacker, attackerUrl, 'carol'));
    const injected = new URL(callbackUrl);
    injected.searchParams.set('code', attackerCallback.searchParams.get('code')!);
    injected.searchParams.set('state', victimState);
    for (const k of ['iss', 'session_state']) if (attackerCallback.searchParams.has(k)) injected.searchParams.set(k, attackerCallback.searchParams.get(k)!);
    const res = await callback(victim, injected.href);
    expect(res).toEqual({ location: '/login?error=oidc-exchange-failed', sessionCookie: false });

    expect(await usersNamed('carol@example.com')).toBe(0);
    expect(await failuresFor('oidc-exchange-failed')).toBe(before + 2);
  });

  it('refuses an expired login state, and it stays consumed', async () => {
    const browser = new Browser();
    const { authUrl, state } = await start(browser);
    const cb = await throughProvider(browser, authUrl, 'carol');
    const stateHash = createHash('sha256').update(state).digest('hex');
    const aged = await db.query(`UPDATE oidc_logins SET expires_at = now() - interval '1 second' WHERE state_hash = $1`, [stateHash]);
    expect(aged.rowCount).toBe(1);
    const done = await callback(browser, cb);
    expect(done).toEqual({ location: '/login?error=oidc-invalid-state', sessionCookie: false });
    expect(await usersNamed('carol@example.com')).toBe(0);
    expect((await db.query(`SELECT count(*)::int AS n FROM oidc_logins WHERE state_hash = $1`, [stateHash])).rows[0].n).toBe(0);
    // Nothing about Carol reached the organization.
    expect((await db.query(`SELECT count(*)::int AS n FROM memberships m JOIN users u ON u.id = m.user_id WHERE u.email = 'carol@example.com'`)).rows[0].n).toBe(0);
  });
});
