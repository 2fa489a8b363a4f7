import { MigrationInterface, QueryRunner } from 'typeorm';

/** Instance state and the transactional outbox. */
export class Foundation1764100000000 implements MigrationInterface {
  name = 'Foundation1764100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE IF NOT EXISTS instance (
      id smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
      install_id uuid NOT NULL,
      setup_token_hash text,
      setup_completed_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now()
    )`);
    await q.query(`CREATE TABLE IF NOT EXISTS outbox_events (
      id uuid PRIMARY KEY,
      type text NOT NULL,
      envelope jsonb NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      published_at timestamptz,
      attempts int NOT NULL DEFAULT 0
    )`);
    await q.query(`CREATE INDEX IF NOT EXISTS ix_outbox_unpublished ON outbox_events (created_at) WHERE published_at IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE IF EXISTS outbox_events');
    await q.query('DROP TABLE IF EXISTS instance');
  }
}
