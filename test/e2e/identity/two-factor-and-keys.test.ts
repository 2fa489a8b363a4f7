import request from 'supertest';
import { sql } from '../../support/sql';
import { authenticator } from 'otplib';
import { startTestApp, TestApp } from '../../support/app';
import { addMember, login, PASSWORD, Session, setupOwner } from '../../support/api';


describe('two-factor authentication and API keys', () => {
  let t: TestApp;
  let owner: Session & { organizationId: string };
  beforeAll(async () => {
    t = await startTestApp();
    owner = await setupOwner(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('enrols TOTP, then requires a code (or a single-use recovery code) to sign in', async () => {
    const dev = await addMember(t, owner, owner.organizationId, 'totp@example.com', 'developer');
    const setup = await request(t.server).post('/api/v1/me/two-factor/setup').set(dev.auth).expect(201);
    expect(setup.body.otpauthUri).toMatch(/^otpauth:\/\/totp\/Wharf:totp%40example.com\?secret=/);
    await request(t.server).post('/api/v1/me/two-factor/enable').set(dev.auth).send({ code: '000000' }).expect(400);
    const enabled = await request(t.server).post('/api/v1/me/two-factor/enable').set(dev.auth).send({ code: authenticator.generate(setup.body.secret) }).expect(200);
    expect(enabled.body.recoveryCodes).toHaveLength(10);
    // The secret is stored encrypted.
    const [row] = await sql(t.databaseUrl, 'SELECT totp_secret_enc FROM users WHERE id = $1', [dev.userId]);
    expect(String(row.totp_secret_enc)).not.toContain(setup.body.secret);

    const noCode = await request(t.server).post('/api/v1/auth/login').send({ email: 'totp@example.com', password: PASSWORD }).expect(401);
    expect(noCode.body.code).toBe('totp-required');
    await request(t.server).post('/api/v1/auth/login').send({ email: 'totp@example.com', password: PASSWORD, totpCode: '123456' }).expect(401);
    await login(t, 'totp@example.com', PASSWORD, { totpCode: authenticator.generate(setup.body.secret) });
    const code = enabled.body.recoveryCodes[0];
    await login(t, 'totp@example.com', PASSWORD, { recoveryCode: code });
    const reused = await request(t.server).post('/api/v1/auth/login').send({ email: 'totp@example.com', password: PASSWORD, recoveryCode: code }).expect(401);
    expect(reused.body.code).toBe('invalid-recovery-code');
  });

  it('accepts an authenticator code once: a replay inside its validity window is refused and audited, even when racing', async () => {
    const dev = await addMember(t, owner, owner.organizationId, 'replay@example.com', 'developer');
    const setup = await request(t.server).post('/api/v1/me/two-factor/setup').set(dev.auth).expect(201);
    const secret: string = setup.body.secret;
    await request(t.server).post('/api/v1/me/two-factor/enable').set(dev.auth).send({ code: authenticator.generate(secret) }).expect(200);
    // Codes of the current or next 30-second step: accepted (window ±1 step) for at least 30 s from now.
    const stepCode = (offset: number): string => authenticator.clone({ epoch: Date.now() + offset * 30_000 }).generate(secret);
    const code = stepCode(1);
    await login(t, 'replay@example.com', PASSWORD, { totpCode: code });
    const replay = await request(t.server).post('/api/v1/auth/login').send({ email: 'replay@example.com', password: PASSWORD, totpCode: code }).expect(401);
    expect(replay.body.code).toBe('totp-replayed');
    expect(replay.body.accessToken).toBeUndefined();
    const [audited] = await sql(t.databaseUrl, `SELECT outcome FROM audit_events WHERE action = 'auth.login' AND actor_id = $1 AND changes->>'reason' = 'totp-replayed'`, [dev.userId]);
    expect(audited).toEqual({ outcome: 'failed' });
    // Two sign-ins racing with one unused code: exactly one gets a session.
    const fresh = stepCode(0) === code ? stepCode(1) : stepCode(0);
    const raced = await Promise.all([0, 1].map(() => request(t.server).post('/api/v1/auth/login').send({ email: 'replay@example.com', password: PASSWORD, totpCode: fresh })));
    expect(raced.map((r) => r.status).sort()).toEqual([200, 401]);
    expect(raced.find((r) => r.status === 401)!.body.code).toBe('totp-replayed');
  });

  it('an organization that requires 2FA locks out members without it until they enrol', async () => {
    const plain = await addMember(t, owner, owner.organizationId, 'no2fa@example.com', 'developer');
    await request(t.server).post(`/api/v1/organizations/${owner.organizationId}/projects`).set(plain.auth).send({ name: 'Before' }).expect(201);
    // The owner enables 2FA first (otherwise they would lock themselves out of the setting).
    const s = await request(t.server).post('/api/v1/me/two-factor/setup').set(owner.auth).expect(201);
    await request(t.server).post('/api/v1/me/two-factor/enable').set(owner.auth).send({ code: authenticator.generate(s.body.secret) }).expect(200);
    await request(t.server).patch(`/api/v1/organizations/${owner.organizationId}`).set(owner.auth).send({ requireTwoFactor: true }).expect(200);
    await request(t.server).post(`/api/v1/organizations/${owner.organizationId}/projects`).set(plain.auth).send({ name: 'After' }).expect(403);
    const me = await request(t.server).get('/api/v1/me').set(plain.auth).expect(200);
    expect(me.body.memberships[0].twoFactorRequired).toBe(true);
    await request(t.server).patch(`/api/v1/organizations/${owner.organizationId}`).set(owner.auth).send({ requireTwoFactor: false }).expect(200);
  });

  it('personal API keys: shown once, stored hashed, scoped, expiring, revocable, last use recorded', async () => {
    const created = await request(t.server).post('/api/v1/me/api-keys').set(owner.auth).send({ name: 'ci', scopes: ['read'] }).expect(201);
    const key: string = created.body.key;
    expect(key).toMatch(/^wk_[A-Za-z0-9]{8}_/);
    expect(created.body.prefix).toBe(key.split('_')[1]);
    const [row] = await sql(t.databaseUrl, 'SELECT key_hash FROM api_keys WHERE id = $1', [created.body.id]);
    expect(row.key_hash).not.toBe(key);
    const listed = await request(t.server).get('/api/v1/me/api-keys').set(owner.auth).expect(200);
    expect(JSON.stringify(listed.body)).not.toContain(key);

    // Read scope: can read, cannot write.
    await request(t.server).get(`/api/v1/organizations/${owner.organizationId}/projects`).set('X-API-Key', key).expect(200);
    await request(t.server).post(`/api/v1/organizations/${owner.organizationId}/projects`).set('X-API-Key', key).send({ name: 'nope' }).expect(403);
    await request(t.server).get(`/api/v1/organizations/${owner.organizationId}/projects?api_key=${key}`).expect(401);
    // The last use is recorded without holding up the request: poll for it.
    const lastUsed = async () => (await sql(t.databaseUrl, 'SELECT last_used_at FROM api_keys WHERE id = $1', [created.body.id]))[0];
    let used = await lastUsed();
    for (const until = Date.now() + 5000; !used.last_used_at && Date.now() < until; used = await lastUsed()) await new Promise((r) => setTimeout(r, 50));
    expect(used.last_used_at).not.toBeNull();

    const write = await request(t.server).post('/api/v1/me/api-keys').set(owner.auth).send({ name: 'deployer', scopes: ['write'] }).expect(201);
    await request(t.server).post(`/api/v1/organizations/${owner.organizationId}/projects`).set('Authorization', `Bearer ${write.body.key}`).send({ name: 'ByKey' }).expect(201);
    // A key cannot mint keys or act as an admin beyond its scope.
    await request(t.server).post('/api/v1/me/api-keys').set('X-API-Key', write.body.key).send({ name: 'x', scopes: ['admin'] }).expect(403);

    await request(t.server).delete(`/api/v1/me/api-keys/${created.body.id}`).set(owner.auth).expect(204);
    await request(t.server).get('/api/v1/me').set('X-API-Key', key).expect(401);

    const expiring = await request(t.server).post('/api/v1/me/api-keys').set(owner.auth).send({ name: 'short', scopes: ['read'], expiresAt: new Date(Date.now() + 60_000).toISOString() }).expect(201);
    await sql(t.databaseUrl, `UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = $1`, [expiring.body.id]);
    await request(t.server).get('/api/v1/me').set('X-API-Key', expiring.body.key).expect(401);
    await request(t.server).post('/api/v1/me/api-keys').set(owner.auth).send({ name: 'past', scopes: ['read'], expiresAt: '2000-01-01T00:00:00Z' }).expect(400);
  });

  it('service-account keys act with their role inside one organization, never above the creator', async () => {
    const sa = await request(t.server).post(`/api/v1/organizations/${owner.organizationId}/api-keys`).set(owner.auth).send({ name: 'bot', role: 'viewer', scopes: ['read', 'write'] }).expect(201);
    expect(sa.body.kind).toBe('service-account');
    await request(t.server).get(`/api/v1/organizations/${owner.organizationId}/projects`).set('X-API-Key', sa.body.key).expect(200);
    await request(t.server).post(`/api/v1/organizations/${owner.organizationId}/projects`).set('X-API-Key', sa.body.key).send({ name: 'viewer-cannot' }).expect(403);
    const dev = await addMember(t, owner, owner.organizationId, 'dev-keys@example.com', 'developer');
    await request(t.server).post(`/api/v1/organizations/${owner.organizationId}/api-keys`).set(dev.auth).send({ name: 'evil', role: 'admin', scopes: ['admin'] }).expect(403);
    const list = await request(t.server).get(`/api/v1/organizations/${owner.organizationId}/api-keys`).set(owner.auth).expect(200);
    expect(list.body.map((k: { name: string }) => k.name)).toContain('bot');
    await request(t.server).delete(`/api/v1/organizations/${owner.organizationId}/api-keys/${sa.body.id}`).set(owner.auth).expect(204);
    await request(t.server).get('/api/v1/me').set('X-API-Key', sa.body.key).expect(401);
  });
});
