import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Engine resources become tenant-owned (expand only; old code keeps working on this schema):
 * - `applications.legacy_volumes`: the named volumes each existing application already mounts. They keep their
 *   verbatim engine name so their data stays where it is; every other named volume gets a derived engine name
 *   (install, environment, name) and Wharf's labels. See README, "Named volumes".
 * - `port_reservations`: published host ports, unique per server and protocol, held by one application. Existing
 *   applications are entered oldest first; when two already claim one port, the older keeps it (the newer one could
 *   never have converged on that port anyway) and must change its port before its spec can be saved again.
 */
export class TenantEngineResources1764100009000 implements MigrationInterface {
  name = 'TenantEngineResources1764100009000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE applications ADD COLUMN IF NOT EXISTS legacy_volumes jsonb NOT NULL DEFAULT '[]'::jsonb`);
    await q.query(`
      UPDATE applications a SET legacy_volumes = v.names
        FROM (SELECT x.id, jsonb_agg(DISTINCT m->>'source') AS names
                FROM applications x, jsonb_array_elements(COALESCE(x.spec->'mounts', '[]'::jsonb)) m
               WHERE m->>'type' = 'volume' AND COALESCE(m->>'source', '') <> ''
               GROUP BY x.id) v
       WHERE a.id = v.id`);
    await q.query(`CREATE TABLE IF NOT EXISTS port_reservations (
      server_id uuid NOT NULL REFERENCES servers(id) ON DELETE CASCADE,
      protocol text NOT NULL CHECK (protocol IN ('tcp', 'udp')),
      port int NOT NULL CHECK (port BETWEEN 1 AND 65535),
      application_id uuid NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
      organization_id uuid NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (server_id, protocol, port)
    )`);
    await q.query(`CREATE INDEX IF NOT EXISTS port_reservations_application ON port_reservations (application_id)`);
    await q.query(`
      INSERT INTO port_reservations (server_id, protocol, port, application_id, organization_id)
      SELECT a.server_id, COALESCE(p->>'protocol', 'tcp'), (p->>'published')::int, a.id, a.organization_id
        FROM applications a, jsonb_array_elements(COALESCE(a.spec->'ports', '[]'::jsonb)) p
       WHERE jsonb_typeof(p->'published') = 'number' AND (p->>'published')::int BETWEEN 1 AND 65535
       ORDER BY a.created_at, a.id
      ON CONFLICT DO NOTHING`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS port_reservations`);
    await q.query(`ALTER TABLE applications DROP COLUMN IF EXISTS legacy_volumes`);
  }
}
