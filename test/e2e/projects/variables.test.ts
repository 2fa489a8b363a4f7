import { randomBytes } from 'node:crypto';
import request from 'supertest';
import { startTestApp, TestApp } from '../../support/app';
import { Session, setupOwner } from '../../support/api';
import { createProject, CreatedProject, dumpDatabase, withDb } from './helpers';


// Boots the real app and makes many requests: allow for a slow CI machine.
jest.setTimeout(60_000);
describe('variables: secrets at rest, reveal, hostile values', () => {
  let t: TestApp;
  let owner: Session & { organizationId: string };
  let orgId: string;
  let project: CreatedProject;
  let envId: string;
  const responses: string[] = [];
  /** Every response body this suite receives (except reveal's), to prove a canary never leaves in clear. */
  const call = async (r: request.Test): Promise<request.Response> => {
    const res = await r;
    responses.push(JSON.stringify(res.headers) + res.text);
    return res;
  };

  beforeAll(async () => {
    t = await startTestApp();
    owner = await setupOwner(t);
    orgId = owner.organizationId;
    project = await createProject(t, owner, orgId, 'Vars');
    envId = project.environments[0].id;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('keeps a secret canary out of every response, the audit log and the database, and reveals it exactly', async () => {
    const canary = `canary-${randomBytes(12).toString('hex')}`;
    const put = await call(request(t.server).put(`/api/v1/environments/${envId}/variables`).set(owner.auth).send({ key: 'API_TOKEN', value: canary, secret: true }));
    expect(put.status).toBe(200);
    expect(put.body.items).toEqual([expect.objectContaining({ key: 'API_TOKEN', value: null, secret: true, valueSet: true, environmentId: envId, projectId: project.id })]);
    // Project-level too, and an update of the secret.
    expect((await call(request(t.server).put(`/api/v1/projects/${project.id}/variables`).set(owner.auth).send({ variables: [{ key: 'SHARED', value: canary, secret: true }, { key: 'PLAIN', value: 'visible' }] }))).status).toBe(200);
    expect((await call(request(t.server).put(`/api/v1/projects/${project.id}/variables`).set(owner.auth).send({ key: 'SHARED', value: `${canary}-v2` }))).status).toBe(200);

    const list = await call(request(t.server).get(`/api/v1/environments/${envId}/variables`).set(owner.auth));
    expect(list.body.items).toEqual([expect.objectContaining({ key: 'API_TOKEN', value: null, secret: true })]);
    const plist = await call(request(t.server).get(`/api/v1/projects/${project.id}/variables`).set(owner.auth));
    expect(plist.body.items.map((v: { key: string; value: string | null; secret: boolean }) => [v.key, v.value, v.secret])).toEqual([
      ['PLAIN', 'visible', false],
      ['SHARED', null, true],
    ]);
    await call(request(t.server).get(`/api/v1/projects/${project.id}`).set(owner.auth));
    await call(request(t.server).get(`/api/v1/environments/${envId}`).set(owner.auth));

    const revealed = await request(t.server).post(`/api/v1/environments/${envId}/variables/API_TOKEN/reveal`).set(owner.auth).expect(200);
    expect(revealed.body).toEqual({ key: 'API_TOKEN', value: canary, secret: true });
    const shared = await request(t.server).post(`/api/v1/projects/${project.id}/variables/SHARED/reveal`).set(owner.auth).expect(200);
    expect(shared.body.value).toBe(`${canary}-v2`);

    // Audit: reveal is recorded (without the value); changes say [redacted].
    const audit = await call(request(t.server).get(`/api/v1/organizations/${orgId}/audit-events?action=variable.*&limit=200`).set(owner.auth));
    expect(audit.status).toBe(200);
    const actions = audit.body.items.map((e: { action: string }) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['variable.created', 'variable.updated', 'variable.revealed']));
    const created = audit.body.items.find((e: { action: string; subject: { name: string } }) => e.action === 'variable.created' && e.subject.name === 'API_TOKEN');
    expect(created.changes).toEqual({ variable: 'API_TOKEN', kind: 'secret', value: '[redacted]' });
    const plainCreated = audit.body.items.find((e: { action: string; subject: { name: string } }) => e.action === 'variable.created' && e.subject.name === 'PLAIN');
    expect(plainCreated.changes).toEqual({ variable: 'PLAIN', kind: 'plain', value: 'visible' });
    const reveal = audit.body.items.find((e: { action: string; subject: { name: string } }) => e.action === 'variable.revealed' && e.subject.name === 'API_TOKEN');
    expect(reveal).toMatchObject({ outcome: 'succeeded', actor: expect.objectContaining({ id: owner.userId }) });
    const exp = await request(t.server).get(`/api/v1/organizations/${orgId}/audit-events/export?format=ndjson`).set(owner.auth).expect(200);
    responses.push(exp.text);

    for (const body of responses) expect(body).not.toContain(canary);
    // Not in clear anywhere in the database (variables, outbox, audit …): only as ciphertext.
    const dump = await dumpDatabase(t);
    expect(dump).not.toContain(canary);
    expect(dump).not.toContain(Buffer.from(canary).toString('base64'));
    const row = await withDb(t, (c) => c.query(`SELECT v::text AS row, value, value_encrypted FROM variables v WHERE key = 'API_TOKEN'`));
    expect(row.rows[0].value).toBeNull();
    expect(row.rows[0].value_encrypted).toMatch(/^v1\./);
    expect(row.rows[0].row).not.toContain(canary);

    // The ciphertext is bound to its row: copied onto another variable it does not decrypt.
    await request(t.server).put(`/api/v1/environments/${envId}/variables`).set(owner.auth).send({ key: 'OTHER', value: 'x', secret: true }).expect(200);
    await withDb(t, (c) => c.query(`UPDATE variables SET value_encrypted = $1 WHERE key = 'OTHER'`, [row.rows[0].value_encrypted]));
    const swapped = await request(t.server).post(`/api/v1/environments/${envId}/variables/OTHER/reveal`).set(owner.auth).expect(503);
    expect(swapped.text).not.toContain(canary);
  });

  it('turns a secret into a plain variable and back, and deletes variables', async () => {
    await request(t.server).put(`/api/v1/projects/${project.id}/variables`).set(owner.auth).send({ key: 'FLIP', value: 's3cr3t', secret: true }).expect(200);
    const plain = await request(t.server).put(`/api/v1/projects/${project.id}/variables`).set(owner.auth).send({ key: 'FLIP', value: 'now-plain', secret: false }).expect(200);
    expect(plain.body.items[0]).toMatchObject({ key: 'FLIP', value: 'now-plain', secret: false, version: 2 });
    const back = await request(t.server).put(`/api/v1/projects/${project.id}/variables`).set(owner.auth).send({ key: 'FLIP', value: 'again' }).expect(200);
    expect(back.body.items[0]).toMatchObject({ value: 'again', secret: false, version: 3 });
    const audit = await request(t.server).get(`/api/v1/organizations/${orgId}/audit-events?action=variable.updated&subjectId=${plain.body.items[0].id}`).set(owner.auth).expect(200);
    expect(JSON.stringify(audit.body)).not.toContain('s3cr3t');

    await request(t.server).delete(`/api/v1/projects/${project.id}/variables/FLIP`).set(owner.auth).expect(204);
    await request(t.server).delete(`/api/v1/projects/${project.id}/variables/FLIP`).set(owner.auth).expect(404);
    await request(t.server).post(`/api/v1/projects/${project.id}/variables/FLIP/reveal`).set(owner.auth).expect(404);
    await request(t.server).delete(`/api/v1/projects/${project.id}/variables/not-a-key!`).set(owner.auth).expect(404);
    const types = await withDb(t, (c) => c.query(`SELECT DISTINCT type FROM outbox_events WHERE type LIKE 'variable.%'`));
    expect(types.rows.map((r: { type: string }) => r.type).sort()).toEqual(['variable.created', 'variable.deleted', 'variable.revealed', 'variable.updated']);
  });

  it('stores hostile values verbatim (or refuses them with 400), never 500', async () => {
    const hostile: Record<string, string> = {
      QUOTES: `he said "hi" and 'bye' \\ \\"`,
      SUBSHELL: '$(rm -rf /) ${HOME} $HOME',
      BACKTICKS: '`whoami` && echo pwned; | > /etc/passwd',
      NEWLINES: 'line1\nline2\r\nline3\n\n',
      UNICODE: 'Grüße 🚢 中文 \u202eRTL\u200b zero-width é',
      SQL: "'; DROP TABLE variables; --",
      BIG: 'x'.repeat(10 * 1024),
      EMPTY: '',
      MAX: 'y'.repeat(64 * 1024),
    };
    const put = await request(t.server)
      .put(`/api/v1/environments/${envId}/variables`)
      .set(owner.auth)
      .send({ variables: Object.entries(hostile).map(([key, value], i) => ({ key, value, secret: i % 2 === 0 })) })
      .expect(200);
    expect(put.body.items).toHaveLength(Object.keys(hostile).length);
    for (const [key, value] of Object.entries(hostile)) {
      const r = await request(t.server).post(`/api/v1/environments/${envId}/variables/${key}/reveal`).set(owner.auth).expect(200);
      expect(r.body.value).toBe(value);
    }
    const list = await request(t.server).get(`/api/v1/environments/${envId}/variables?limit=200`).set(owner.auth).expect(200);
    for (const v of list.body.items as Array<{ key: string; value: string | null; secret: boolean }>) {
      if (!v.secret && hostile[v.key] !== undefined) expect(v.value).toBe(hostile[v.key]);
    }

    const bad: Array<[Record<string, unknown>, string]> = [
      [{ key: 'NUL', value: 'a\u0000b' }, '/value'],
      [{ key: 'NUL', value: 'a\u0000b', secret: true }, '/value'],
      [{ variables: [{ key: 'OK', value: 'fine' }, { key: 'NUL', value: '\u0000' }] }, '/variables/1/value'],
      [{ key: 'TOO_BIG', value: 'z'.repeat(64 * 1024 + 1) }, '/value'],
      [{ key: 'TOO_BIG', value: 'é'.repeat(40 * 1024) }, '/value'],
      [{ key: '1BAD', value: 'v' }, '/key'],
      [{ key: 'has-dash', value: 'v' }, '/key'],
      [{ key: 'A'.repeat(129), value: 'v' }, '/key'],
      [{ key: 'K\u0000', value: 'v' }, '/key'],
      [{ key: 'K', value: 42 }, '/value'],
      [{ key: 'K', value: 'v', secret: 'yes' }, '/secret'],
      [{ key: 'K' }, '/value'],
      [{ value: 'v' }, '/key'],
      [{ variables: [{ key: 'DUP', value: '1' }, { key: 'DUP', value: '2' }] }, '/variables/1/key'],
      [{ variables: [] }, '/variables'],
      [{ key: 'K', value: 'v', variables: [{ key: 'L', value: 'w' }] }, '/variables'],
      [{ variables: [{ key: 'K', value: 'v', extra: 1 }] }, '/variables/0/extra'],
    ];
    for (const [body, pointer] of bad) {
      const res = await request(t.server).put(`/api/v1/environments/${envId}/variables`).set(owner.auth).send(body);
      expect({ body: JSON.stringify(body).slice(0, 80), status: res.status }).toEqual({ body: JSON.stringify(body).slice(0, 80), status: 400 });
      expect(res.body.errors.map((e: { pointer: string }) => e.pointer)).toContain(pointer);
    }
    // Nothing of the refused batches was written.
    const keys = await withDb(t, (c) => c.query(`SELECT key FROM variables WHERE environment_id = $1 AND key IN ('OK', 'NUL', 'TOO_BIG', 'DUP', 'K', 'L')`, [envId]));
    expect(keys.rows).toEqual([]);

    // Hostile names for projects and environments: stored verbatim, NUL refused naming the field.
    const weird = `"; $(id) \`x\` \n 🚢`;
    const p = await request(t.server).post(`/api/v1/organizations/${orgId}/projects`).set(owner.auth).send({ name: weird }).expect(201);
    expect(p.body.name).toBe(weird);
    expect(p.body.slug).toMatch(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/);
    const nul = await request(t.server).post(`/api/v1/organizations/${orgId}/projects`).set(owner.auth).send({ name: 'a\u0000b' }).expect(400);
    expect(nul.body.errors[0].pointer).toBe('/name');
    const envNul = await request(t.server).patch(`/api/v1/environments/${envId}`).set(owner.auth).send({ name: '\u0000' }).expect(400);
    expect(envNul.body.errors[0].pointer).toBe('/name');
  });

  it('upserts many at once and paginates variables by key', async () => {
    const env = await request(t.server).post(`/api/v1/projects/${project.id}/environments`).set(owner.auth).send({ name: 'Bulk' }).expect(201);
    const variables = Array.from({ length: 120 }, (_, i) => ({ key: `K_${String(i).padStart(3, '0')}`, value: `v${i}`, secret: i % 10 === 0 }));
    const put = await request(t.server).put(`/api/v1/environments/${env.body.id}/variables`).set(owner.auth).send({ variables }).expect(200);
    expect(put.body.items).toHaveLength(120);
    const keys: string[] = [];
    let cursor: string | null = null;
    do {
      const res: request.Response = await request(t.server).get(`/api/v1/environments/${env.body.id}/variables?limit=50${cursor ? `&cursor=${cursor}` : ''}`).set(owner.auth).expect(200);
      keys.push(...res.body.items.map((v: { key: string }) => v.key));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(keys).toEqual(variables.map((v) => v.key));
    // Environment variables are separate from the project's and from other environments'.
    const other = await request(t.server).get(`/api/v1/environments/${envId}/variables?limit=200`).set(owner.auth).expect(200);
    expect(other.body.items.some((v: { key: string }) => v.key === 'K_000')).toBe(false);
  });
});
