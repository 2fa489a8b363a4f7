import { Client } from 'pg';

/** One query on a test database, on its own connection. */
export async function sql<T = Record<string, unknown>>(url: string, q: string, params: unknown[] = []): Promise<T[]> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(q, params)).rows as T[];
  } finally {
    await c.end();
  }
}
