import { MigrationInterface, QueryRunner } from 'typeorm';

/** How long deployment logs are kept (per organization). Additive: older code ignores the column. */
export class OrganizationPolicies1764100006000 implements MigrationInterface {
  name = 'OrganizationPolicies1764100006000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE organizations ADD COLUMN IF NOT EXISTS deployment_log_retention_days int NOT NULL DEFAULT 90`);
    await q.query(`CREATE INDEX IF NOT EXISTS ix_deployments_finished ON deployments (organization_id, finished_at) WHERE finished_at IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS ix_deployments_finished`);
    await q.query(`ALTER TABLE organizations DROP COLUMN IF EXISTS deployment_log_retention_days`);
  }
}
