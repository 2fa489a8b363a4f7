import request from 'supertest';
import { randomBytes } from 'node:crypto';
import { TransactionRunner } from '@wharf/core';
import { startTestApp, TestApp } from '../../support/app';
import { addMember, login, PASSWORD, Session, setupOwner } from '../../support/api';
import { auditAll, AuditItem, auditPage, download, parseCsv, sql } from './helpers';

jest.setTimeout(60_000);

describe('audit log: export and secrets', () => {
  let t: TestApp;
  let owner: Session & { organizationId: string };
  let orgId: string;

  beforeAll(async () => {
    t = await startTestApp();
    owner = await setupOwner(t, 'owner@example.com', 'Exporters');
    orgId = owner.organizationId;
    for (let i = 0; i < 12; i++) {
      await request(t.server).patch(`/api/v1/organizations/${orgId}`).set(owner.auth).send({ name: `Exporters, "quoted" ${i}\nline` }).expect(200);
    }
  });
  afterAll(async () => {
    await t?.close();
  });

  const base = () => `/api/v1/organizations/${orgId}/audit-events`;

  it('exports NDJSON, oldest first, as an attachment, and audits the export', async () => {
    const entries = (await auditAll(t, owner, orgId)).reverse();
    const res = await download(t, `${base()}/export`, owner.auth, { format: 'ndjson' });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/x-ndjson/);
    expect(res.headers['content-disposition']).toMatch(new RegExp(`^attachment; filename="audit-events-${orgId}-\\d{8}T\\d{6}Z\\.ndjson"$`));
    const text = res.body as string;
    expect(text.endsWith('\n')).toBe(true);
    const lines = text.trimEnd().split('\n').map((l) => JSON.parse(l) as AuditItem);
    // Everything that existed, then the export's own entry (recorded before the first byte).
    expect(lines.slice(0, entries.length)).toEqual(entries);
    expect(lines).toHaveLength(entries.length + 1);
    expect(lines[lines.length - 1]).toMatchObject({ action: 'audit-event.exported', actor: { id: owner.userId }, changes: { format: 'ndjson', from: null, to: null } });
    for (let i = 1; i < lines.length; i++) expect(lines[i].prevHash).toBe(lines[i - 1].hash);
  });

  it('exports CSV that parses back to the same entries, with quotes, commas and newlines intact', async () => {
    const entries = (await auditAll(t, owner, orgId)).reverse();
    const res = await download(t, `${base()}/export`, owner.auth, { format: 'csv' });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename="audit-events-.*\.csv"$/);
    const [header, ...rows] = parseCsv(res.body as string);
    expect(header).toEqual(['id', 'seq', 'occurredAt', 'organizationId', 'actorType', 'actorId', 'actorName', 'action', 'subjectType', 'subjectId', 'subjectName', 'outcome', 'ip', 'userAgent', 'requestId', 'changes', 'prevHash', 'hash']);
    expect(rows).toHaveLength(entries.length + 1);
    rows.forEach((r) => expect(r).toHaveLength(header.length));
    const col = (name: string) => header.indexOf(name);
    for (let i = 0; i < entries.length; i++) {
      const r = rows[i];
      expect(r[col('id')]).toBe(entries[i].id);
      expect(Number(r[col('seq')])).toBe(entries[i].seq);
      expect(r[col('action')]).toBe(entries[i].action);
      expect(r[col('subjectName')]).toBe(entries[i].subject.name);
      expect(JSON.parse(r[col('changes')])).toEqual(entries[i].changes);
      expect(r[col('hash')]).toBe(entries[i].hash);
    }
    expect(rows.some((r) => r[col('subjectName')].includes('"quoted"') && r[col('subjectName')].includes('\n'))).toBe(true);
    expect(rows[rows.length - 1][col('action')]).toBe('audit-event.exported');
  });

  it('respects from (inclusive) and to (exclusive)', async () => {
    const updates = (await auditAll(t, owner, orgId, { action: 'organization.updated' })).reverse();
    const from = updates[3].occurredAt;
    const to = updates[8].occurredAt;
    const res = await download(t, `${base()}/export`, owner.auth, { format: 'ndjson', from, to });
    expect(res.status).toBe(200);
    const lines = (res.body as string).trimEnd().split('\n').map((l) => JSON.parse(l) as AuditItem);
    expect(lines.length).toBeGreaterThanOrEqual(5);
    expect(lines.every((l) => l.occurredAt >= from && l.occurredAt < to)).toBe(true);
    const ids = lines.map((l) => l.id);
    for (const u of updates.slice(3, 8)) expect(ids).toContain(u.id);
    expect(ids).not.toContain(updates[8].id);
    expect(ids).not.toContain(updates[2].id);
    const exported = (await auditPage(t, owner, orgId, { action: 'audit-event.exported', limit: 1 })).items[0];
    expect(exported.changes).toEqual({ format: 'ndjson', from, to });
    // Bad input is rejected before anything is exported.
    const bad = await request(t.server).get(`${base()}/export`).query({ format: 'xml' }).set(owner.auth).expect(400);
    expect(bad.body.errors[0].pointer).toBe('/format');
    await request(t.server).get(`${base()}/export`).query({ format: 'csv', from: 'soon' }).set(owner.auth).expect(400);
  });

  it('exports only the entries matching the active filters (action, actor, outcome), and records them', async () => {
    const updates = (await auditAll(t, owner, orgId, { action: 'organization.updated' })).reverse();
    expect(updates.length).toBeGreaterThanOrEqual(12);
    const all = await auditAll(t, owner, orgId);
    expect(all.some((e) => e.action !== 'organization.updated')).toBe(true);
    const res = await download(t, `${base()}/export`, owner.auth, { format: 'ndjson', action: 'organization.updated', actor: 'owner@', outcome: 'succeeded' });
    expect(res.status).toBe(200);
    const lines = (res.body as string).trimEnd().split('\n').map((l) => JSON.parse(l) as AuditItem);
    // Exactly the filtered entries: the export's own entry (audit-event.exported) does not match the action filter.
    expect(lines.map((l) => l.id)).toEqual(updates.map((u) => u.id));
    const exported = (await auditPage(t, owner, orgId, { action: 'audit-event.exported', limit: 1 })).items[0];
    expect(exported.changes).toEqual({ format: 'ndjson', from: null, to: null, action: 'organization.updated', actor: 'owner@', outcome: 'succeeded' });
    // A prefix filter in CSV; a filter that matches nothing gives the header only.
    const csv = await download(t, `${base()}/export`, owner.auth, { format: 'csv', action: 'audit-event.*' });
    const [, ...rows] = parseCsv(csv.body as string);
    expect(rows.length).toBeGreaterThanOrEqual(2);
    expect(rows.every((r) => r[7].startsWith('audit-event.'))).toBe(true);
    const none = await download(t, `${base()}/export`, owner.auth, { format: 'csv', action: 'no-such.action' });
    expect(parseCsv(none.body as string)).toHaveLength(1);
    await request(t.server).get(`${base()}/export`).query({ format: 'csv', outcome: 'maybe' }).set(owner.auth).expect(400);
  });

  it('streams and verifies a chain longer than one batch', async () => {
    // 600 entries through the real unit of work (same hook as every command), in one transaction.
    await t.app.get(TransactionRunner).run(async (_m, stage) => {
      for (let i = 0; i < 600; i++) {
        await stage({ type: 'organization.updated', organizationId: orgId, actor: { type: 'system', id: null, name: 'system' }, subject: { type: 'test', id: String(i) }, payload: {} }, { changes: { i } });
      }
    });
    const [{ n }] = await sql<{ n: number }>(t, `SELECT count(*)::int AS n FROM audit_events WHERE organization_id = $1`, [orgId]);
    expect(n).toBeGreaterThan(600);
    const res = await download(t, `${base()}/export`, owner.auth, { format: 'ndjson' });
    expect(res.status).toBe(200);
    const lines = (res.body as string).trimEnd().split('\n').map((l) => JSON.parse(l) as AuditItem);
    expect(lines).toHaveLength(n + 1);
    expect(lines.map((l) => l.seq)).toEqual(lines.map((_, i) => i + 1));
    const csv = await download(t, `${base()}/export`, owner.auth, { format: 'csv' });
    expect(parseCsv(csv.body as string)).toHaveLength(n + 2 + 1); // header, the rows, the first export's entry, this one's
    const v = await request(t.server).get(`${base()}/verify`).set(owner.auth).expect(200);
    expect(v.body).toEqual({ ok: true, checked: n + 2, firstBrokenSeq: null, firstBrokenId: null, reason: null });
  });

  it('never stores passwords, API keys or invitation tokens in the audit log', async () => {
    const canary = `canary-${randomBytes(8).toString('hex')}`;
    const key = await request(t.server).post('/api/v1/me/api-keys').set(owner.auth).send({ name: 'ci', scopes: ['read'] }).expect(201);
    const orgKey = await request(t.server).post(`/api/v1/organizations/${orgId}/api-keys`).set(owner.auth).send({ name: 'robot', role: 'viewer', scopes: ['read'] });
    const canaryRole = await request(t.server).post(`/api/v1/organizations/${orgId}/roles`).set(owner.auth).send({ name: 'Canary', permissions: ['organization:read'] }).expect(201);
    void canaryRole;
    const inv = await request(t.server).post(`/api/v1/organizations/${orgId}/invitations`).set(owner.auth).send({ email: 'invitee@example.com', role: 'viewer' }).expect(201);
    const newPassword = `${canary} long enough password`;
    await request(t.server).post('/api/v1/me/password').set(owner.auth).send({ currentPassword: PASSWORD, newPassword }).expect(204);
    const s = await login(t, owner.email, newPassword);
    // A failed sign-in with the canary as password is audited too, without the password.
    await request(t.server).post('/api/v1/auth/login').send({ email: owner.email, password: `${canary}-wrong` }).expect(401);
    const member = await addMember(t, owner, orgId, 'member@example.com', 'viewer');

    const secrets = [canary, key.body.key, key.body.key.split('_').slice(2).join('_'), inv.body.token, s.accessToken, s.refreshToken, member.accessToken, PASSWORD];
    expect(orgKey.status).toBe(201);
    secrets.push(orgKey.body.key);
    for (const x of secrets) expect(typeof x === 'string' && x.length >= 10).toBe(true);

    const rows = await sql<{ row: string }>(t, `SELECT a::text AS row FROM audit_events a`);
    expect(rows.length).toBeGreaterThan(20);
    for (const { row } of rows) for (const x of secrets) expect(row).not.toContain(x);

    const pw = await sql<{ changes: Record<string, unknown> }>(t, `SELECT changes FROM audit_events WHERE action = 'user.password-changed'`);
    expect(pw).toHaveLength(1);
    expect(pw[0].changes).toEqual({ password: '[redacted]' });
    const keyEntry = await sql<{ changes: Record<string, unknown> }>(t, `SELECT changes FROM audit_events WHERE action = 'api-key.created' AND subject_id = $1`, [key.body.id]);
    expect(keyEntry[0].changes).toMatchObject({ name: 'ci', scopes: ['read'], prefix: expect.any(String) });
    const failed = await sql<{ outcome: string }>(t, `SELECT outcome FROM audit_events WHERE action = 'auth.login' AND outcome = 'failed'`);
    expect(failed.length).toBeGreaterThanOrEqual(1);

    // Nor in an export.
    const exp = await download(t, `${base()}/export`, s.auth, { format: 'ndjson' });
    expect(exp.status).toBe(200);
    for (const x of secrets) expect(exp.body as string).not.toContain(x);
  });
});
