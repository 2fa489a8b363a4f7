import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Preview deployments of pull/merge requests.
 *  - application_preview_settings: one row per application that has preview settings — enabled, the wildcard domain
 *    previews get their host under (`*.preview.example.com` → `pr-<n>-<app>.preview.example.com`), the container port
 *    and HTTPS of that host, environment overrides (secret values encrypted) and the most previews at once.
 *  - application_previews: one row per open pull request of an application (unique per application and number): its
 *    head, whether it awaits an approval (a fork, or an author without write access) and the commit that was approved,
 *    and the child application that runs it.
 *  - applications.preview_of: a preview is a child application in the parent's environment (the whole deployment
 *    pipeline, its domain, logs and durable deletion are the usual ones); listings leave such children out.
 * Additive and idempotent: an older version ignores the new tables and column (it would list previews as applications).
 */
export class PreviewDeployments1764100020000 implements MigrationInterface {
  name = 'PreviewDeployments1764100020000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE applications ADD COLUMN IF NOT EXISTS preview_of uuid`);
    await q.query(`CREATE INDEX IF NOT EXISTS ix_applications_preview_of ON applications (preview_of) WHERE preview_of IS NOT NULL`);
    await q.query(`
      CREATE TABLE IF NOT EXISTS application_preview_settings (
        application_id uuid PRIMARY KEY REFERENCES applications(id) ON DELETE CASCADE,
        organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
        enabled boolean NOT NULL DEFAULT false,
        domain text CHECK (domain IS NULL OR length(domain) <= 253),
        port integer CHECK (port IS NULL OR port BETWEEN 1 AND 65535),
        https boolean NOT NULL DEFAULT true,
        env jsonb NOT NULL DEFAULT '[]'::jsonb,
        max_previews integer NOT NULL DEFAULT 5 CHECK (max_previews BETWEEN 1 AND 50),
        updated_at timestamptz NOT NULL DEFAULT now(),
        version integer NOT NULL DEFAULT 1
      )`);
    await q.query(`
      CREATE TABLE IF NOT EXISTS application_previews (
        id uuid PRIMARY KEY,
        parent_id uuid NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
        organization_id uuid NOT NULL,
        project_id uuid NOT NULL,
        environment_id uuid NOT NULL,
        number integer NOT NULL CHECK (number > 0),
        provider text NOT NULL,
        state text NOT NULL CHECK (state IN ('awaiting-approval', 'active')),
        head_ref text NOT NULL,
        head_sha text NOT NULL,
        approved_sha text,
        deployed_sha text,
        from_fork boolean NOT NULL DEFAULT false,
        author text,
        author_association text,
        title text,
        application_id uuid,
        deployment_id uuid,
        reported_deployment_id uuid,
        host text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        version integer NOT NULL DEFAULT 1
      )`);
    await q.query(`CREATE UNIQUE INDEX IF NOT EXISTS ux_application_previews_number ON application_previews (parent_id, number)`);
    await q.query(`CREATE INDEX IF NOT EXISTS ix_application_previews_child ON application_previews (application_id) WHERE application_id IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS application_previews`);
    await q.query(`DROP TABLE IF EXISTS application_preview_settings`);
    await q.query(`DROP INDEX IF EXISTS ix_applications_preview_of`);
    await q.query(`ALTER TABLE applications DROP COLUMN IF EXISTS preview_of`);
  }
}
