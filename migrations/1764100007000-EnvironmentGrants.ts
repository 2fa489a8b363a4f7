import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A member (or invitation) may be limited to chosen environments besides whole projects. Additive: older code ignores
 * the column (and then grants what `project_ids` says).
 */
export class EnvironmentGrants1764100007000 implements MigrationInterface {
  name = 'EnvironmentGrants1764100007000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE memberships ADD COLUMN IF NOT EXISTS environment_ids uuid[]`);
    await q.query(`ALTER TABLE invitations ADD COLUMN IF NOT EXISTS environment_ids uuid[]`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE invitations DROP COLUMN IF EXISTS environment_ids`);
    await q.query(`ALTER TABLE memberships DROP COLUMN IF EXISTS environment_ids`);
  }
}
