import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Git provider connections of an organization (GitHub App, GitLab, Gitea/Forgejo, Bitbucket):
 *  - git_providers: name (unique per organization, case-insensitive), kind, settings that are not secret (base URL,
 *    app id, installation id, Bitbucket username and workspace) and one SecretBox of the secrets (private key, webhook
 *    secret, token) as JSON; `secrets_set` lists which are set (the view shows only that).
 *  - application_sources.provider_id: a source may take its credentials from a connection instead of its own token
 *    (NULL for every existing row: nothing changes for them). Deleting a connection that a source uses is refused.
 * Additive and idempotent: an older version ignores the table and the column.
 */
export class GitProviders1764100021000 implements MigrationInterface {
  name = 'GitProviders1764100021000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE IF NOT EXISTS git_providers (
        id uuid PRIMARY KEY,
        organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
        name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
        kind text NOT NULL CHECK (kind IN ('github', 'gitlab', 'gitea', 'bitbucket')),
        settings jsonb NOT NULL DEFAULT '{}'::jsonb,
        secrets_box text,
        secrets_set text[] NOT NULL DEFAULT '{}',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        version integer NOT NULL DEFAULT 1
      )`);
    await q.query(`CREATE UNIQUE INDEX IF NOT EXISTS ux_git_providers_name ON git_providers (organization_id, lower(name))`);
    await q.query(`ALTER TABLE application_sources ADD COLUMN IF NOT EXISTS provider_id uuid REFERENCES git_providers(id) ON DELETE RESTRICT`);
    await q.query(`CREATE INDEX IF NOT EXISTS ix_application_sources_provider ON application_sources (provider_id) WHERE provider_id IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE application_sources DROP COLUMN IF EXISTS provider_id`);
    await q.query(`DROP TABLE IF EXISTS git_providers`);
  }
}
