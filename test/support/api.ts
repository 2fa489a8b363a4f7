import request from 'supertest';
import type { TestApp } from './app';

export const SETUP_TOKEN = 'test-setup-token-0123456789';
export const PASSWORD = 'correct horse battery';

export interface Session {
  accessToken: string;
  refreshToken: string;
  userId: string;
  email: string;
  auth: Record<string, string>;
}

export async function setupOwner(t: TestApp, email = 'owner@example.com', organizationName = 'Acme'): Promise<Session & { organizationId: string }> {
  const res = await request(t.server)
    .post('/api/v1/auth/setup')
    .send({ setupToken: SETUP_TOKEN, email, name: 'Owner', password: PASSWORD, organizationName })
    .expect(201);
  return { ...res.body, email, auth: { Authorization: `Bearer ${res.body.accessToken}` } };
}

export async function login(t: TestApp, email: string, password = PASSWORD, extra: Record<string, string> = {}): Promise<Session> {
  const res = await request(t.server).post('/api/v1/auth/login').send({ email, password, ...extra }).expect(200);
  const me = await request(t.server).get('/api/v1/me').set('Authorization', `Bearer ${res.body.accessToken}`).expect(200);
  return { ...res.body, userId: me.body.user.id, email, auth: { Authorization: `Bearer ${res.body.accessToken}` } };
}

/** Invites `email` into the organization with `role` and accepts as a new account; returns the new user's session. */
export async function addMember(t: TestApp, inviter: Session, organizationId: string, email: string, role: string, extra: Record<string, unknown> = {}): Promise<Session> {
  const inv = await request(t.server).post(`/api/v1/organizations/${organizationId}/invitations`).set(inviter.auth).send({ email, role, ...extra }).expect(201);
  const acc = await request(t.server).post('/api/v1/invitations/accept').send({ token: inv.body.token, name: email.split('@')[0], password: PASSWORD }).expect(200);
  const tokens = acc.body.tokens;
  const me = await request(t.server).get('/api/v1/me').set('Authorization', `Bearer ${tokens.accessToken}`).expect(200);
  return { ...tokens, userId: me.body.user.id, email, auth: { Authorization: `Bearer ${tokens.accessToken}` } };
}

/** A second organization with its own owner (created by a user who signs up through an invitation to nothing). */
export async function createOrganization(t: TestApp, owner: Session, name: string): Promise<string> {
  const res = await request(t.server).post('/api/v1/organizations').set(owner.auth).send({ name }).expect(201);
  return res.body.id;
}
