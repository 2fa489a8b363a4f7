import request from 'supertest';
import { Client } from 'pg';
import type { TestApp } from '../../support/app';
import type { Session } from '../../support/api';

export interface CreatedProject {
  id: string;
  slug: string;
  name: string;
  version: number;
  environments: Array<{ id: string; slug: string; name: string }>;
}

export async function createProject(t: TestApp, s: Session, orgId: string, name: string, extra: Record<string, unknown> = {}): Promise<CreatedProject> {
  const res = await request(t.server).post(`/api/v1/organizations/${orgId}/projects`).set(s.auth).send({ name, ...extra });
  if (res.status !== 201) throw new Error(`create project ${name}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Runs `fn` with a plain PostgreSQL connection to the test app's database. */
export async function withDb<T>(t: TestApp, fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: t.databaseUrl });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Every row of the project tables as text, for before/after comparisons. */
export function snapshot(t: TestApp): Promise<string[]> {
  return withDb(t, async (c) => {
    const out: string[] = [];
    for (const table of ['projects', 'environments', 'variables']) {
      const r = await c.query(`SELECT x::text AS row FROM ${table} x ORDER BY id`);
      out.push(...r.rows.map((row: { row: string }) => `${table}:${row.row}`));
    }
    return out;
  });
}

/** Every row of every table in the database, as text (to prove a value appears nowhere in clear). */
export function dumpDatabase(t: TestApp): Promise<string> {
  return withDb(t, async (c) => {
    const tables = await c.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`);
    const parts: string[] = [];
    for (const { tablename } of tables.rows as Array<{ tablename: string }>) {
      const r = await c.query(`SELECT x::text AS row FROM "${tablename}" x`);
      parts.push(...r.rows.map((row: { row: string }) => row.row));
    }
    return parts.join('\n');
  });
}
