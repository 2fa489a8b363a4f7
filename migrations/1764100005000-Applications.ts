import { MigrationInterface, QueryRunner } from 'typeorm';

/** Servers, registries, applications, deployments with their logs, and the runtime state the worker observes. */
export class Applications1764100005000 implements MigrationInterface {
  name = 'Applications1764100005000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE organizations ADD COLUMN IF NOT EXISTS container_policy jsonb NOT NULL DEFAULT '{}'`);
    await q.query(`CREATE TABLE servers (
      id uuid PRIMARY KEY,
      organization_id uuid REFERENCES organizations(id) ON DELETE CASCADE,
      name text NOT NULL,
      kind text NOT NULL CHECK (kind IN ('local', 'ssh')),
      capabilities jsonb NOT NULL DEFAULT '{}',
      status text NOT NULL DEFAULT 'unknown',
      status_message text,
      observed_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      version int NOT NULL DEFAULT 1
    )`);
    await q.query(`CREATE UNIQUE INDEX ux_servers_local ON servers ((kind)) WHERE kind = 'local'`);
    await q.query(`CREATE TABLE registries (
      id uuid PRIMARY KEY,
      organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      name text NOT NULL,
      host text NOT NULL,
      username text NOT NULL,
      password_enc text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      version int NOT NULL DEFAULT 1
    )`);
    await q.query(`CREATE UNIQUE INDEX ux_registries_name ON registries (organization_id, lower(name))`);
    await q.query(`CREATE TABLE applications (
      id uuid PRIMARY KEY,
      organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      project_id uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
      environment_id uuid NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
      server_id uuid NOT NULL REFERENCES servers(id) ON DELETE RESTRICT,
      name text NOT NULL,
      slug text NOT NULL,
      service_name text NOT NULL UNIQUE,
      spec jsonb NOT NULL,
      desired_state text NOT NULL DEFAULT 'running' CHECK (desired_state IN ('running', 'stopped')),
      deleting boolean NOT NULL DEFAULT false,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      version int NOT NULL DEFAULT 1
    )`);
    await q.query(`CREATE UNIQUE INDEX ux_applications_slug ON applications (environment_id, slug)`);
    await q.query(`CREATE INDEX ix_applications_org ON applications (organization_id, project_id)`);
    await q.query(`CREATE TABLE application_variables (
      id uuid PRIMARY KEY,
      organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      project_id uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
      application_id uuid NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
      key text NOT NULL CHECK (key ~ '^[A-Za-z_][A-Za-z0-9_]{0,127}$'),
      value text,
      value_encrypted text,
      secret boolean NOT NULL DEFAULT false,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      version int NOT NULL DEFAULT 1,
      UNIQUE (application_id, key),
      CHECK ((secret AND value IS NULL AND value_encrypted IS NOT NULL) OR (NOT secret AND value IS NOT NULL AND value_encrypted IS NULL))
    )`);
    await q.query(`CREATE TABLE deployments (
      id uuid PRIMARY KEY,
      organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      project_id uuid NOT NULL,
      environment_id uuid NOT NULL,
      application_id uuid NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
      kind text NOT NULL,
      status text NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'superseded')),
      snapshot jsonb NOT NULL,
      image_digest text,
      rollback_of uuid,
      requested_by jsonb NOT NULL,
      error text,
      queued_at timestamptz NOT NULL DEFAULT now(),
      started_at timestamptz,
      finished_at timestamptz,
      cancel_requested_at timestamptz,
      lease_owner text,
      lease_expires_at timestamptz,
      attempts int NOT NULL DEFAULT 0,
      idempotency_key text,
      version int NOT NULL DEFAULT 1
    )`);
    await q.query(`CREATE UNIQUE INDEX ux_deployments_idempotency ON deployments (application_id, idempotency_key) WHERE idempotency_key IS NOT NULL`);
    await q.query(`CREATE INDEX ix_deployments_app ON deployments (application_id, queued_at DESC, id DESC)`);
    await q.query(`CREATE INDEX ix_deployments_active ON deployments (status) WHERE status IN ('queued', 'running')`);
    await q.query(`CREATE UNIQUE INDEX ux_deployments_one_running ON deployments (application_id) WHERE status = 'running'`);
    await q.query(`CREATE TABLE deployment_logs (
      deployment_id uuid NOT NULL REFERENCES deployments(id) ON DELETE CASCADE,
      seq bigint GENERATED BY DEFAULT AS IDENTITY,
      time timestamptz NOT NULL DEFAULT clock_timestamp(),
      step text NOT NULL,
      level text NOT NULL,
      message text NOT NULL,
      PRIMARY KEY (deployment_id, seq)
    )`);
    await q.query(`CREATE TABLE application_runtime (
      application_id uuid PRIMARY KEY REFERENCES applications(id) ON DELETE CASCADE,
      organization_id uuid NOT NULL,
      service_id text,
      state text NOT NULL,
      running int NOT NULL DEFAULT 0,
      desired int NOT NULL DEFAULT 0,
      tasks jsonb NOT NULL DEFAULT '[]',
      drift jsonb NOT NULL DEFAULT '[]',
      observed_at timestamptz NOT NULL DEFAULT now()
    )`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['application_runtime', 'deployment_logs', 'deployments', 'application_variables', 'applications', 'registries', 'servers']) {
      await q.query(`DROP TABLE IF EXISTS ${t}`);
    }
    await q.query(`ALTER TABLE organizations DROP COLUMN IF EXISTS container_policy`);
  }
}
