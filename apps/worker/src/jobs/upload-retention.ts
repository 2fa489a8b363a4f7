import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { JobHandler, WHARF_CONFIG, WharfConfig } from '@wharf/core';

/**
 * Retention of uploaded source archives (sources.purge-uploads). An upload is kept while its application's source
 * builds it, while one of the application's newest WHARF_UPLOADS_KEEP deployments names it (a redeploy of those can
 * still build it; rollbacks reuse the built image anyway), and while a queued or running deployment names it. Others
 * go with their chunks. An upload still `receiving` after a day was abandoned (its API process died mid-request).
 */
@Injectable()
export class UploadRetention {
  constructor(private readonly ds: DataSource, @Inject(WHARF_CONFIG) private readonly config: WharfConfig) {}

  @JobHandler('sources.purge-uploads')
  async purge(): Promise<{ deleted: number }> {
    const abandoned = await this.ds.query(`DELETE FROM source_uploads WHERE status = 'receiving' AND created_at < now() - interval '1 day'`);
    const old = await this.ds.query(
      `DELETE FROM source_uploads u
        WHERE u.status = 'complete'
          AND u.completed_at < now() - interval '10 minutes'
          AND NOT EXISTS (SELECT 1 FROM application_sources s WHERE s.upload_id = u.id)
          AND NOT EXISTS (
            SELECT 1 FROM (
              SELECT d.status, d.snapshot, row_number() OVER (ORDER BY d.queued_at DESC, d.id DESC) AS n
                FROM deployments d WHERE d.application_id = u.application_id
            ) recent
            WHERE (recent.n <= $1 OR recent.status IN ('queued', 'running'))
              AND recent.snapshot->'source'->'upload'->>'id' = u.id::text
          )`,
      [this.config.sources.uploads.keep],
    );
    return { deleted: Number(abandoned[1] ?? 0) + Number(old[1] ?? 0) };
  }
}
