import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Where an application's code comes from (a Git repository), and the webhook deliveries that ask to deploy it.
 *  - application_sources: one per application with a Git source — repository, ref, build path, watch paths,
 *    submodules, how Wharf authenticates (none, a token encrypted in `token_box`, or the application's ed25519 deploy
 *    key: public half in clear, private half encrypted in `deploy_key_box`, and the SSH host keys the server must
 *    present, `known_hosts`), the build settings, and the secret its
 *    webhooks are signed with (encrypted). Rows go with their application.
 *  - webhook_deliveries: every delivery received for an application (accepted, ignored with the reason, rejected),
 *    unique per (application, provider, delivery id) so a replay is recognised and processed once.
 *  - deployments.source: the commit a deployment built (repository, ref, commit, message, author).
 * Additive and idempotent (IF NOT EXISTS): an older version still running ignores both tables.
 */
export class ApplicationSources1764100018000 implements MigrationInterface {
  name = 'ApplicationSources1764100018000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE IF NOT EXISTS application_sources (
        application_id uuid PRIMARY KEY REFERENCES applications(id) ON DELETE CASCADE,
        organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
        project_id uuid NOT NULL,
        environment_id uuid NOT NULL,
        repository text NOT NULL CHECK (length(repository) <= 2048),
        ref text NOT NULL CHECK (length(ref) <= 255),
        build_path text NOT NULL DEFAULT '.',
        watch_paths text[] NOT NULL DEFAULT '{}',
        submodules boolean NOT NULL DEFAULT false,
        auth_kind text NOT NULL CHECK (auth_kind IN ('none', 'token', 'deploy-key')),
        auth_username text,
        token_box text,
        deploy_key_public text,
        deploy_key_box text,
        known_hosts text[] NOT NULL DEFAULT '{}',
        build jsonb NOT NULL,
        webhook_secret_box text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        version integer NOT NULL DEFAULT 1
      )`);
    await q.query(`CREATE INDEX IF NOT EXISTS ix_application_sources_organization ON application_sources (organization_id)`);
    // What a deployment built from: repository, ref, commit, message, author (null for image deployments).
    await q.query(`ALTER TABLE deployments ADD COLUMN IF NOT EXISTS source jsonb`);
    await q.query(`
      CREATE TABLE IF NOT EXISTS webhook_deliveries (
        id uuid PRIMARY KEY,
        application_id uuid NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
        organization_id uuid NOT NULL,
        project_id uuid NOT NULL,
        environment_id uuid NOT NULL,
        provider text NOT NULL,
        delivery_id text NOT NULL,
        event text,
        outcome text NOT NULL CHECK (outcome IN ('accepted', 'ignored', 'rejected')),
        reason text,
        ref text,
        commit text,
        deployment_id uuid,
        received_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX IF NOT EXISTS ux_webhook_deliveries ON webhook_deliveries (application_id, provider, delivery_id)`);
    await q.query(`CREATE INDEX IF NOT EXISTS ix_webhook_deliveries_recent ON webhook_deliveries (application_id, received_at DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS webhook_deliveries`);
    await q.query(`DROP TABLE IF EXISTS application_sources`);
    await q.query(`ALTER TABLE deployments DROP COLUMN IF EXISTS source`);
  }
}
