import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Upload sources take zip archives too: `source_uploads.format` may be `zip`. The check constraint is replaced (same
 * name, a superset of the values: rows of an older version still running stay valid). Idempotent.
 */
export class SourceUploadsZip1764100027000 implements MigrationInterface {
  name = 'SourceUploadsZip1764100027000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE source_uploads DROP CONSTRAINT IF EXISTS source_uploads_format_check`);
    await q.query(`ALTER TABLE source_uploads ADD CONSTRAINT source_uploads_format_check CHECK (format IN ('tar.gz', 'tar', 'zip'))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DELETE FROM source_uploads WHERE format = 'zip'`);
    await q.query(`ALTER TABLE source_uploads DROP CONSTRAINT IF EXISTS source_uploads_format_check`);
    await q.query(`ALTER TABLE source_uploads ADD CONSTRAINT source_uploads_format_check CHECK (format IN ('tar.gz', 'tar'))`);
  }
}
