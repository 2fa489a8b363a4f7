import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The certificate of Wharf's own host (an https WHARF_PUBLIC_URL behind the edge) and the install's ACME account for it.
 *  - instance_certificates: one row per host Wharf has served (a changed WHARF_PUBLIC_URL starts a new row), ACME-issued
 *    or read from WHARF_TLS_CERT_FILE/WHARF_TLS_KEY_FILE; the key is encrypted (`key_box`), the state of the last
 *    attempt and the backoff as for domains' certificates.
 *  - instance_acme_accounts: the install's account per ACME directory, key encrypted.
 * Additive and idempotent (IF NOT EXISTS): an older version still running ignores both tables.
 */
export class InstanceCertificates1764100017000 implements MigrationInterface {
  name = 'InstanceCertificates1764100017000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE IF NOT EXISTS instance_certificates (
        host text PRIMARY KEY CHECK (length(host) <= 253),
        source text NOT NULL CHECK (source IN ('acme', 'custom')),
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
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE IF NOT EXISTS instance_acme_accounts (
        directory_url text PRIMARY KEY,
        email text,
        key_box text NOT NULL,
        account_url text,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS instance_acme_accounts`);
    await q.query(`DROP TABLE IF EXISTS instance_certificates`);
  }
}
