import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * domains: the names an application answers on through the reverse proxy (Traefik). `host` is the validated,
 * lower-case punycode form; `options` holds the rest of the validated domain spec without secrets; `basic_auth`
 * holds `[{ username, passwordHash }]` with bcrypt hashes only (never returned by the API, never in the audit log).
 * Across the install one (host, path_prefix) has one holder; the API also refuses a host another organization uses.
 * Rows go with their application (ON DELETE CASCADE). Additive and idempotent (IF NOT EXISTS): safe while an older
 * version still runs, which ignores the table.
 */
export class Domains1764100015000 implements MigrationInterface {
  name = 'Domains1764100015000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE IF NOT EXISTS domains (
        id uuid PRIMARY KEY,
        organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
        project_id uuid NOT NULL,
        environment_id uuid NOT NULL,
        application_id uuid NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
        host text NOT NULL CHECK (host = lower(host) AND length(host) BETWEEN 1 AND 253),
        path_prefix text NOT NULL DEFAULT '/' CHECK (path_prefix LIKE '/%' AND length(path_prefix) <= 256),
        options jsonb NOT NULL DEFAULT '{}'::jsonb,
        basic_auth jsonb NOT NULL DEFAULT '[]'::jsonb,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        version integer NOT NULL DEFAULT 1
      )`);
    await q.query(`CREATE UNIQUE INDEX IF NOT EXISTS ux_domains_host_path ON domains (host, path_prefix)`);
    await q.query(`CREATE INDEX IF NOT EXISTS ix_domains_application ON domains (application_id, created_at)`);
    await q.query(`CREATE INDEX IF NOT EXISTS ix_domains_organization ON domains (organization_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS domains`);
  }
}
