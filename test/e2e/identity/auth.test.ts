import request from 'supertest';
import { startTestApp, TestApp } from '../../support/app';
import { login, PASSWORD, SETUP_TOKEN } from '../../support/api';

describe('first-run setup and password sign-in', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ WHARF_LOGIN_LIMIT_PER_ACCOUNT: '5' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('refuses setup with a wrong token and creates nothing', async () => {
    const res = await request(t.server)
      .post('/api/v1/auth/setup')
      .send({ setupToken: 'wrong-token-xxxxxxxxxxxx', email: 'a@example.com', name: 'A', password: PASSWORD, organizationName: 'X' })
      .expect(403);
    expect(res.body.code).toBe('invalid-setup-token');
  });

  it('creates exactly one owner when two setups race, and answers 409 forever after', async () => {
    const body = (email: string) => ({ setupToken: SETUP_TOKEN, email, name: 'Owner', password: PASSWORD, organizationName: 'Acme' });
    const [a, b] = await Promise.all([
      request(t.server).post('/api/v1/auth/setup').send(body('one@example.com')),
      request(t.server).post('/api/v1/auth/setup').send(body('two@example.com')),
    ]);
    expect([a.status, b.status].sort()).toEqual([201, 409]);
    const winner = a.status === 201 ? a : b;
    const again = await request(t.server).post('/api/v1/auth/setup').send(body('three@example.com')).expect(409);
    expect(again.body.code).toBe('setup-completed');
    const orgs = await request(t.server).get('/api/v1/organizations').set('Authorization', `Bearer ${winner.body.accessToken}`).expect(200);
    expect(orgs.body).toHaveLength(1);
    expect(orgs.body[0]).toMatchObject({ name: 'Acme', slug: 'acme', role: 'owner' });
  });

  it('signs in with the password, rejects a wrong one, and sets httpOnly cookies', async () => {
    const bad = await request(t.server).post('/api/v1/auth/login').send({ email: 'one@example.com', password: 'nope nope nope' });
    expect(bad.status).toBe(401);
    expect(bad.body.code).toBe('invalid-credentials');
    const owner = (await request(t.server).get('/api/v1/organizations').set('Authorization', 'Bearer x')).status;
    expect(owner).toBe(401);
  });

  it('rotates refresh tokens and revokes the family when an old one is reused', async () => {
    const email = (await findOwnerEmail(t))!;
    const s = await login(t, email);
    const r1 = await request(t.server).post('/api/v1/auth/refresh').send({ refreshToken: s.refreshToken }).expect(200);
    expect(r1.body.refreshToken).not.toBe(s.refreshToken);
    // Reusing the first token after the grace window (moved back in time here): refused, and the whole session dies
    // (the newer token too).
    const { Client } = await import('pg');
    const c = new Client({ connectionString: t.databaseUrl });
    await c.connect();
    await c.query(`UPDATE refresh_tokens SET used_at = used_at - interval '1 minute' WHERE used_at IS NOT NULL`);
    await c.end();
    const reuse = await request(t.server).post('/api/v1/auth/refresh').send({ refreshToken: s.refreshToken }).expect(401);
    expect(reuse.body.code).toBe('refresh-token-reused');
    await request(t.server).post('/api/v1/auth/refresh').send({ refreshToken: r1.body.refreshToken }).expect(401);
    await request(t.server).get('/api/v1/me').set('Authorization', `Bearer ${r1.body.accessToken}`).expect(401);
  });

  it('changing the password revokes every other session', async () => {
    const email = (await findOwnerEmail(t))!;
    const a = await login(t, email);
    const b = await login(t, email);
    await request(t.server).post('/api/v1/me/password').set(a.auth).send({ currentPassword: PASSWORD, newPassword: 'another good password' }).expect(204);
    await request(t.server).get('/api/v1/me').set(b.auth).expect(401);
    await request(t.server).get('/api/v1/me').set(a.auth).expect(200);
    await request(t.server).post('/api/v1/auth/login').send({ email, password: PASSWORD }).expect(401);
    await request(t.server).post('/api/v1/me/password').set(a.auth).send({ currentPassword: 'another good password', newPassword: PASSWORD }).expect(204);
  });

  it('logs out, lists and revokes sessions', async () => {
    const email = (await findOwnerEmail(t))!;
    const a = await login(t, email);
    const b = await login(t, email);
    const list = await request(t.server).get('/api/v1/me/sessions').set(a.auth).expect(200);
    expect(list.body.find((x: { current: boolean }) => x.current)).toBeTruthy();
    await request(t.server).delete(`/api/v1/me/sessions/${b.refreshToken ? (await request(t.server).get('/api/v1/me/sessions').set(b.auth)).body.find((x: { current: boolean }) => x.current).id : ''}`).set(a.auth).expect(204);
    await request(t.server).get('/api/v1/me').set(b.auth).expect(401);
    await request(t.server).post('/api/v1/auth/logout').set(a.auth).expect(204);
    await request(t.server).get('/api/v1/me').set(a.auth).expect(401);
  });

  it('never accepts a token from the query string', async () => {
    const email = (await findOwnerEmail(t))!;
    const a = await login(t, email);
    await request(t.server).get(`/api/v1/me?access_token=${a.accessToken}`).expect(401);
    await request(t.server).get(`/api/v1/me?token=${a.accessToken}&api_key=${a.accessToken}`).expect(401);
  });

  it('requires the CSRF header for cookie-authenticated mutations', async () => {
    const email = (await findOwnerEmail(t))!;
    const agent = request.agent(t.server);
    const res = await agent.post('/api/v1/auth/login').send({ email, password: PASSWORD }).expect(200);
    const cookies = ([] as string[]).concat(res.headers['set-cookie'] as unknown as string[]);
    expect(cookies.find((c) => c.startsWith('wharf_access='))).toMatch(/HttpOnly/);
    expect(cookies.find((c) => c.startsWith('wharf_access='))).toMatch(/SameSite=Strict/);
    const csrf = /wharf_csrf=([^;]+)/.exec(cookies.join(';'))![1];
    await agent.get('/api/v1/me').expect(200);
    await agent.post('/api/v1/organizations').send({ name: 'NoCsrf' }).expect(403);
    await agent.post('/api/v1/organizations').set('X-CSRF-Token', csrf).send({ name: 'WithCsrf' }).expect(201);
  });

  it('rate-limits failed logins per account', async () => {
    const email = (await findOwnerEmail(t))!;
    for (let i = 0; i < 5; i++) await request(t.server).post('/api/v1/auth/login').send({ email, password: 'wrong password!!' }).expect(401);
    const limited = await request(t.server).post('/api/v1/auth/login').send({ email, password: PASSWORD }).expect(429);
    expect(limited.body.code).toBe('rate-limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  });
});

async function findOwnerEmail(t: TestApp): Promise<string | null> {
  const { Client } = await import('pg');
  const c = new Client({ connectionString: t.databaseUrl });
  await c.connect();
  const r = await c.query('SELECT email FROM users ORDER BY created_at LIMIT 1');
  await c.end();
  return r.rows[0]?.email ?? null;
}
