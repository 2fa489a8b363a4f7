import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * applications.delete_volumes: whether a requested deletion also removes the application's volumes, kept with the
 * `deleting` flag so the watchdog can finish a deletion whose removal job was lost (issue 8 §2). Additive only.
 */
export class ApplicationDeleteVolumes1764100012000 implements MigrationInterface {
  name = 'ApplicationDeleteVolumes1764100012000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE applications ADD COLUMN IF NOT EXISTS delete_volumes boolean NOT NULL DEFAULT false`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE applications DROP COLUMN IF EXISTS delete_volumes`);
  }
}
