import request from 'supertest';
import { startTestApp, TestApp } from '../../support/app';
import { addMember, PASSWORD, setupOwner } from '../../support/api';
import { sql } from '../../support/sql';

/**
 * Failed sign-ins are limited per client address as well as per account: one address spraying passwords over many
 * accounts is stopped even though no single account reaches its own limit. The API trusts X-Forwarded-For from a
 * loopback proxy only (`trust proxy: loopback`), and the tests connect over loopback, so each test client picks its
 * address with that header, as a reverse proxy in front of Wharf would.
 */
describe('failed sign-ins are rate-limited per client address', () => {
  const PER_IP = 6;
  let t: TestApp;
  beforeAll(async () => {
    // The per-account limit is far above what one address may try, so only the per-address limit can answer 429.
    t = await startTestApp({ WHARF_LOGIN_LIMIT_PER_IP: String(PER_IP), WHARF_LOGIN_LIMIT_PER_ACCOUNT: '1000' });
    const owner = await setupOwner(t);
    await addMember(t, owner, owner.organizationId, 'victim@example.com', 'developer');
  });
  afterAll(async () => {
    await t?.close();
  });

  const attempt = (ip: string, email: string, password: string) => request(t.server).post('/api/v1/auth/login').set('X-Forwarded-For', ip).send({ email, password });

  it(`refuses an address after ${PER_IP} failures over different accounts, even with the right password, while other addresses sign in`, async () => {
    const sprayer = '203.0.113.10';
    for (let i = 0; i < PER_IP; i++) {
      // A different (partly unknown) account each time: no account gets near its own limit.
      const res = await attempt(sprayer, i % 2 ? `nobody-${i}@example.com` : 'owner@example.com', `wrong password ${i}!`);
      expect({ i, status: res.status, code: res.body.code }).toEqual({ i, status: 401, code: 'invalid-credentials' });
    }
    const blocked = await attempt(sprayer, 'victim@example.com', PASSWORD);
    expect(blocked.status).toBe(429);
    expect(blocked.body.code).toBe('rate-limited');
    expect(blocked.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(blocked.body.accessToken).toBeUndefined();

    // Another address is not affected, for the same accounts.
    const other = await attempt('198.51.100.20', 'victim@example.com', PASSWORD);
    expect(other.status).toBe(200);
    expect(typeof other.body.accessToken).toBe('string');
    await attempt('198.51.100.20', 'owner@example.com', PASSWORD).expect(200);

    // The session records the address the proxy reported, not the proxy's own.
    const [session] = await sql<{ ip: string }>(t.databaseUrl, `SELECT r.ip FROM refresh_tokens r JOIN users u ON u.id = r.user_id WHERE u.email = 'victim@example.com' ORDER BY r.created_at DESC LIMIT 1`);
    expect(session?.ip).toBe('198.51.100.20');
  });

  it('a successful sign-in does not clear the address counter, and the limit holds for unknown accounts too', async () => {
    const ip = '203.0.113.30';
    for (let i = 0; i < PER_IP - 1; i++) await attempt(ip, `ghost-${i}@example.com`, 'wrong password!!').expect(401);
    // One success from the address (the account's own counter resets; the address's must not).
    await attempt(ip, 'victim@example.com', PASSWORD).expect(200);
    await attempt(ip, 'ghost-last@example.com', 'wrong password!!').expect(401);
    const res = await attempt(ip, 'ghost-next@example.com', 'wrong password!!');
    expect(res.status).toBe(429);
    expect(res.body.code).toBe('rate-limited');
  });
});
