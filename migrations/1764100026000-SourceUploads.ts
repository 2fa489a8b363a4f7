import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Upload sources: an application built from an uploaded source archive instead of a Git repository.
 *  - application_sources.kind: `git` (every existing row) or `upload`; `upload_id`: the archive the next deployment
 *    builds (an upload source's repository and ref are empty).
 *  - source_uploads: one per uploaded archive (file name, format, size, sha256, entry count, who uploaded it, the
 *    Idempotency-Key it came with); `receiving` while its chunks arrive, `complete` once checked. Rows go with their
 *    application; old ones are pruned by the worker (job sources.purge-uploads).
 *  - source_upload_chunks: the archive's bytes in order, at most 1 MiB per row, so neither the API nor a worker on
 *    another host ever holds a whole archive in memory. Stored without TOAST compression (archives are compressed).
 * Additive and idempotent (IF NOT EXISTS): an older version still running ignores the new column and tables.
 */
export class SourceUploads1764100026000 implements MigrationInterface {
  name = 'SourceUploads1764100026000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE IF NOT EXISTS source_uploads (
        id uuid PRIMARY KEY,
        organization_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
        application_id uuid NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
        status text NOT NULL CHECK (status IN ('receiving', 'complete')),
        file_name text NOT NULL CHECK (length(file_name) <= 255),
        format text NOT NULL CHECK (format IN ('tar.gz', 'tar')),
        size bigint NOT NULL DEFAULT 0,
        sha256 text CHECK (sha256 IS NULL OR sha256 ~ '^[0-9a-f]{64}$'),
        entries integer NOT NULL DEFAULT 0,
        chunks integer NOT NULL DEFAULT 0,
        uploaded_by jsonb NOT NULL,
        idempotency_key text,
        idempotency_fingerprint text,
        created_at timestamptz NOT NULL DEFAULT now(),
        completed_at timestamptz
      )`);
    await q.query(`CREATE INDEX IF NOT EXISTS ix_source_uploads_application ON source_uploads (application_id, created_at DESC)`);
    await q.query(`CREATE INDEX IF NOT EXISTS ix_source_uploads_organization ON source_uploads (organization_id)`);
    await q.query(`CREATE UNIQUE INDEX IF NOT EXISTS ux_source_uploads_idempotency ON source_uploads (application_id, idempotency_key) WHERE idempotency_key IS NOT NULL AND status = 'complete'`);
    await q.query(`
      CREATE TABLE IF NOT EXISTS source_upload_chunks (
        upload_id uuid NOT NULL REFERENCES source_uploads(id) ON DELETE CASCADE,
        seq integer NOT NULL,
        data bytea NOT NULL,
        PRIMARY KEY (upload_id, seq)
      )`);
    await q.query(`ALTER TABLE source_upload_chunks ALTER COLUMN data SET STORAGE EXTERNAL`);
    await q.query(`ALTER TABLE application_sources ADD COLUMN IF NOT EXISTS kind text NOT NULL DEFAULT 'git'`);
    await q.query(`ALTER TABLE application_sources ADD COLUMN IF NOT EXISTS upload_id uuid REFERENCES source_uploads(id) ON DELETE SET NULL`);
    await q.query(`DO $$ BEGIN
      ALTER TABLE application_sources ADD CONSTRAINT ck_application_sources_kind CHECK (kind IN ('git', 'upload'));
    EXCEPTION WHEN duplicate_object THEN NULL; END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE application_sources DROP CONSTRAINT IF EXISTS ck_application_sources_kind`);
    await q.query(`ALTER TABLE application_sources DROP COLUMN IF EXISTS upload_id`);
    await q.query(`ALTER TABLE application_sources DROP COLUMN IF EXISTS kind`);
    await q.query(`DROP TABLE IF EXISTS source_upload_chunks`);
    await q.query(`DROP TABLE IF EXISTS source_uploads`);
  }
}
