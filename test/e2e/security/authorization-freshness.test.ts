/**
 * Authentication shares work between requests (a verified access token is remembered until it expires; the ability
 * built from a set of grants is reused for the same grants). None of it may outlive a change: with the very same access
 * token, a changed role, changed permissions of a custom role, a member's removal and an ended session each take
 * effect on the next request.
 */
import request from 'supertest';
import { startTestApp, TestApp } from '../../support/app';
import { addMember, Session, setupOwner } from '../../support/api';

describe('authorization changes take effect on the next request', () => {
  let t: TestApp;
  let owner: Session & { organizationId: string };
  let org: string;
  let seq = 0;

  const api = () => request(t.server);
  const createProject = (s: Session) => api().post(`/api/v1/organizations/${org}/projects`).set(s.auth).send({ name: `freshness ${++seq}` });
  const listProjects = (s: Session) => api().get(`/api/v1/organizations/${org}/projects`).set(s.auth);

  beforeAll(async () => {
    t = await startTestApp();
    owner = await setupOwner(t);
    org = owner.organizationId;
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  it('a role lowered from developer to viewer, and raised again', async () => {
    const member = await addMember(t, owner, org, 'role-change@example.com', 'developer');
    await listProjects(member).expect(200);
    await createProject(member).expect(201);

    await api().patch(`/api/v1/organizations/${org}/members/${member.userId}`).set(owner.auth).send({ role: 'viewer' }).expect(200);
    expect((await createProject(member)).status).toBe(403);
    await listProjects(member).expect(200);

    await api().patch(`/api/v1/organizations/${org}/members/${member.userId}`).set(owner.auth).send({ role: 'developer' }).expect(200);
    await createProject(member).expect(201);
  });

  it("a custom role's permissions, changed while its member keeps the same token", async () => {
    const perms = ['organization:read', 'project:read'];
    const role = await api().post(`/api/v1/organizations/${org}/roles`).set(owner.auth).send({ name: 'Project maker', permissions: perms }).expect(201);
    const member = await addMember(t, owner, org, 'custom-role@example.com', 'custom', { customRoleId: role.body.id });
    expect((await createProject(member)).status).toBe(403);

    const granted = await api().patch(`/api/v1/organizations/${org}/roles/${role.body.id}`).set(owner.auth).set('If-Match', `"${role.body.version}"`).send({ permissions: [...perms, 'project:create'] }).expect(200);
    await createProject(member).expect(201);

    await api().patch(`/api/v1/organizations/${org}/roles/${role.body.id}`).set(owner.auth).set('If-Match', `"${granted.body.version}"`).send({ permissions: perms }).expect(200);
    expect((await createProject(member)).status).toBe(403);
  });

  it('a removed member sees the organization as unknown', async () => {
    const member = await addMember(t, owner, org, 'removed@example.com', 'developer');
    await listProjects(member).expect(200);
    await api().delete(`/api/v1/organizations/${org}/members/${member.userId}`).set(owner.auth).expect(204);
    expect((await listProjects(member)).status).toBe(404);
    expect((await createProject(member)).status).toBe(404);
  });

  it('an ended session stops its access token although the token was verified before', async () => {
    const member = await addMember(t, owner, org, 'signed-out@example.com', 'developer');
    await listProjects(member).expect(200);
    await api().post('/api/v1/auth/logout').set(member.auth).expect(204);
    expect((await listProjects(member)).status).toBe(401);
    expect((await api().get('/api/v1/me').set(member.auth)).status).toBe(401);
  });

  it('members with the same grants share nothing that one of them could change', async () => {
    const a = await addMember(t, owner, org, 'same-a@example.com', 'viewer');
    const b = await addMember(t, owner, org, 'same-b@example.com', 'viewer');
    await listProjects(a).expect(200);
    await listProjects(b).expect(200);
    await api().patch(`/api/v1/organizations/${org}/members/${a.userId}`).set(owner.auth).send({ role: 'developer' }).expect(200);
    await createProject(a).expect(201);
    expect((await createProject(b)).status).toBe(403);
  });
});
