import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * GitLab connections through an OAuth application (settings.auth = 'oauth', client id in settings, client secret in
 * the secrets box):
 *  - git_providers.oauth_*: the tokens of the last authorization (one SecretBox of { accessToken, refreshToken }), when
 *    the access token expires, who authorized it at the provider, and the status ('authorized' or
 *    'needs-reauthorization', NULL before the first authorization) with the last refresh error.
 *  - git_provider_oauth_states: pending authorizations (state hashed, PKCE verifier encrypted, bound to the caller and
 *    the browser's binding cookie), single use, 10 minutes.
 * Additive and idempotent: an older version ignores the columns and the table.
 */
export class GitProviderOAuth1764100023000 implements MigrationInterface {
  name = 'GitProviderOAuth1764100023000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE git_providers ADD COLUMN IF NOT EXISTS oauth_box text`);
    await q.query(`ALTER TABLE git_providers ADD COLUMN IF NOT EXISTS oauth_status text CHECK (oauth_status IN ('authorized', 'needs-reauthorization'))`);
    await q.query(`ALTER TABLE git_providers ADD COLUMN IF NOT EXISTS oauth_expires_at timestamptz`);
    await q.query(`ALTER TABLE git_providers ADD COLUMN IF NOT EXISTS oauth_username text`);
    await q.query(`ALTER TABLE git_providers ADD COLUMN IF NOT EXISTS oauth_authorized_at timestamptz`);
    await q.query(`ALTER TABLE git_providers ADD COLUMN IF NOT EXISTS oauth_error text`);
    await q.query(`
      CREATE TABLE IF NOT EXISTS git_provider_oauth_states (
        state_hash text PRIMARY KEY,
        provider_id uuid NOT NULL REFERENCES git_providers(id) ON DELETE CASCADE,
        organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
        actor jsonb NOT NULL,
        binder_hash text NOT NULL,
        code_verifier_enc text NOT NULL,
        expires_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX IF NOT EXISTS ix_git_provider_oauth_states_expires ON git_provider_oauth_states (expires_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS git_provider_oauth_states`);
    for (const c of ['oauth_box', 'oauth_status', 'oauth_expires_at', 'oauth_username', 'oauth_authorized_at', 'oauth_error']) await q.query(`ALTER TABLE git_providers DROP COLUMN IF EXISTS ${c}`);
  }
}
