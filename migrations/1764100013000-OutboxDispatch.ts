import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The outbox relay dispatches to listeners and retries a failed dispatch later: when to try next and the last error.
 * Additive only (safe while an older version still runs: it ignores the columns).
 */
export class OutboxDispatch1764100013000 implements MigrationInterface {
  name = 'OutboxDispatch1764100013000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE outbox_events ADD COLUMN IF NOT EXISTS next_attempt_at timestamptz`);
    await q.query(`ALTER TABLE outbox_events ADD COLUMN IF NOT EXISTS last_error text`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE outbox_events DROP COLUMN IF EXISTS last_error`);
    await q.query(`ALTER TABLE outbox_events DROP COLUMN IF EXISTS next_attempt_at`);
  }
}
