import request from 'supertest';
import { Client } from 'pg';
import type { TestApp } from '../../support/app';
import type { Session } from '../../support/api';

/** Lists one page of an organization's audit log. */
export async function auditPage(t: TestApp, s: Session, orgId: string, query: Record<string, string | number> = {}, status = 200) {
  const res = await request(t.server).get(`/api/v1/organizations/${orgId}/audit-events`).query(query).set(s.auth).expect(status);
  return res.body as { items: AuditItem[]; nextCursor: string | null };
}

/** Every entry matching the query, following nextCursor. */
export async function auditAll(t: TestApp, s: Session, orgId: string, query: Record<string, string | number> = {}): Promise<AuditItem[]> {
  const out: AuditItem[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 100; i++) {
    const page = await auditPage(t, s, orgId, { ...query, limit: 200, ...(cursor ? { cursor } : {}) });
    out.push(...page.items);
    cursor = page.nextCursor;
    if (!cursor) break;
  }
  return out;
}

export interface AuditItem {
  id: string;
  seq: number;
  organizationId: string | null;
  occurredAt: string;
  actor: { type: string; id: string | null; name: string };
  action: string;
  subject: { type: string; id: string | null; name: string | null };
  outcome: string;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  changes: Record<string, unknown>;
  prevHash: string | null;
  hash: string;
}

/** GET that collects the raw body whatever the content type (streamed downloads). */
export async function download(t: TestApp, path: string, auth: Record<string, string>, query: Record<string, string> = {}) {
  return request(t.server)
    .get(path)
    .query(query)
    .set(auth)
    .buffer(true)
    .parse((res, cb) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(Buffer.from(c)));
      res.on('end', () => cb(null, Buffer.concat(chunks).toString('utf8')));
    });
}

/** Runs SQL against the test database. */
export async function sql<T = Record<string, unknown>>(t: TestApp, text: string, params: unknown[] = []): Promise<T[]> {
  const c = new Client({ connectionString: t.databaseUrl });
  await c.connect();
  try {
    return (await c.query(text, params)).rows as T[];
  } finally {
    await c.end();
  }
}

/** A small RFC 4180 parser (quoted fields, doubled quotes, newlines inside quotes). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}
