import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Tag deploys: `application_sources.deploy_tags` holds the globs of tag names whose push deploys that tag's commit
 * (`v*`); empty (the default for existing rows) keeps tags from deploying, as before. Additive and idempotent: an older
 * version still running ignores the column.
 */
export class SourceDeployTags1764100022000 implements MigrationInterface {
  name = 'SourceDeployTags1764100022000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE application_sources ADD COLUMN IF NOT EXISTS deploy_tags text[] NOT NULL DEFAULT '{}'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE application_sources DROP COLUMN IF EXISTS deploy_tags`);
  }
}
