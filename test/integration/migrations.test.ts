import { Client } from 'pg';
import { migrate, SchemaTooNewError } from '@wharf/core';
import { createDataSource } from '../../migrations/data-source';
import { createTestDatabase } from '../support/database';

describe('migrations', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('apply once even when several processes start at the same time, and are a no-op the second time', async () => {
    const sources = [createDataSource(db.url), createDataSource(db.url), createDataSource(db.url)];
    await Promise.all(sources.map((s) => s.initialize()));
    const results = await Promise.all(sources.map((s) => migrate(s)));
    const applied = results.flat();
    expect(applied.length).toBe(sources[0].migrations.length);
    expect(await migrate(sources[0])).toEqual([]);
    await Promise.all(sources.map((s) => s.destroy()));
  });

  it('refuses to run a binary older than the schema', async () => {
    const c = new Client({ connectionString: db.url });
    await c.connect();
    await c.query(`INSERT INTO migrations (timestamp, name) VALUES (9999999999999, 'FromTheFuture9999999999999')`);
    await c.end();
    const ds = createDataSource(db.url);
    await ds.initialize();
    await expect(migrate(ds)).rejects.toThrow(SchemaTooNewError);
    await expect(migrate(ds)).rejects.toThrow(/newer than this Wharf build.*FromTheFuture/);
    await ds.destroy();
  });
});
