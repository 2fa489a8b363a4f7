import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Build secrets of Git sources: `application_sources.build_secrets_box` holds the values (a SecretBox of the JSON object
 * name → value; the names are also in `build.secrets`), null when there are none. The build types (`static`, `auto`,
 * `nixpacks`, …) live in the existing `build` jsonb; rows without the new fields are read as Dockerfile builds.
 * Additive and idempotent: an older version still running ignores the column.
 */
export class BuildSecrets1764100019000 implements MigrationInterface {
  name = 'BuildSecrets1764100019000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE application_sources ADD COLUMN IF NOT EXISTS build_secrets_box text NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE application_sources DROP COLUMN IF EXISTS build_secrets_box`);
  }
}
