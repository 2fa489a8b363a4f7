import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit log: an append-only hash chain per organization (and one for organization_id NULL, the instance chain).
 * Deliberately no foreign key to organizations: entries outlive the organization they describe.
 */
export class Audit1764100002000 implements MigrationInterface {
  name = 'Audit1764100002000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE audit_events (
      id uuid PRIMARY KEY,
      organization_id uuid,
      seq bigint NOT NULL CHECK (seq > 0),
      occurred_at timestamptz NOT NULL,
      actor_type text NOT NULL CHECK (actor_type IN ('user', 'api-key', 'system')),
      actor_id text,
      actor_name text NOT NULL,
      action text NOT NULL,
      subject_type text NOT NULL,
      subject_id text,
      subject_name text,
      outcome text NOT NULL CHECK (outcome IN ('succeeded', 'denied', 'failed')),
      ip text,
      user_agent text,
      request_id text,
      changes jsonb NOT NULL DEFAULT '{}'::jsonb,
      prev_hash text,
      hash text NOT NULL
    )`);
    // One sequence per chain; two partial indexes because NULL organization ids are distinct in a plain unique index.
    await q.query(`CREATE UNIQUE INDEX ux_audit_events_org_seq ON audit_events (organization_id, seq) WHERE organization_id IS NOT NULL`);
    await q.query(`CREATE UNIQUE INDEX ux_audit_events_instance_seq ON audit_events (seq) WHERE organization_id IS NULL`);
    await q.query(`CREATE INDEX ix_audit_events_org_time ON audit_events (organization_id, occurred_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS audit_events`);
  }
}
