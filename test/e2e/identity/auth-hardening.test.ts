import request from 'supertest';
import { Client } from 'pg';
import { startTestApp, TestApp } from '../../support/app';
import { addMember, login, PASSWORD, Session, setupOwner } from '../../support/api';
import { httpdSpec, productionEnvironment } from '../../support/deploy';

/** Sign-in lock-out, concurrent guesses, concurrent refreshes and Idempotency-Key (real PostgreSQL and Redis). */
describe('authentication hardening', () => {
  let t: TestApp;
  let db: Client;
  let owner: Session & { organizationId: string };
  beforeAll(async () => {
    // The defaults: 10 failures per account and client address, 100 per account, 50 per address, in 15 minutes.
    t = await startTestApp();
    db = new Client({ connectionString: t.databaseUrl });
    await db.connect();
    owner = await setupOwner(t);
  });
  afterAll(async () => {
    await db?.end();
    await t?.close();
  });

  // The API trusts X-Forwarded-For from loopback (a reverse proxy in front), so each request names its client address.
  const attempt = (email: string, password: string, ip: string) => request(t.server).post('/api/v1/auth/login').set('X-Forwarded-For', ip).send({ email, password });
  const failedVerifications = async (email: string): Promise<number> =>
    (await db.query(`SELECT count(*)::int AS n FROM audit_events WHERE action = 'auth.login' AND outcome = 'failed' AND actor_name = $1 AND changes->>'reason' = 'invalid-credentials'`, [email])).rows[0].n;

  it("locks a stranger out of a known account, not its owner, and says when to retry", async () => {
    const stranger = '203.0.113.10';
    for (let i = 0; i < 10; i++) expect((await attempt(owner.email, 'wrong password!!', stranger)).status).toBe(401);
    for (const password of ['wrong password!!', PASSWORD]) {
      const limited = await attempt(owner.email, password, stranger);
      expect(limited.status).toBe(429);
      expect(limited.headers['content-type']).toContain('application/problem+json');
      expect(limited.body.code).toBe('rate-limited');
      const retryAfter = Number(limited.headers['retry-after']);
      expect(Number.isInteger(retryAfter)).toBe(true);
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(900);
    }
    // The owner, from another address, signs in with the right password.
    const ok = await attempt(owner.email, PASSWORD, '198.51.100.20');
    expect(ok.status).toBe(200);
    expect(ok.body.accessToken).toBeTruthy();
    expect(await failedVerifications(owner.email)).toBe(10);
  });

  it('counts concurrent wrong guesses before verifying: 20 at once verify at most the limit', async () => {
    const victim = await addMember(t, owner, owner.organizationId, 'victim@example.com', 'viewer');
    const results = await Promise.all(Array.from({ length: 20 }, () => attempt(victim.email, 'wrong password!!', '203.0.113.30')));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 401)).toHaveLength(10);
    expect(statuses.filter((s) => s === 429)).toHaveLength(10);
    for (const r of results.filter((x) => x.status === 429)) expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
    // Each password verification that failed wrote one audit entry: exactly the limit, never more.
    expect(await failedVerifications(victim.email)).toBe(10);
    // The right password from this address is refused too (the window is not over), but not from elsewhere.
    expect((await attempt(victim.email, PASSWORD, '203.0.113.30')).status).toBe(429);
    expect((await attempt(victim.email, PASSWORD, '198.51.100.21')).status).toBe(200);
  });

  it('a correct password gives its attempt back: an owner who mistypes now and then is never locked out', async () => {
    const user = await addMember(t, owner, owner.organizationId, 'typo@example.com', 'viewer');
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 5; i++) expect((await attempt(user.email, 'wrong password!!', '192.0.2.40')).status).toBe(401);
      expect((await attempt(user.email, PASSWORD, '192.0.2.40')).status).toBe(200);
    }
  });

  it('answers two concurrent refreshes with one token with the same new pair, and the session lives on', async () => {
    const s = await login(t, owner.email);
    const [a, b] = await Promise.all([0, 1].map(() => request(t.server).post('/api/v1/auth/refresh').send({ refreshToken: s.refreshToken })));
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    expect(b.body.refreshToken).toBe(a.body.refreshToken);
    expect(b.body.accessToken).toBe(a.body.accessToken);
    expect(a.body.refreshToken).not.toBe(s.refreshToken);
    // A retried request a moment later gets the same pair again.
    const retried = await request(t.server).post('/api/v1/auth/refresh').send({ refreshToken: s.refreshToken }).expect(200);
    expect(retried.body.refreshToken).toBe(a.body.refreshToken);
    await request(t.server).get('/api/v1/me').set('Authorization', `Bearer ${a.body.accessToken}`).expect(200);
    const next = await request(t.server).post('/api/v1/auth/refresh').send({ refreshToken: a.body.refreshToken }).expect(200);
    await request(t.server).get('/api/v1/me').set('Authorization', `Bearer ${next.body.accessToken}`).expect(200);
    // The successor is kept encrypted, never in plain text.
    const rows = (await db.query(`SELECT successor_enc FROM refresh_tokens WHERE family_id = $1 AND successor_enc IS NOT NULL`, [(s as Session & { sessionId: string }).sessionId])).rows;
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) {
      expect(r.successor_enc).toMatch(/^v1\./);
      expect(r.successor_enc).not.toContain(a.body.refreshToken);
    }
  });

  it('revokes the session when a rotated token comes back after the grace window', async () => {
    const s = await login(t, owner.email);
    const r1 = await request(t.server).post('/api/v1/auth/refresh').send({ refreshToken: s.refreshToken }).expect(200);
    await db.query(`UPDATE refresh_tokens SET used_at = used_at - interval '1 minute' WHERE family_id = $1 AND used_at IS NOT NULL`, [(s as Session & { sessionId: string }).sessionId]);
    const reuse = await request(t.server).post('/api/v1/auth/refresh').send({ refreshToken: s.refreshToken }).expect(401);
    expect(reuse.body.code).toBe('refresh-token-reused');
    await request(t.server).post('/api/v1/auth/refresh').send({ refreshToken: r1.body.refreshToken }).expect(401);
    await request(t.server).get('/api/v1/me').set('Authorization', `Bearer ${r1.body.accessToken}`).expect(401);
  });

  it('drops the kept responses of rotations past their window at the next rotation', async () => {
    const s = await login(t, owner.email);
    const sessionId = (s as Session & { sessionId: string }).sessionId;
    const r1 = await request(t.server).post('/api/v1/auth/refresh').send({ refreshToken: s.refreshToken }).expect(200);
    await db.query(`UPDATE refresh_tokens SET used_at = used_at - interval '1 minute' WHERE family_id = $1 AND used_at IS NOT NULL`, [sessionId]);
    await request(t.server).post('/api/v1/auth/refresh').send({ refreshToken: r1.body.refreshToken }).expect(200);
    const kept = (await db.query(`SELECT count(*)::int AS n FROM refresh_tokens WHERE family_id = $1 AND successor_enc IS NOT NULL`, [sessionId])).rows[0].n;
    expect(kept).toBe(1); // only the rotation that just happened
  });

  it('Idempotency-Key: a repeat gets the original response; the same key with another request is refused (422)', async () => {
    const env = await productionEnvironment(t, owner, owner.organizationId);
    const app = await request(t.server).post(`/api/v1/environments/${env.environmentId}/applications`).set(owner.auth).send({ name: 'idem', spec: httpdSpec(null, { image: 'wharf-test/never:1' }) }).expect(201);
    // An unknown variable reference fails the deployment at once: no Docker needed.
    await request(t.server).put(`/api/v1/applications/${app.body.id}/variables`).set(owner.auth).send({ variables: [{ key: 'X', value: '${{NOPE}}' }] }).expect(200);
    const deploy = (key: string, body: Record<string, unknown>, s: Session = owner) =>
      request(t.server).post(`/api/v1/applications/${app.body.id}/deployments`).set(s.auth).set('Idempotency-Key', key).send(body);
    const first = await deploy('release-42', {});
    expect(first.status).toBe(202);
    const again = await deploy('release-42', {});
    expect(again.status).toBe(202);
    expect(again.body).toEqual(first.body);
    expect((await deploy('release-42', { kind: 'deploy' })).status).toBe(202); // the same request, spelled out
    const other = await deploy('release-42', { kind: 'redeploy' });
    expect(other.status).toBe(422);
    expect(other.headers['content-type']).toContain('application/problem+json');
    expect(other.body.code).toBe('idempotency-key-reused');
    const admin = await addMember(t, owner, owner.organizationId, 'idem-admin@example.com', 'admin');
    expect((await deploy('release-42', {}, admin)).status).toBe(422);
    const rows = (await db.query(`SELECT count(*)::int AS n FROM deployments WHERE application_id = $1`, [app.body.id])).rows;
    expect(rows[0].n).toBe(1);
  });
});

