import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * OIDC sign-in: which external identity (provider + subject) belongs to which Wharf user, and the user a signed-in
 * start wants to link (set only when the start request carried a session). Additive only (expand).
 */
export class Oidc1764100003000 implements MigrationInterface {
  name = 'Oidc1764100003000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE IF NOT EXISTS oidc_identities (
      provider_id uuid NOT NULL REFERENCES oidc_providers(id) ON DELETE CASCADE,
      subject text NOT NULL,
      user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      email text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      last_login_at timestamptz,
      PRIMARY KEY (provider_id, subject)
    )`);
    await q.query(`CREATE INDEX IF NOT EXISTS ix_oidc_identities_user ON oidc_identities (user_id)`);
    await q.query(`ALTER TABLE oidc_logins ADD COLUMN IF NOT EXISTS link_user_id uuid REFERENCES users(id) ON DELETE CASCADE`);
    await q.query(`ALTER TABLE oidc_logins ADD COLUMN IF NOT EXISTS created_at timestamptz NOT NULL DEFAULT now()`);
    await q.query(`CREATE INDEX IF NOT EXISTS ix_oidc_logins_expires ON oidc_logins (expires_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX IF EXISTS ix_oidc_logins_expires`);
    await q.query(`ALTER TABLE oidc_logins DROP COLUMN IF EXISTS created_at`);
    await q.query(`ALTER TABLE oidc_logins DROP COLUMN IF EXISTS link_user_id`);
    await q.query(`DROP TABLE IF EXISTS oidc_identities`);
  }
}
