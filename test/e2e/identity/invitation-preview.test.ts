import request from 'supertest';
import { Client } from 'pg';
import { startTestApp, TestApp } from '../../support/app';
import { PASSWORD, Session, setupOwner } from '../../support/api';

/**
 * GET /invitations/preview (real PostgreSQL): the holder of an invitation's token learns the organization's name, the
 * invited email and the role (a custom role by its name) — and nothing else; without the token, or once the invitation
 * is used, revoked or expired, there is nothing to learn. The token travels in a header, so it never lands in a URL.
 */
describe('invitation preview', () => {
  let t: TestApp;
  let db: Client;
  let owner: Session & { organizationId: string };
  const api = () => request(t.server);
  const preview = (token?: string) => (token === undefined ? api().get('/api/v1/invitations/preview') : api().get('/api/v1/invitations/preview').set('X-Invitation-Token', token));
  const invite = async (body: Record<string, unknown>) =>
    (await api().post(`/api/v1/organizations/${owner.organizationId}/invitations`).set(owner.auth).send(body).expect(201)).body as { id: string; token: string };

  beforeAll(async () => {
    t = await startTestApp();
    db = new Client({ connectionString: t.databaseUrl });
    await db.connect();
    owner = await setupOwner(t, 'owner@example.com', 'Acme Shipping');
  });
  afterAll(async () => {
    await db?.end();
    await t?.close();
  });

  it('names the organization, the invited email and the role, and nothing more', async () => {
    const inv = await invite({ email: 'Dana@Example.com', role: 'developer' });
    const res = await preview(inv.token).expect(200);
    expect(Object.keys(res.body).sort()).toEqual(['email', 'expiresAt', 'organizationName', 'role']);
    expect(res.body).toMatchObject({ organizationName: 'Acme Shipping', email: 'dana@example.com', role: 'developer' });
    expect(Date.parse(res.body.expiresAt)).toBeGreaterThan(Date.now());
  });

  it('names a custom role by its name', async () => {
    const role = await api().post(`/api/v1/organizations/${owner.organizationId}/roles`).set(owner.auth).send({ name: 'Release manager', permissions: ['application:read'] }).expect(201);
    const inv = await invite({ email: 'rel@example.com', role: 'custom', customRoleId: role.body.id });
    await expect(preview(inv.token).expect(200).then((r) => r.body.role)).resolves.toBe('Release manager');
  });

  it('without a token is a 400 naming the header; an unknown, used, revoked or expired one is a plain 404', async () => {
    const missing = await preview().expect(400);
    expect(missing.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(JSON.stringify(missing.body)).toContain('x-invitation-token');
    await preview('short').expect(400);
    await preview('an-unknown-invitation-token-0123456789').expect(404);

    const used = await invite({ email: 'used@example.com', role: 'viewer' });
    await api().post('/api/v1/invitations/accept').send({ token: used.token, name: 'Used', password: PASSWORD }).expect(200);
    await preview(used.token).expect(404);

    const revoked = await invite({ email: 'revoked@example.com', role: 'viewer' });
    await api().delete(`/api/v1/organizations/${owner.organizationId}/invitations/${revoked.id}`).set(owner.auth).expect(204);
    await preview(revoked.token).expect(404);

    const expired = await invite({ email: 'expired@example.com', role: 'viewer' });
    await preview(expired.token).expect(200);
    await db.query(`UPDATE invitations SET expires_at = now() - interval '1 second' WHERE id = $1`, [expired.id]);
    const gone = await preview(expired.token).expect(404);
    // The same answer as for a token that never existed: nothing tells the two apart.
    const unknown = await preview('an-unknown-invitation-token-0123456789').expect(404);
    expect({ ...gone.body, requestId: null, instance: null }).toEqual({ ...unknown.body, requestId: null, instance: null });
  });
});
