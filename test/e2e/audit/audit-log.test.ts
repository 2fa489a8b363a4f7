import request from 'supertest';
import { startTestApp, TestApp } from '../../support/app';
import { addMember, createOrganization, login, Session, setupOwner } from '../../support/api';
import { AuditRetention } from '../../../libs/audit/src';
import { auditAll, auditPage, AuditItem, sql } from './helpers';

jest.setTimeout(60_000);

describe('audit log: entries, access, filters, pagination, verification, retention', () => {
  let t: TestApp;
  let owner: Session & { organizationId: string };
  let orgId: string;
  let viewer: Session;
  let developer: Session;

  beforeAll(async () => {
    t = await startTestApp();
    owner = await setupOwner(t, 'owner@example.com', 'Acme');
    orgId = owner.organizationId;
    viewer = await addMember(t, owner, orgId, 'viewer@example.com', 'viewer');
    developer = await addMember(t, owner, orgId, 'dev@example.com', 'developer');
  });
  afterAll(async () => {
    await t?.close();
  });

  const only = (items: AuditItem[], action: string) => items.filter((i) => i.action === action);

  it('records setup, organization updates, invitations and role creation with actor, request id and changes', async () => {
    const all = await auditAll(t, owner, orgId);
    const created = only(all, 'organization.created');
    expect(created).toHaveLength(1);
    expect(created[0]).toMatchObject({
      organizationId: orgId, outcome: 'succeeded', actor: { type: 'user', id: owner.userId, name: 'owner@example.com' },
      subject: { type: 'organization', id: orgId, name: 'Acme' }, changes: { name: 'Acme', slug: 'acme' },
    });
    expect(only(all, 'member.created')[0]).toMatchObject({ subject: { type: 'member', id: owner.userId }, changes: { role: 'owner' } });
    expect(all.map((i) => i.seq)).toEqual([...all.map((i) => i.seq)].sort((a, b) => b - a)); // newest first

    await request(t.server).patch(`/api/v1/organizations/${orgId}`).set(owner.auth).set('X-Request-Id', 'req-org-rename-1').set('User-Agent', 'audit-e2e/1.0').send({ name: 'Acme Corp' }).expect(200);
    const inv = await request(t.server).post(`/api/v1/organizations/${orgId}/invitations`).set(owner.auth).set('X-Request-Id', 'req-invite-1').send({ email: 'new@example.com', role: 'developer' }).expect(201);
    const role = await request(t.server).post(`/api/v1/organizations/${orgId}/roles`).set(owner.auth).set('X-Request-Id', 'req-role-1').send({ name: 'Auditor', permissions: ['audit-event:read', 'organization:read'] }).expect(201);

    const upd = (await auditPage(t, owner, orgId, { action: 'organization.updated' })).items;
    expect(upd[0]).toMatchObject({
      action: 'organization.updated', requestId: 'req-org-rename-1', userAgent: 'audit-e2e/1.0', outcome: 'succeeded',
      actor: { type: 'user', id: owner.userId, name: 'owner@example.com' }, subject: { type: 'organization', id: orgId, name: 'Acme Corp' },
      changes: { name: { from: 'Acme', to: 'Acme Corp' } },
    });
    expect(upd[0].ip).toMatch(/127\.0\.0\.1/);
    const invEntry = (await auditPage(t, owner, orgId, { action: 'invitation.created', subjectId: inv.body.id })).items;
    expect(invEntry).toHaveLength(1);
    expect(invEntry[0]).toMatchObject({ requestId: 'req-invite-1', subject: { type: 'invitation', id: inv.body.id }, changes: { email: 'new@example.com', role: 'developer' } });
    expect(JSON.stringify(invEntry[0])).not.toContain(inv.body.token);
    const roleEntry = (await auditPage(t, owner, orgId, { action: 'role.created' })).items;
    expect(roleEntry[0]).toMatchObject({ requestId: 'req-role-1', actor: { id: owner.userId }, subject: { type: 'role', id: role.body.id, name: 'Auditor' }, changes: { name: 'Auditor', permissions: ['audit-event:read', 'organization:read'] } });

    // One entry by id, and an unknown id is a 404.
    const one = await request(t.server).get(`/api/v1/organizations/${orgId}/audit-events/${roleEntry[0].id}`).set(owner.auth).expect(200);
    expect(one.body).toEqual(roleEntry[0]);
    await request(t.server).get(`/api/v1/organizations/${orgId}/audit-events/01890000-0000-7000-8000-000000000000`).set(owner.auth).expect(404);

    // A rolled-back change leaves no entry (the entry is written in the change's own transaction).
    await request(t.server).post(`/api/v1/organizations/${orgId}/roles`).set(owner.auth).send({ name: 'auditor', permissions: ['organization:read'] }).expect(409);
    expect((await auditPage(t, owner, orgId, { action: 'role.created' })).items).toHaveLength(1);
  });

  it('records a changed application or project variable with the value before and after the change', async () => {
    const project = await request(t.server).post(`/api/v1/organizations/${orgId}/projects`).set(owner.auth).send({ name: 'Vars' }).expect(201);
    const app = await request(t.server).post(`/api/v1/environments/${project.body.environments[0].id}/applications`).set(owner.auth).send({ name: 'web', spec: { image: 'busybox:latest' } }).expect(201);
    const vars = `/api/v1/applications/${app.body.id}/variables`;
    await request(t.server).put(vars).set(owner.auth).send({ variables: [{ key: 'BODY', value: 'v1' }] }).expect(200);
    await request(t.server).put(vars).set(owner.auth).send({ variables: [{ key: 'BODY', value: 'v2' }, { key: 'OTHER', value: 'x' }] }).expect(200);
    await request(t.server).put(vars).set(owner.auth).send({ variables: [{ key: 'BODY', value: 'v3', secret: true }] }).expect(200);
    const entries = (await auditAll(t, owner, orgId, { action: 'application.variables-changed', subjectId: app.body.id })).reverse();
    expect(entries.map((e) => e.changes)).toEqual([
      { BODY: { from: null, to: 'v1' } },
      { BODY: { from: 'v1', to: 'v2' }, OTHER: { from: null, to: 'x' } },
      { BODY: '[redacted]' },
    ]);
    // Project variables likewise.
    const pvars = `/api/v1/projects/${project.body.id}/variables`;
    await request(t.server).put(pvars).set(owner.auth).send({ variables: [{ key: 'REGION', value: 'eu' }] }).expect(200);
    await request(t.server).put(pvars).set(owner.auth).send({ variables: [{ key: 'REGION', value: 'us' }] }).expect(200);
    const updated = await auditAll(t, owner, orgId, { action: 'variable.updated' });
    expect(updated.map((e) => e.changes)).toEqual([{ variable: 'REGION', value: { from: 'eu', to: 'us' } }]);
  });

  it('answers 403 to viewers and developers, and records each denial with outcome denied', async () => {
    for (const [who, s] of [['viewer', viewer], ['developer', developer]] as const) {
      const base = `/api/v1/organizations/${orgId}/audit-events`;
      const res = await request(t.server).get(base).set(s.auth).set('X-Request-Id', `req-denied-${who}`).expect(403);
      expect(res.headers['content-type']).toMatch(/problem\+json/);
      await request(t.server).get(`${base}/verify`).set(s.auth).expect(403);
      await request(t.server).get(`${base}/export`).query({ format: 'csv' }).set(s.auth).expect(403);
      const some = (await auditPage(t, owner, orgId, { limit: 1 })).items[0];
      await request(t.server).get(`${base}/${some.id}`).set(s.auth).expect(403);
    }
    const denied = await auditAll(t, owner, orgId, { outcome: 'denied' });
    const byViewer = denied.filter((d) => d.actor.id === viewer.userId);
    const byDev = denied.filter((d) => d.actor.id === developer.userId);
    expect(byViewer.length).toBe(4);
    expect(byDev.length).toBe(4);
    expect(byViewer.find((d) => d.requestId === 'req-denied-viewer')).toMatchObject({
      action: 'audit-event.read', outcome: 'denied', organizationId: orgId, actor: { type: 'user', name: 'viewer@example.com' }, subject: { type: 'audit-event' },
    });
    expect(byViewer.filter((d) => d.action === 'audit-event.export')).toHaveLength(1);
  });

  it('answers 404 to a member of another organization, and to unknown organizations', async () => {
    const otherOwner = await addMember(t, owner, orgId, 'other@example.com', 'viewer');
    const otherOrg = await createOrganization(t, otherOwner, 'Other Inc');
    // The owner of Acme is not a member of Other Inc.
    for (const path of ['', '/verify', '/export?format=ndjson']) {
      const res = await request(t.server).get(`/api/v1/organizations/${otherOrg}/audit-events${path}`).set(owner.auth).expect(404);
      expect(res.body.code).toBe('not-found');
    }
    const acmeEntry = (await auditPage(t, owner, orgId, { limit: 1 })).items[0];
    // An entry of Acme is not reachable through Other Inc's path either.
    await request(t.server).get(`/api/v1/organizations/${otherOrg}/audit-events/${acmeEntry.id}`).set(otherOwner.auth).expect(404);
    await request(t.server).get(`/api/v1/organizations/01890000-0000-7000-8000-000000000000/audit-events`).set(owner.auth).expect(404);
    // Other Inc's own log is separate: it starts at seq 1 and has nothing from Acme.
    const theirs = await auditAll(t, otherOwner, otherOrg);
    expect(theirs.every((i) => i.organizationId === otherOrg)).toBe(true);
    expect(Math.min(...theirs.map((i) => i.seq))).toBe(1);
  });

  it('filters by actor, action (exact and prefix), subject, outcome and time, with cursor pagination', async () => {
    for (let i = 0; i < 65; i++) {
      await request(t.server).patch(`/api/v1/organizations/${orgId}`).set(owner.auth).send({ name: `Acme ${i}` }).expect(200);
    }
    const seen: AuditItem[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page = await auditPage(t, owner, orgId, { action: 'organization.updated', limit: 20, ...(cursor ? { cursor } : {}) });
      expect(page.items.length).toBeLessThanOrEqual(20);
      seen.push(...page.items);
      cursor = page.nextCursor;
      pages++;
    } while (cursor && pages < 20);
    expect(pages).toBe(4); // 66 entries: 20 + 20 + 20 + 6
    expect(seen).toHaveLength(66);
    expect(new Set(seen.map((s) => s.id)).size).toBe(66);
    for (let i = 1; i < seen.length; i++) expect(seen[i].seq).toBeLessThan(seen[i - 1].seq);
    expect(seen[0].changes).toEqual({ name: { from: 'Acme 63', to: 'Acme 64' } });

    const defaultPage = await auditPage(t, owner, orgId);
    expect(defaultPage.items).toHaveLength(50);
    expect(defaultPage.nextCursor).toEqual(expect.any(String));

    const prefix = await auditAll(t, owner, orgId, { action: 'organization.*' });
    expect(new Set(prefix.map((i) => i.action))).toEqual(new Set(['organization.created', 'organization.updated']));
    expect((await auditAll(t, owner, orgId, { action: 'organization' })).length).toBe(0);

    const byName = await auditAll(t, owner, orgId, { actor: 'VIEWER@' });
    expect(byName.length).toBeGreaterThan(0);
    expect(byName.every((i) => i.actor.name === 'viewer@example.com')).toBe(true);
    const byId = await auditAll(t, owner, orgId, { actor: developer.userId });
    expect(byId.length).toBeGreaterThan(0);
    expect(byId.every((i) => i.actor.id === developer.userId)).toBe(true);

    const bySubject = await auditAll(t, owner, orgId, { subjectType: 'organization', subjectId: orgId });
    expect(bySubject).toHaveLength(67);
    expect((await auditAll(t, owner, orgId, { outcome: 'denied', subjectType: 'organization' })).length).toBe(0);

    // from inclusive, to exclusive.
    const mid = seen[30];
    const from = await auditAll(t, owner, orgId, { action: 'organization.updated', from: mid.occurredAt });
    expect(from.every((i) => i.occurredAt >= mid.occurredAt)).toBe(true);
    expect(from.map((i) => i.id)).toContain(mid.id);
    const to = await auditAll(t, owner, orgId, { action: 'organization.updated', to: mid.occurredAt });
    expect(to.every((i) => i.occurredAt < mid.occurredAt)).toBe(true);
    expect(from.length + to.length).toBe(66);

    // Bad input is a 400 naming the field.
    for (const [q, pointer] of [[{ limit: 0 }, '/limit'], [{ limit: 201 }, '/limit'], [{ cursor: 'not-a-cursor' }, '/cursor'], [{ outcome: 'maybe' }, '/outcome'], [{ from: 'yesterday' }, '/from'], [{ nope: '1' }, '/nope']] as const) {
      const res = await request(t.server).get(`/api/v1/organizations/${orgId}/audit-events`).query(q).set(owner.auth).expect(400);
      expect(res.body.errors.map((e: { pointer: string }) => e.pointer)).toContain(pointer);
    }
  });

  it('keeps one hash chain per organization that verifies, also under concurrent writes', async () => {
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => request(t.server).post(`/api/v1/organizations/${orgId}/roles`).set(owner.auth).send({ name: `Parallel ${i}`, permissions: ['organization:read'] })),
    );
    expect(results.map((r) => r.status)).toEqual(Array(12).fill(201));
    const rows = await sql<{ seq: string; prev_hash: string | null; hash: string }>(t, `SELECT seq, prev_hash, hash FROM audit_events WHERE organization_id = $1 ORDER BY seq`, [orgId]);
    expect(rows.map((r) => Number(r.seq))).toEqual(rows.map((_, i) => i + 1));
    expect(rows[0].prev_hash).toBeNull();
    for (let i = 1; i < rows.length; i++) expect(rows[i].prev_hash).toBe(rows[i - 1].hash);
    const v = await request(t.server).get(`/api/v1/organizations/${orgId}/audit-events/verify`).set(owner.auth).expect(200);
    expect(v.body).toEqual({ ok: true, checked: rows.length, firstBrokenSeq: null, firstBrokenId: null, reason: null });
    expect(rows.length).toBeGreaterThan(60);
  });

  it('serves the instance chain (sign-ins, setup) to instance admins only', async () => {
    const res = await request(t.server).get('/api/v1/audit-events').query({ action: 'instance.*' }).set(owner.auth).expect(200);
    expect(res.body.items).toHaveLength(1);
    expect(res.body.items[0]).toMatchObject({ action: 'instance.setup-completed', organizationId: null, actor: { id: owner.userId } });
    await login(t, 'viewer@example.com');
    const logins = await request(t.server).get('/api/v1/audit-events').query({ action: 'auth.login', actor: 'viewer' }).set(owner.auth).expect(200);
    expect(logins.body.items[0]).toMatchObject({ action: 'auth.login', outcome: 'succeeded', organizationId: null, actor: { type: 'user', id: viewer.userId, name: 'viewer@example.com' } });
    const one = await request(t.server).get(`/api/v1/audit-events/${logins.body.items[0].id}`).set(owner.auth).expect(200);
    expect(one.body.id).toBe(logins.body.items[0].id);
    // An organization's entry is not part of the instance chain.
    const orgEntry = (await auditPage(t, owner, orgId, { limit: 1 })).items[0];
    await request(t.server).get(`/api/v1/audit-events/${orgEntry.id}`).set(owner.auth).expect(404);
    const v = await request(t.server).get('/api/v1/audit-events/verify').set(owner.auth).expect(200);
    expect(v.body.ok).toBe(true);
    await request(t.server).get('/api/v1/audit-events').set(viewer.auth).expect(403);
    const denied = await request(t.server).get('/api/v1/audit-events').query({ outcome: 'denied', actor: viewer.userId }).set(owner.auth).expect(200);
    expect(denied.body.items[0]).toMatchObject({ action: 'audit-event.read', outcome: 'denied', organizationId: null });
  });

  it('purges entries past the retention, records the purge, and still verifies', async () => {
    const s = await addMember(t, owner, orgId, 'purger@example.com', 'viewer');
    const org = await createOrganization(t, s, 'Short Memory');
    for (let i = 0; i < 5; i++) await request(t.server).patch(`/api/v1/organizations/${org}`).set(s.auth).send({ name: `Short ${i}` }).expect(200);
    const before = await auditAll(t, s, org);
    expect(before.map((i) => i.action)).toEqual([...Array(5).fill('organization.updated'), 'organization.created']);
    await sql(t, `UPDATE organizations SET audit_retention_days = 0 WHERE id = $1`, [org]);
    const result = await t.app.get(AuditRetention).purgeExpired();
    expect(result.deleted).toBe(5); // everything but the newest entry
    const after = await auditAll(t, s, org);
    expect(after.map((i) => i.seq)).toEqual([7, 6]);
    expect(after[0]).toMatchObject({ action: 'audit.purged', actor: { type: 'system', name: 'system' }, outcome: 'succeeded', changes: { count: 5, retentionDays: 0, oldestKeptSeq: 6 } });
    expect(after[1].id).toBe(before[0].id);
    const v = await request(t.server).get(`/api/v1/organizations/${org}/audit-events/verify`).set(s.auth).expect(200);
    expect(v.body).toMatchObject({ ok: true, checked: 2 });
    // Acme keeps its 365 days: nothing of it was purged.
    expect((await auditPage(t, owner, orgId, { action: 'audit.purged' })).items).toHaveLength(0);

    // Deleting beyond what the purge recorded is detected.
    await sql(t, `DELETE FROM audit_events WHERE organization_id = $1 AND seq = 6`, [org]);
    const broken = await request(t.server).get(`/api/v1/organizations/${org}/audit-events/verify`).set(s.auth).expect(200);
    expect(broken.body).toMatchObject({ ok: false, checked: 0, firstBrokenSeq: 7, firstBrokenId: after[0].id });
  });

  it('reports exactly the tampered entry', async () => {
    const [row] = await sql<{ id: string; seq: string; changes: unknown }>(t, `SELECT id, seq, changes FROM audit_events WHERE organization_id = $1 AND action = 'organization.updated' ORDER BY seq LIMIT 1 OFFSET 10`, [orgId]);
    await sql(t, `UPDATE audit_events SET changes = '{"name": {"from": "x", "to": "forged"}}'::jsonb WHERE id = $1`, [row.id]);
    const v = await request(t.server).get(`/api/v1/organizations/${orgId}/audit-events/verify`).set(owner.auth).expect(200);
    expect(v.body).toMatchObject({ ok: false, checked: Number(row.seq) - 1, firstBrokenSeq: Number(row.seq), firstBrokenId: row.id });
    expect(v.body.reason).toMatch(/hash/);

    // Restored, the chain verifies again.
    await sql(t, `UPDATE audit_events SET changes = $2::jsonb WHERE id = $1`, [row.id, JSON.stringify(row.changes)]);
    expect((await request(t.server).get(`/api/v1/organizations/${orgId}/audit-events/verify`).set(owner.auth).expect(200)).body.ok).toBe(true);

    // Removing an entry in the middle is reported at the entry after the gap.
    await sql(t, `DELETE FROM audit_events WHERE organization_id = $1 AND seq = $2`, [orgId, Number(row.seq) + 5]);
    const gap = await request(t.server).get(`/api/v1/organizations/${orgId}/audit-events/verify`).set(owner.auth).expect(200);
    expect(gap.body).toMatchObject({ ok: false, checked: Number(row.seq) + 4, firstBrokenSeq: Number(row.seq) + 6 });
    expect(gap.body.reason).toMatch(/missing/);
  });
});
