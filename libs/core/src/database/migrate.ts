import { DataSource } from 'typeorm';

const MIGRATION_LOCK = 482_731_001;

export class SchemaTooNewError extends Error {}

/**
 * Runs pending migrations under a PostgreSQL advisory lock (several processes may start at once), and refuses to
 * run a binary older than the schema: a migration in the database that this build does not know means a newer
 * Wharf has upgraded it.
 */
export async function migrate(ds: DataSource): Promise<string[]> {
  const qr = ds.createQueryRunner();
  await qr.connect();
  try {
    await qr.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const known = new Set(ds.migrations.map((m) => m.name ?? m.constructor.name));
    const hasTable = (await qr.query(`SELECT to_regclass('public.migrations') AS t`))[0].t !== null;
    if (hasTable) {
      const applied: { name: string }[] = await qr.query('SELECT name FROM migrations');
      const unknown = applied.map((r) => r.name).filter((n) => !known.has(n));
      if (unknown.length > 0) {
        throw new SchemaTooNewError(
          `The database schema is newer than this Wharf build (unknown migrations: ${unknown.join(', ')}). Start the newer Wharf version, or restore a backup.`,
        );
      }
    }
    const ran = await ds.runMigrations({ transaction: 'each' });
    return ran.map((m) => m.name);
  } finally {
    await qr.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await qr.release();
  }
}
