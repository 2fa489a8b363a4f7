import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { SourceUploadEntity, type UploadRef } from '@wharf/applications';
import { WHARF_CONFIG, WharfConfig } from '@wharf/core';
import { ArchiveRefusedError, extractArchive, type ArchiveSummary } from '@wharf/sources';

/** Why an uploaded archive could not be built: a stable reason for the deployment's error. */
export class UploadSourceError extends Error {
  constructor(readonly reason: string, message: string) {
    super(message);
  }
}

/**
 * The `source` step of an upload source: the archive the deployment's snapshot names is read from PostgreSQL chunk by
 * chunk into `archiveFile` (mode 0600, in the deployment's private work directory), its size and sha256 compared with
 * what the upload recorded, then extracted into `dir` under the archive rules of @wharf/sources (refused whole on any
 * violation: nothing is written outside `dir`). Only the snapshot's organization's and application's upload is read.
 */
@Injectable()
export class UploadSource {
  constructor(private readonly ds: DataSource, @Inject(WHARF_CONFIG) private readonly config: WharfConfig) {}

  async extract(up: UploadRef, owner: { organizationId: string; applicationId: string }, archiveFile: string, dir: string, signal: AbortSignal): Promise<ArchiveSummary> {
    const row = await this.ds.manager.findOneBy(SourceUploadEntity, { id: up.id, organizationId: owner.organizationId, applicationId: owner.applicationId, status: 'complete' });
    if (!row) throw new UploadSourceError('upload-missing', `The uploaded archive ${up.fileName} is no longer stored (older uploads are pruned); upload it again`);
    if (row.sha256 !== up.sha256) throw new UploadSourceError('upload-mismatch', 'The stored archive is not the one this deployment names');
    const hash = createHash('sha256');
    let size = 0;
    const out = createWriteStream(archiveFile, { flags: 'wx', mode: 0o600 });
    try {
      for (let seq = 0; seq < row.chunks; seq++) {
        if (signal.aborted) throw new UploadSourceError('aborted', 'Cancelled while reading the archive');
        const [chunk] = (await this.ds.query(`SELECT data FROM source_upload_chunks WHERE upload_id = $1 AND seq = $2`, [row.id, seq])) as Array<{ data: Buffer }>;
        if (!chunk) throw new UploadSourceError('upload-mismatch', `The stored archive is incomplete (part ${seq + 1} of ${row.chunks} is missing)`);
        hash.update(chunk.data);
        size += chunk.data.length;
        if (!out.write(chunk.data)) await once(out, 'drain');
      }
    } finally {
      out.end();
      await finished(out).catch(() => undefined);
    }
    if (size !== Number(row.size) || hash.digest('hex') !== row.sha256) throw new UploadSourceError('upload-mismatch', 'The stored archive does not match its recorded size and sha256');
    await mkdir(dir, { mode: 0o700 });
    const u = this.config.sources.uploads;
    try {
      // Cancel and the build deadline stop the extraction between entries too.
      const stop = AbortSignal.any([signal, AbortSignal.timeout(this.config.sources.buildTimeoutMs)]);
      return await extractArchive(archiveFile, row.format, dir, { maxEntries: u.maxEntries, maxExtractedBytes: u.maxExtractedBytes, signal: stop });
    } catch (e) {
      if (e instanceof ArchiveRefusedError) throw new UploadSourceError(e.reason, `The archive ${e.message}`);
      throw e;
    }
  }
}
