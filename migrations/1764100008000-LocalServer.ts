import { MigrationInterface, QueryRunner } from 'typeorm';

/** The local Swarm is the first server, present from the start (its status is filled in by the worker). */
export class LocalServer1764100008000 implements MigrationInterface {
  name = 'LocalServer1764100008000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`INSERT INTO servers (id, name, kind, status) SELECT gen_random_uuid(), 'local', 'local', 'unknown' WHERE NOT EXISTS (SELECT 1 FROM servers WHERE kind = 'local')`);
  }

  async down(): Promise<void> {
    // Kept: applications reference it.
  }
}
