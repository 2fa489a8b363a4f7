import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Security details (issue 8 §4), additive only (safe on a running install):
 * - refresh_tokens.successor_enc: the pair a rotation issued, encrypted, so a concurrent refresh with the same token
 *   inside the grace window gets the same pair instead of killing the session;
 * - oidc_logins.binder_hash: the hash of the browser-binding cookie set at start (NULL rows, from before, expire in minutes);
 * - deployments.idempotency_fingerprint / idempotency_response: the request an Idempotency-Key was first used with, and
 *   the response it got.
 */
export class AuthHardening1764100010000 implements MigrationInterface {
  name = 'AuthHardening1764100010000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE refresh_tokens ADD COLUMN IF NOT EXISTS successor_enc text`);
    await q.query(`ALTER TABLE oidc_logins ADD COLUMN IF NOT EXISTS binder_hash text`);
    await q.query(`ALTER TABLE deployments ADD COLUMN IF NOT EXISTS idempotency_fingerprint text`);
    await q.query(`ALTER TABLE deployments ADD COLUMN IF NOT EXISTS idempotency_response jsonb`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE deployments DROP COLUMN IF EXISTS idempotency_response`);
    await q.query(`ALTER TABLE deployments DROP COLUMN IF EXISTS idempotency_fingerprint`);
    await q.query(`ALTER TABLE oidc_logins DROP COLUMN IF EXISTS binder_hash`);
    await q.query(`ALTER TABLE refresh_tokens DROP COLUMN IF EXISTS successor_enc`);
  }
}
