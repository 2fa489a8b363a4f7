/**
 * Privilege escalation through invitations, roles, memberships, API keys and setup: nobody grants more than they
 * hold, the owner cannot be removed by an admin, the last owner stays, invitation tokens are single-use, bound to
 * their email and expire, and setup cannot be replayed.
 */
import request from 'supertest';
import type { Client } from 'pg';
import { startTestApp, TestApp } from '../../support/app';
import { addMember, PASSWORD, Session, setupOwner, SETUP_TOKEN } from '../../support/api';
import { openDb, problemViolation } from '../../support/route-matrix';

describe('privilege escalation', () => {
  let t: TestApp;
  let db: Client;
  let owner: Session & { organizationId: string };
  let org: string;
  let admin: Session;
  let developer: Session;

  const api = () => request(t.server);
  const roleOf = async (userId: string): Promise<string | null> => (await db.query(`SELECT role FROM memberships WHERE organization_id = $1 AND user_id = $2`, [org, userId])).rows[0]?.role ?? null;
  const invitationsTo = async (email: string): Promise<number> => (await db.query(`SELECT count(*)::int AS n FROM invitations WHERE organization_id = $1 AND email = $2`, [org, email])).rows[0].n;
  const rolesNamed = async (name: string): Promise<number> => (await db.query(`SELECT count(*)::int AS n FROM roles WHERE organization_id = $1 AND name = $2`, [org, name])).rows[0].n;
  function expectProblem(res: request.Response, status: number, code?: string): void {
    expect({ status: res.status, code: code ? res.body.code : undefined }).toEqual({ status, code });
    expect(problemViolation({ status: res.status, body: res.body, text: res.text, headers: res.headers as Record<string, string> })).toBeNull();
  }
  async function customMember(email: string, name: string, permissions: string[]): Promise<Session> {
    const role = await api().post(`/api/v1/organizations/${org}/roles`).set(owner.auth).send({ name, permissions }).expect(201);
    return addMember(t, owner, org, email, 'custom', { customRoleId: role.body.id });
  }

  beforeAll(async () => {
    t = await startTestApp();
    db = await openDb(t);
    owner = await setupOwner(t);
    org = owner.organizationId;
    admin = await addMember(t, owner, org, 'admin@example.com', 'admin');
    developer = await addMember(t, owner, org, 'developer@example.com', 'developer');
  }, 60_000);
  afterAll(async () => {
    await db?.end();
    await t?.close();
  });

  describe('invitations', () => {
    it('a developer cannot invite anyone, least of all an admin or an owner', async () => {
      for (const role of ['owner', 'admin', 'developer', 'viewer']) {
        const res = await api().post(`/api/v1/organizations/${org}/invitations`).set(developer.auth).send({ email: `dev-invites-${role}@example.com`, role });
        expectProblem(res, 403);
        expect(await invitationsTo(`dev-invites-${role}@example.com`)).toBe(0);
      }
    });

    it('a member who may invite can only hand out roles within their own permissions', async () => {
      const inviterPerms = ['organization:read', 'member:read', 'invitation:read', 'invitation:create', 'role:read'];
      const inviter = await customMember('inviter@example.com', 'Inviter', inviterPerms);
      for (const role of ['owner', 'admin', 'developer', 'viewer']) {
        const res = await api().post(`/api/v1/organizations/${org}/invitations`).set(inviter.auth).send({ email: `inv-${role}@example.com`, role });
        expectProblem(res, 403, 'role-escalation');
        expect(await invitationsTo(`inv-${role}@example.com`)).toBe(0);
      }
      // A custom role with more permissions than the inviter holds.
      const bigger = await api().post(`/api/v1/organizations/${org}/roles`).set(owner.auth).send({ name: 'Bigger', permissions: [...inviterPerms, 'project:create'] }).expect(201);
      expectProblem(await api().post(`/api/v1/organizations/${org}/invitations`).set(inviter.auth).send({ email: 'inv-bigger@example.com', role: 'custom', customRoleId: bigger.body.id }), 403, 'role-escalation');
      // Positive control: their own role is within their permissions.
      const ownRole = (await db.query(`SELECT custom_role_id FROM memberships WHERE user_id = $1`, [inviter.userId])).rows[0].custom_role_id;
      await api().post(`/api/v1/organizations/${org}/invitations`).set(inviter.auth).send({ email: 'inv-same@example.com', role: 'custom', customRoleId: ownRole }).expect(201);
    });

    it('an admin cannot invite an owner', async () => {
      expectProblem(await api().post(`/api/v1/organizations/${org}/invitations`).set(admin.auth).send({ email: 'admin-invites-owner@example.com', role: 'owner' }), 403, 'role-escalation');
      expect(await invitationsTo('admin-invites-owner@example.com')).toBe(0);
      await api().post(`/api/v1/organizations/${org}/invitations`).set(admin.auth).send({ email: 'admin-invites-admin@example.com', role: 'admin' }).expect(201);
    });

    it('tokens are single-use', async () => {
      const inv = await api().post(`/api/v1/organizations/${org}/invitations`).set(owner.auth).send({ email: 'once@example.com', role: 'viewer' }).expect(201);
      await api().post('/api/v1/invitations/accept').send({ token: inv.body.token, name: 'Once', password: PASSWORD }).expect(200);
      const again = await api().post('/api/v1/invitations/accept').send({ token: inv.body.token, name: 'Twice', password: PASSWORD });
      expectProblem(again, 404);
      const signedIn = await api().post('/api/v1/auth/login').send({ email: 'once@example.com', password: PASSWORD }).expect(200);
      expectProblem(await api().post('/api/v1/invitations/accept').set('Authorization', `Bearer ${signedIn.body.accessToken}`).send({ token: inv.body.token }), 404);
      expect((await db.query(`SELECT count(*)::int AS n FROM memberships m JOIN users u ON u.id = m.user_id WHERE u.email = 'once@example.com'`)).rows[0].n).toBe(1);
    });

    it('tokens are bound to the invited email: another signed-in user gets 403 and the invitation stays pending', async () => {
      const inv = await api().post(`/api/v1/organizations/${org}/invitations`).set(owner.auth).send({ email: 'carol@example.com', role: 'admin' }).expect(201);
      const res = await api().post('/api/v1/invitations/accept').set(developer.auth).send({ token: inv.body.token });
      expectProblem(res, 403, 'invitation-email-mismatch');
      expect(await roleOf(developer.userId)).toBe('developer');
      expect((await db.query(`SELECT accepted_at FROM invitations WHERE id = $1`, [inv.body.id])).rows[0].accepted_at).toBeNull();
      // Without a session, the token cannot take over the account of an existing user either.
      const inv2 = await api().post(`/api/v1/organizations/${org}/invitations`).set(owner.auth).send({ email: 'outsider@example.com', role: 'viewer' }).expect(201);
      await db.query(`INSERT INTO users (id, email, name, password_hash) VALUES (gen_random_uuid(), 'outsider@example.com', 'Outsider', NULL)`);
      expectProblem(await api().post('/api/v1/invitations/accept').send({ token: inv2.body.token, name: 'Mallory', password: PASSWORD }), 401);
      expect((await db.query(`SELECT name FROM users WHERE email = 'outsider@example.com'`)).rows[0].name).toBe('Outsider');
    });

    it('expired and revoked tokens are 404 and create nothing', async () => {
      const inv = await api().post(`/api/v1/organizations/${org}/invitations`).set(owner.auth).send({ email: 'late@example.com', role: 'viewer' }).expect(201);
      await db.query(`UPDATE invitations SET expires_at = now() - interval '1 minute' WHERE id = $1`, [inv.body.id]);
      expectProblem(await api().post('/api/v1/invitations/accept').send({ token: inv.body.token, name: 'Late', password: PASSWORD }), 404);
      const revoked = await api().post(`/api/v1/organizations/${org}/invitations`).set(owner.auth).send({ email: 'revoked@example.com', role: 'viewer' }).expect(201);
      await api().delete(`/api/v1/organizations/${org}/invitations/${revoked.body.id}`).set(owner.auth).expect(204);
      expectProblem(await api().post('/api/v1/invitations/accept').send({ token: revoked.body.token, name: 'Rev', password: PASSWORD }), 404);
      expect((await db.query(`SELECT count(*)::int AS n FROM users WHERE email IN ('late@example.com', 'revoked@example.com')`)).rows[0].n).toBe(0);
    });
  });

  describe('roles and memberships', () => {
    it('a developer cannot create, widen or delete a custom role', async () => {
      expectProblem(await api().post(`/api/v1/organizations/${org}/roles`).set(developer.auth).send({ name: 'DevMade', permissions: ['project:read'] }), 403);
      expectProblem(await api().post(`/api/v1/organizations/${org}/roles`).set(developer.auth).send({ name: 'DevAdmin', permissions: ['member:update', 'role:create'] }), 403);
      expect(await rolesNamed('DevMade')).toBe(0);
      expect(await rolesNamed('DevAdmin')).toBe(0);
      const role = await api().post(`/api/v1/organizations/${org}/roles`).set(owner.auth).send({ name: 'Readers', permissions: ['project:read'] }).expect(201);
      expectProblem(await api().patch(`/api/v1/organizations/${org}/roles/${role.body.id}`).set(developer.auth).send({ permissions: ['project:read', 'member:update'] }), 403);
      expectProblem(await api().delete(`/api/v1/organizations/${org}/roles/${role.body.id}`).set(developer.auth), 403);
      expect((await db.query(`SELECT permissions, version FROM roles WHERE id = $1`, [role.body.id])).rows[0]).toEqual({ permissions: ['project:read'], version: 1 });
    });

    it('a role manager cannot create or edit a role with permissions they lack', async () => {
      const manager = await customMember('role-manager@example.com', 'RoleManager', ['organization:read', 'role:read', 'role:create', 'role:update', 'project:read']);
      expectProblem(await api().post(`/api/v1/organizations/${org}/roles`).set(manager.auth).send({ name: 'Wider', permissions: ['project:read', 'project:delete'] }), 403, 'role-escalation');
      expectProblem(await api().post(`/api/v1/organizations/${org}/roles`).set(manager.auth).send({ name: 'OrgKiller', permissions: ['organization:delete'] }), 403, 'role-escalation');
      expect(await rolesNamed('Wider')).toBe(0);
      const ok = await api().post(`/api/v1/organizations/${org}/roles`).set(manager.auth).send({ name: 'Narrow', permissions: ['project:read'] }).expect(201);
      expectProblem(await api().patch(`/api/v1/organizations/${org}/roles/${ok.body.id}`).set(manager.auth).send({ permissions: ['project:read', 'member:delete'] }), 403, 'role-escalation');
      // Editing their own role to widen it is the same escalation.
      const own = (await db.query(`SELECT custom_role_id FROM memberships WHERE user_id = $1`, [manager.userId])).rows[0].custom_role_id;
      expectProblem(await api().patch(`/api/v1/organizations/${org}/roles/${own}`).set(manager.auth).send({ permissions: ['organization:read', 'role:read', 'role:create', 'role:update', 'project:read', 'member:update'] }), 403, 'role-escalation');
      expect((await db.query(`SELECT permissions FROM roles WHERE id = $1`, [own])).rows[0].permissions).not.toContain('member:update');
    });

    it('a custom role cannot be renamed to a built-in or an existing role name (409, not 500)', async () => {
      const a = await api().post(`/api/v1/organizations/${org}/roles`).set(owner.auth).send({ name: 'Alpha', permissions: ['project:read'] }).expect(201);
      await api().post(`/api/v1/organizations/${org}/roles`).set(owner.auth).send({ name: 'Beta', permissions: ['project:read'] }).expect(201);
      for (const name of ['Owner', 'admin', 'custom', 'beta']) {
        expectProblem(await api().patch(`/api/v1/organizations/${org}/roles/${a.body.id}`).set(owner.auth).send({ name }), 409, 'role-name-taken');
      }
      expect((await db.query(`SELECT name FROM roles WHERE id = $1`, [a.body.id])).rows[0].name).toBe('Alpha');
      await api().patch(`/api/v1/organizations/${org}/roles/${a.body.id}`).set(owner.auth).send({ name: 'ALPHA' }).expect(200);
    });

    it('an admin cannot create a role with organization:delete (owner-only)', async () => {
      expectProblem(await api().post(`/api/v1/organizations/${org}/roles`).set(admin.auth).send({ name: 'AdminPlus', permissions: ['organization:delete'] }), 403, 'role-escalation');
      expect(await rolesNamed('AdminPlus')).toBe(0);
    });

    it('a developer cannot promote themselves or anyone else', async () => {
      for (const role of ['owner', 'admin']) {
        expectProblem(await api().patch(`/api/v1/organizations/${org}/members/${developer.userId}`).set(developer.auth).send({ role }), 403);
      }
      const custom = await api().post(`/api/v1/organizations/${org}/roles`).set(owner.auth).send({ name: 'AllMembers', permissions: ['member:read', 'member:update', 'member:delete', 'organization:read'] }).expect(201);
      expectProblem(await api().patch(`/api/v1/organizations/${org}/members/${developer.userId}`).set(developer.auth).send({ role: 'custom', customRoleId: custom.body.id }), 403);
      expect(await roleOf(developer.userId)).toBe('developer');
    });

    it('an admin cannot make an owner, nor demote or remove the owner', async () => {
      expectProblem(await api().patch(`/api/v1/organizations/${org}/members/${developer.userId}`).set(admin.auth).send({ role: 'owner' }), 403, 'role-escalation');
      expectProblem(await api().patch(`/api/v1/organizations/${org}/members/${admin.userId}`).set(admin.auth).send({ role: 'owner' }), 403, 'role-escalation');
      expectProblem(await api().patch(`/api/v1/organizations/${org}/members/${owner.userId}`).set(admin.auth).send({ role: 'viewer' }), 403, 'role-escalation');
      expectProblem(await api().delete(`/api/v1/organizations/${org}/members/${owner.userId}`).set(admin.auth), 403, 'role-escalation');
      expectProblem(await api().post(`/api/v1/organizations/${org}/api-keys`).set(admin.auth).send({ name: 'owner-key', role: 'owner', scopes: ['admin'] }), 403, 'role-escalation');
      expect(await roleOf(owner.userId)).toBe('owner');
      expect(await roleOf(admin.userId)).toBe('admin');
      expect(await roleOf(developer.userId)).toBe('developer');
      expect((await db.query(`SELECT count(*)::int AS n FROM api_keys WHERE name = 'owner-key'`)).rows[0].n).toBe(0);
    });

    it('the last owner can neither leave nor be demoted (409), and can once another owner exists', async () => {
      expectProblem(await api().delete(`/api/v1/organizations/${org}/members/${owner.userId}`).set(owner.auth), 409, 'last-owner');
      expectProblem(await api().patch(`/api/v1/organizations/${org}/members/${owner.userId}`).set(owner.auth).send({ role: 'admin' }), 409, 'last-owner');
      expect(await roleOf(owner.userId)).toBe('owner');
      // Two owners demoting each other at the same moment: one wins, the other is the last owner (409).
      const second = await addMember(t, owner, org, 'second-owner@example.com', 'owner');
      const [a, b] = await Promise.all([
        api().patch(`/api/v1/organizations/${org}/members/${second.userId}`).set(owner.auth).send({ role: 'admin' }),
        api().patch(`/api/v1/organizations/${org}/members/${owner.userId}`).set(second.auth).send({ role: 'admin' }),
      ]);
      expect([a.status, b.status].sort()).toEqual([200, 409]);
      expect((await db.query(`SELECT count(*)::int AS n FROM memberships WHERE organization_id = $1 AND role = 'owner'`, [org])).rows[0].n).toBe(1);
    });
  });

  describe('API keys and setup', () => {
    it('a read-scoped key cannot mint keys, invite, or change roles', async () => {
      const key = await api().post('/api/v1/me/api-keys').set(owner.auth).send({ name: 'ro', scopes: ['read'] }).expect(201);
      const k = { 'X-API-Key': key.body.key };
      expectProblem(await api().post('/api/v1/me/api-keys').set(k).send({ name: 'child', scopes: ['admin'] }), 403);
      expectProblem(await api().post(`/api/v1/organizations/${org}/api-keys`).set(k).send({ name: 'sa', role: 'viewer', scopes: ['read'] }), 403);
      expectProblem(await api().post(`/api/v1/organizations/${org}/invitations`).set(k).send({ email: 'by-key@example.com', role: 'viewer' }), 403);
      expectProblem(await api().patch(`/api/v1/organizations/${org}/members/${developer.userId}`).set(k).send({ role: 'viewer' }), 403);
      expect(await roleOf(developer.userId)).toBe('developer');
      expect((await db.query(`SELECT count(*)::int AS n FROM api_keys WHERE name IN ('child', 'sa')`)).rows[0].n).toBe(0);
    });

    it("an admin-scoped key of a developer has no more than the developer's permissions", async () => {
      const key = await api().post('/api/v1/me/api-keys').set(developer.auth).send({ name: 'dev-admin', scopes: ['admin'] }).expect(201);
      const k = { 'X-API-Key': key.body.key };
      expectProblem(await api().patch(`/api/v1/organizations/${org}/members/${developer.userId}`).set(k).send({ role: 'admin' }), 403);
      expectProblem(await api().post(`/api/v1/organizations/${org}/invitations`).set(k).send({ email: 'dev-key@example.com', role: 'viewer' }), 403);
      expect(await roleOf(developer.userId)).toBe('developer');
    });

    it('an admin cannot configure an OIDC provider that hands out the owner role (when OIDC providers exist)', async () => {
      const probe = await api().get(`/api/v1/organizations/${org}/oidc-providers`).set(admin.auth);
      if (probe.status === 404) return;
      for (const extra of [{ defaultRole: 'owner' }, { roleClaim: 'groups', roleMapping: { wheel: 'owner' } }]) {
        const res = await api().post(`/api/v1/organizations/${org}/oidc-providers`).set(admin.auth).send({ name: `esc-${Object.keys(extra)[0]}`, issuerUrl: 'https://issuer.example.com', clientId: 'c', clientSecret: 's', ...extra });
        expectProblem(res, 403, 'role-escalation');
      }
      expect((await db.query(`SELECT count(*)::int AS n FROM oidc_providers WHERE name LIKE 'esc-%'`)).rows[0].n).toBe(0);
    });

    it('setup cannot be replayed once the first owner exists (409), even with the right token', async () => {
      const users = (await db.query(`SELECT count(*)::int AS n FROM users`)).rows[0].n;
      const res = await api().post('/api/v1/auth/setup').send({ setupToken: SETUP_TOKEN, email: 'takeover@example.com', name: 'Mallory', password: PASSWORD, organizationName: 'Pwned' });
      expectProblem(res, 409, 'setup-completed');
      expect((await db.query(`SELECT count(*)::int AS n FROM users`)).rows[0].n).toBe(users);
      expect((await db.query(`SELECT count(*)::int AS n FROM organizations WHERE name = 'Pwned'`)).rows[0].n).toBe(0);
    });
  });
});