describe('the account-wide cap on failed sign-ins from many addresses', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ WHARF_LOGIN_LIMIT_PER_ACCOUNT: '5', WHARF_LOGIN_LIMIT_PER_ACCOUNT_TOTAL: '12' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('bounds guessing spread over addresses; other accounts and addresses are unaffected', async () => {
    const owner = await setupOwner(t);
    const other = await addMember(t, owner, owner.organizationId, 'other@example.com', 'viewer');
    const attempt = (email: string, password: string, ip: string) => request(t.server).post('/api/v1/auth/login').set('X-Forwarded-For', ip).send({ email, password });
    const statuses: number[] = [];
    for (const ip of ['203.0.113.1', '203.0.113.2', '203.0.113.3']) {
      for (let i = 0; i < 5; i++) statuses.push((await attempt(owner.email, 'wrong password!!', ip)).status);
    }
    // 5 + 5 from the first two addresses, then the account-wide cap (12) stops the third address after 2.
    expect(statuses.filter((s) => s === 401)).toHaveLength(12);
    expect(statuses.slice(12)).toEqual([429, 429, 429]);
    const capped = await attempt(owner.email, PASSWORD, '198.51.100.9');
    expect(capped.status).toBe(429);
    expect(Number(capped.headers['retry-after'])).toBeGreaterThan(0);
    expect((await attempt(other.email, PASSWORD, '203.0.113.3')).status).toBe(200);
  });
});
