import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * teardowns: the progress of one `engine.teardown` (a deleted organization, project or environment whose Swarm
 * services, networks and volumes the worker removes), written when it is enqueued and updated by the worker, so the
 * portal can show it. No foreign keys: the subject (and, for an organization, the organization) is already gone.
 * Additive and idempotent (IF NOT EXISTS): safe while an older version still runs, which ignores the table.
 */
export class Teardowns1764100014000 implements MigrationInterface {
  name = 'Teardowns1764100014000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE IF NOT EXISTS teardowns (
        id uuid PRIMARY KEY,
        organization_id uuid NOT NULL,
        project_id uuid,
        scope text NOT NULL CHECK (scope IN ('organization', 'project', 'environment')),
        subject_id uuid NOT NULL,
        subject_name text NOT NULL DEFAULT '',
        status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
        remove_volumes boolean NOT NULL DEFAULT false,
        removed_services jsonb NOT NULL DEFAULT '[]'::jsonb,
        removed_networks jsonb NOT NULL DEFAULT '[]'::jsonb,
        removed_volumes jsonb NOT NULL DEFAULT '[]'::jsonb,
        attempts integer NOT NULL DEFAULT 0,
        error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE UNIQUE INDEX IF NOT EXISTS ux_teardowns_subject ON teardowns (scope, subject_id)`);
    await q.query(`CREATE INDEX IF NOT EXISTS ix_teardowns_org_time ON teardowns (organization_id, created_at DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS teardowns`);
  }
}
