import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Certificates of domains, ACME accounts and pending HTTP-01 challenges.
 *  - certificates: one per domain (ACME-issued or uploaded), with the chain in PEM and the private key encrypted by the
 *    instance key (`key_box`, never returned by the API); state of the last attempt (`last_error`, `last_error_reason`)
 *    and when to try again (`next_attempt_at`, backoff and rate limits). Rows go with their domain.
 *  - acme_settings: per organization, the account contact, staging or not, and the challenge (HTTP-01, or DNS-01
 *    through a DNS provider whose configuration, credentials included, is encrypted in `dns_provider_box`).
 *  - acme_accounts: one account per organization and ACME directory; the account key is encrypted.
 *  - acme_challenges: HTTP-01 key authorizations the API answers on `/.well-known/acme-challenge/<token>` while an
 *    order is validated (any API replica can answer: they are in PostgreSQL); removed after the order, or expired.
 * Additive and idempotent (IF NOT EXISTS): safe while an older version still runs, which ignores the tables.
 */
export class Certificates1764100016000 implements MigrationInterface {
  name = 'Certificates1764100016000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE IF NOT EXISTS certificates (
        id uuid PRIMARY KEY,
        organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
        project_id uuid NOT NULL,
        environment_id uuid NOT NULL,
        application_id uuid NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
        domain_id uuid NOT NULL REFERENCES domains(id) ON DELETE CASCADE,
        source text NOT NULL CHECK (source IN ('acme', 'custom')),
        hosts text[] NOT NULL,
        status text NOT NULL CHECK (status IN ('pending', 'valid', 'failed')),
        issuer text,
        serial text,
        not_before timestamptz,
        not_after timestamptz,
        chain_pem text,
        key_box text,
        last_attempt_at timestamptz,
        last_error text,
        last_error_reason text,
        failures integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz,
        expiry_warned_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        version integer NOT NULL DEFAULT 1
      )`);
    await q.query(`CREATE UNIQUE INDEX IF NOT EXISTS ux_certificates_domain ON certificates (domain_id)`);
    await q.query(`CREATE INDEX IF NOT EXISTS ix_certificates_organization ON certificates (organization_id)`);
    await q.query(`CREATE INDEX IF NOT EXISTS ix_certificates_due ON certificates (not_after) WHERE source = 'acme'`);
    await q.query(`
      CREATE TABLE IF NOT EXISTS acme_accounts (
        organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
        directory_url text NOT NULL,
        email text,
        key_box text NOT NULL,
        account_url text,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (organization_id, directory_url)
      )`);
    await q.query(`
      CREATE TABLE IF NOT EXISTS acme_settings (
        organization_id uuid PRIMARY KEY REFERENCES organizations(id) ON DELETE CASCADE,
        email text,
        staging boolean NOT NULL DEFAULT false,
        challenge text NOT NULL DEFAULT 'http-01' CHECK (challenge IN ('http-01', 'dns-01')),
        dns_provider_box text,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE IF NOT EXISTS acme_challenges (
        token text PRIMARY KEY CHECK (token ~ '^[A-Za-z0-9_-]+$' AND length(token) <= 256),
        key_authorization text NOT NULL,
        expires_at timestamptz NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS acme_challenges`);
    await q.query(`DROP TABLE IF EXISTS acme_settings`);
    await q.query(`DROP TABLE IF EXISTS acme_accounts`);
    await q.query(`DROP TABLE IF EXISTS certificates`);
  }
}
