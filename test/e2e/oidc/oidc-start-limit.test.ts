import request from 'supertest';
import { randomUUID } from 'node:crypto';
import { startTestApp, TestApp } from '../../support/app';

describe('OIDC start is rate-limited per client address', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('refuses the 31st start within a minute with a redirect to the sign-in page', async () => {
    const id = randomUUID();
    for (let i = 0; i < 30; i++) {
      const r = await request(t.server).get(`/api/v1/auth/oidc/${id}/start`).expect(302);
      expect(r.headers.location).not.toContain('oidc-rate-limited');
    }
    const limited = await request(t.server).get(`/api/v1/auth/oidc/${id}/start`).expect(302);
    expect(limited.headers.location).toBe('/login?error=oidc-rate-limited');
  });
});
