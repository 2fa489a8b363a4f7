import { MigrationInterface, QueryRunner } from 'typeorm';

/** Projects, environments and their variables (secret values encrypted at rest). */
export class Projects1764100004000 implements MigrationInterface {
  name = 'Projects1764100004000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE projects (
      id uuid PRIMARY KEY,
      organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
      slug text NOT NULL CHECK (slug ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
      description text NOT NULL DEFAULT '',
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      version int NOT NULL DEFAULT 1
    )`);
    await q.query(`CREATE UNIQUE INDEX ux_projects_slug ON projects (organization_id, slug)`);
    await q.query(`CREATE INDEX ix_projects_name ON projects (organization_id, name, id)`);
    await q.query(`CREATE TABLE environments (
      id uuid PRIMARY KEY,
      organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      project_id uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
      name text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
      slug text NOT NULL CHECK (slug ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      version int NOT NULL DEFAULT 1
    )`);
    await q.query(`CREATE UNIQUE INDEX ux_environments_slug ON environments (project_id, slug)`);
    await q.query(`CREATE INDEX ix_environments_org ON environments (organization_id)`);
    await q.query(`CREATE TABLE variables (
      id uuid PRIMARY KEY,
      organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      project_id uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
      environment_id uuid REFERENCES environments(id) ON DELETE CASCADE,
      key text NOT NULL CHECK (key ~ '^[A-Za-z_][A-Za-z0-9_]{0,127}$'),
      value text,
      value_encrypted text,
      secret boolean NOT NULL DEFAULT false,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      version int NOT NULL DEFAULT 1,
      CONSTRAINT ck_variables_secret CHECK (
        (secret AND value IS NULL AND value_encrypted IS NOT NULL) OR (NOT secret AND value IS NOT NULL AND value_encrypted IS NULL)
      )
    )`);
    await q.query(`CREATE UNIQUE INDEX ux_variables_project_key ON variables (project_id, key) WHERE environment_id IS NULL`);
    await q.query(`CREATE UNIQUE INDEX ux_variables_environment_key ON variables (environment_id, key) WHERE environment_id IS NOT NULL`);
    await q.query(`CREATE INDEX ix_variables_org ON variables (organization_id)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE IF EXISTS variables');
    await q.query('DROP TABLE IF EXISTS environments');
    await q.query('DROP TABLE IF EXISTS projects');
  }
}
