import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * GitHub App webhooks through a Git provider connection (one URL per connection, signed with its webhook secret):
 *  - git_provider_deliveries: every delivery received on a connection's webhook (accepted when an application acted on
 *    it, ignored with the reason — no application uses the repository, a ping, an installation event — or rejected),
 *    unique per (connection, delivery id) so a redelivery is recognised and processed once. Rows go with their
 *    connection.
 *  - webhook_deliveries.git_provider_id: an application's delivery that arrived through a connection's webhook (NULL
 *    for the application's own webhook and for every existing row; no foreign key: it only tells where a row came from).
 * Additive and idempotent (IF NOT EXISTS): an older version still running ignores the table and the column.
 */
export class GitProviderDeliveries1764100025000 implements MigrationInterface {
  name = 'GitProviderDeliveries1764100025000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE IF NOT EXISTS git_provider_deliveries (
        id uuid PRIMARY KEY,
        git_provider_id uuid NOT NULL REFERENCES git_providers(id) ON DELETE CASCADE,
        organization_id uuid NOT NULL,
        delivery_id text NOT NULL,
        event text,
        outcome text NOT NULL CHECK (outcome IN ('accepted', 'ignored', 'rejected')),
        reason text,
        repository text,
        applications integer NOT NULL DEFAULT 0,
        received_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX IF NOT EXISTS ux_git_provider_deliveries ON git_provider_deliveries (git_provider_id, delivery_id)`);
    await q.query(`CREATE INDEX IF NOT EXISTS ix_git_provider_deliveries_recent ON git_provider_deliveries (git_provider_id, received_at DESC)`);
    await q.query(`ALTER TABLE webhook_deliveries ADD COLUMN IF NOT EXISTS git_provider_id uuid`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE webhook_deliveries DROP COLUMN IF EXISTS git_provider_id`);
    await q.query(`DROP TABLE IF EXISTS git_provider_deliveries`);
  }
}
