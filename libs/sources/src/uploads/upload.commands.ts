/**
 * Upload sources: an application built from an uploaded source archive (tar.gz, tar or zip) instead of a Git repository.
 * `UploadSourceCommand` receives the archive as a stream (the request body, never buffered whole): it is stored in
 * PostgreSQL in 1 MiB chunks (where the API and a worker on any host can read it), hashed (sha256) and checked entry
 * by entry with the rules of ./archive while it arrives (a zip, whose directory is at its end, right after); a refused, oversized or interrupted upload leaves nothing
 * behind. A complete one becomes the source's archive (the next deployment builds it), in one audited transaction
 * (the entry records its name, size and sha256, never its content). The worker extracts it again under the same rules.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { PassThrough, Readable } from 'node:stream';
import { Command, CommandBus, CommandHandler, ICommandHandler } from '@nestjs/cqrs';
import { DataSource } from 'typeorm';
import { randomBytes } from 'node:crypto';
import { normaliseBuildSettings, sniffUploadFormat, UPLOAD_CONTENT_TYPES, uploadFileName, type UploadFormat } from '@wharf/contracts';
import { ConflictError, DomainError, newId, SecretBox, sha256, TransactionRunner, UnprocessableError, WHARF_CONFIG, WharfConfig, checkVersion } from '@wharf/core';
import { actorOf, Principal, TenantScope } from '@wharf/tenancy';
import {
  ApplicationEntity, ApplicationSourceEntity, DeploymentView, RequestDeploymentCommand, SourceUploadEntity, UPLOAD_CHUNK_BYTES, webhookSecretAad,
} from '@wharf/applications';
import { Inject } from '@nestjs/common';
import { ApplicationSourceView, sourceView } from '../commands/source.commands';
import { SourceUploadView, uploadView } from './upload-view';
import { ArchiveRefusedError, walkArchive, walkZip, type ZipSource } from './archive';

export class PayloadTooLargeError extends DomainError {
  readonly status = 413;
  constructor(message: string) {
    super('payload-too-large', message);
  }
}
export class UnsupportedMediaTypeError extends DomainError {
  readonly status = 415;
  constructor(message: string) {
    super('unsupported-media-type', message);
  }
}
/** 400 naming why the archive was refused (`errors[0].code`: the rule, e.g. `path-traversal`). */
export class ArchiveRefusedProblem extends DomainError {
  readonly status = 400;
  constructor(e: ArchiveRefusedError) {
    super('archive-refused', `The archive ${e.message}`, [{ pointer: '', code: e.reason, detail: `The archive ${e.message}` }]);
  }
}

export interface UploadSourceResult {
  source: ApplicationSourceView;
  upload: SourceUploadView;
  /** With `deploy=true`: the deployment queued for it. */
  deployment: DeploymentView | null;
}

export interface UploadRequestMeta {
  contentType: string | undefined;
  contentLength: string | undefined;
  fileName: string | undefined;
  expectedVersion?: number;
  idempotencyKey?: string;
  deploy: boolean;
}

export class UploadSourceCommand extends Command<UploadSourceResult> {
  constructor(readonly principal: Principal, readonly applicationId: string, readonly body: Readable, readonly meta: UploadRequestMeta) {
    super();
  }
}

const subjectOf = (a: ApplicationEntity) => ({ type: 'application', id: a.id, name: a.name });
const ACCEPTED = Object.keys(UPLOAD_CONTENT_TYPES).join(', ');
/** How much of a refused body is still read (and dropped) so the client gets the answer: past this, the connection is cut. */
const DRAIN_SLACK_BYTES = 64 * 1024 * 1024;

@CommandHandler(UploadSourceCommand)
export class UploadSourceHandler implements ICommandHandler<UploadSourceCommand> {
  constructor(
    private readonly ds: DataSource, private readonly tx: TransactionRunner, private readonly scope: TenantScope, private readonly box: SecretBox,
    private readonly commands: CommandBus, @Inject(WHARF_CONFIG) private readonly config: WharfConfig,
  ) {}

  async execute({ principal: p, applicationId, body, meta }: UploadSourceCommand): Promise<UploadSourceResult> {
    // Who may, first (another organization's application is a 404, a viewer's attempt a 403): before a byte is read.
    await this.scope.findOne(p, ApplicationEntity, 'application', applicationId, 'update');
    if (meta.deploy) await this.scope.findOne(p, ApplicationEntity, 'application', applicationId, 'deploy');
    const app0 = await this.scope.findOne(p, ApplicationEntity, 'application', applicationId);
    if (app0.deleting) throw new ConflictError('The application is being deleted', 'application-deleting');
    const mediaType = (meta.contentType ?? '').split(';')[0].trim().toLowerCase();
    const format = UPLOAD_CONTENT_TYPES[mediaType];
    if (!format) throw new UnsupportedMediaTypeError(`Send the archive as the request body with Content-Type ${ACCEPTED} (got ${mediaType ? JSON.stringify(mediaType.slice(0, 100)) : 'none'})`);
    const max = this.config.sources.uploads.maxBytes;
    const declared = meta.contentLength !== undefined ? Number(meta.contentLength) : NaN;
    if (Number.isFinite(declared) && declared > max) throw new PayloadTooLargeError(`The archive is larger than ${max / 1024 / 1024} MiB (WHARF_UPLOAD_MAX_MB)`);
    const existing = await this.ds.manager.findOneBy(ApplicationSourceEntity, { applicationId: app0.id });
    this.checkSource(existing, meta.expectedVersion);

    const id = newId();
    await this.ds.query(
      `INSERT INTO source_uploads (id, organization_id, application_id, status, file_name, format, uploaded_by) VALUES ($1, $2, $3, 'receiving', $4, $5, $6)`,
      [id, app0.organizationId, app0.id, uploadFileName(meta.fileName, format), format, JSON.stringify(actorOf(p))],
    );
    let completed = false;
    try {
      const received = await this.receive(id, body, format, max);
      const result = await this.complete(p, applicationId, id, received, meta);
      completed = result.kept;
      const deployment = meta.deploy
        ? await this.commands.execute(new RequestDeploymentCommand(p, applicationId, { kind: 'deploy', ...(meta.idempotencyKey ? { idempotencyKey: `upload:${meta.idempotencyKey}` } : {}) }))
        : null;
      return { source: result.source, upload: result.upload, deployment };
    } finally {
      if (!completed) await this.ds.query(`DELETE FROM source_uploads WHERE id = $1 AND status = 'receiving'`, [id]).catch(() => undefined);
    }
  }

  /** A Git source is not replaced by an upload behind its owner's back; If-Match applies to an existing source. */
  private checkSource(s: ApplicationSourceEntity | null, expectedVersion: number | undefined): void {
    if (s && s.kind !== 'upload') {
      throw new ConflictError('The application builds from a Git repository: set its source to an upload first (PUT …/source with kind "upload"), or remove the Git source', 'source-not-upload');
    }
    if (s) checkVersion(s.version, expectedVersion);
  }

  /**
   * Reads the body once: 1 MiB chunks into PostgreSQL (one row each, awaited: the client is slowed to the database's
   * pace instead of buffering), the sha256, and the entry checks on a copy of the stream.
   */
  private async receive(id: string, body: Readable, format: UploadFormat, max: number): Promise<{ size: number; sha256: string; chunks: number; entries: number }> {
    const hash = createHash('sha256');
    const inspect = new PassThrough();
    const limits = { maxEntries: this.config.sources.uploads.maxEntries, maxExtractedBytes: this.config.sources.uploads.maxExtractedBytes };
    // A tar is checked while it arrives; a zip (its directory is at the end) once stored, reading the chunks back.
    const walked = format === 'zip' ? Promise.resolve(null) : walkArchive(inspect, format, limits);
    // Set as soon as the checks refuse the archive: the loop below stops feeding them.
    let refusal: unknown = null;
    walked.catch((e: unknown) => (refusal = e));
    const insert = (seq: number, data: Buffer) => this.ds.query(`INSERT INTO source_upload_chunks (upload_id, seq, data) VALUES ($1, $2, $3)`, [id, seq, data]);
    let size = 0;
    let seq = 0;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let head = Buffer.alloc(0);
    // A failure does not end the loop (that would destroy the request, and the client would see a reset instead of
    // the answer): the rest of the body is read and dropped, up to a bound past the size limit.
    let failure: unknown = null;
    for await (const raw of body) {
      const chunk = Buffer.isBuffer(raw) ? raw : Buffer.from(raw as Uint8Array);
      size += chunk.length;
      if (failure) {
        if (size > max + DRAIN_SLACK_BYTES) break;
        continue;
      }
      try {
        if (size > max) throw new PayloadTooLargeError(`The archive is larger than ${max / 1024 / 1024} MiB (WHARF_UPLOAD_MAX_MB)`);
        if (head.length < 512) {
          head = Buffer.concat([head, chunk.subarray(0, 512 - head.length)]);
          if (head.length >= 512) this.checkMagic(head, format);
        }
        hash.update(chunk);
        if (refusal) throw refusal;
        if (format !== 'zip' && !inspect.write(chunk)) await Promise.race([once(inspect, 'drain').catch(() => undefined), walked.catch(() => undefined)]);
        if (refusal) throw refusal;
        pending.push(chunk);
        pendingBytes += chunk.length;
        while (pendingBytes >= UPLOAD_CHUNK_BYTES) {
          const all = Buffer.concat(pending, pendingBytes);
          pending = [all.subarray(UPLOAD_CHUNK_BYTES)];
          pendingBytes = all.length - UPLOAD_CHUNK_BYTES;
          await insert(seq++, all.subarray(0, UPLOAD_CHUNK_BYTES));
        }
      } catch (e) {
        failure = e;
        inspect.destroy();
      }
    }
    const refused = (e: unknown) => (e instanceof ArchiveRefusedError ? new ArchiveRefusedProblem(e) : e);
    if (failure) throw refused(failure);
    if (size === 0) throw new ArchiveRefusedProblem(new ArchiveRefusedError('not-an-archive', 'is empty (the request had no body)'));
    if (head.length < 512) this.checkMagic(head, format);
    if (pendingBytes > 0) await insert(seq++, Buffer.concat(pending, pendingBytes));
    inspect.end();
    const summary = await (format === 'zip' ? walkZip(this.storedChunks(id, size), limits) : walked).catch((e: unknown) => {
      throw refused(e);
    });
    return { size, sha256: hash.digest('hex'), chunks: seq, entries: summary!.entries };
  }

  /** Random access to an upload's stored bytes (1 MiB rows; only the last one shorter), for reading a zip back. */
  private storedChunks(id: string, size: number): ZipSource {
    const ds = this.ds;
    return {
      size,
      read: (start, end) => Readable.from((async function* () {
        let pos = start;
        while (pos < end) {
          const seq = Math.floor(pos / UPLOAD_CHUNK_BYTES);
          const [row] = (await ds.query(`SELECT data FROM source_upload_chunks WHERE upload_id = $1 AND seq = $2`, [id, seq])) as Array<{ data: Buffer }>;
          if (!row) throw new Error(`part ${seq} of the upload is missing`);
          const off = pos - seq * UPLOAD_CHUNK_BYTES;
          const piece = row.data.subarray(off, Math.min(row.data.length, off + (end - pos)));
          if (piece.length === 0) throw new Error('read past the end of the upload');
          pos += piece.length;
          yield piece;
        }
      })()),
    };
  }

  /** The first bytes must be what the Content-Type announced (a gzip stream, or a tar header). */
  private checkMagic(head: Buffer, format: UploadFormat): void {
    const seen = sniffUploadFormat(head);
    if (seen === format) return;
    const what = { 'tar.gz': 'a gzip-compressed tar archive (application/gzip)', tar: 'a tar archive (application/x-tar)', zip: 'a zip archive (application/zip)' }[format];
    const actually = { tar: 'an uncompressed tar (send application/x-tar)', 'tar.gz': 'gzip-compressed (send application/gzip)', zip: 'a zip archive (send application/zip)' };
    const detail = seen ? `is ${actually[seen]}, not ${what}` : `is not ${what}`;
    throw new ArchiveRefusedProblem(new ArchiveRefusedError('not-an-archive', detail));
  }

  /**
   * Makes the received archive the source's one (creating an upload source when the application has none), in one
   * transaction with its audit entry. A repeat of the same request (Idempotency-Key, same bytes) answers the first
   * upload's result and drops the copy; the same key with other bytes is a 422.
   */
  private async complete(p: Principal, applicationId: string, id: string, r: { size: number; sha256: string; chunks: number; entries: number }, meta: UploadRequestMeta): Promise<{ source: ApplicationSourceView; upload: SourceUploadView; kept: boolean }> {
    const fingerprint = meta.idempotencyKey ? sha256(JSON.stringify(['POST /applications/:id/source/upload', applicationId, r.sha256, meta.deploy, p.apiKeyId ?? p.userId])) : null;
    const out = await this.tx.run(async (m, stage) => {
      const app = await this.scope.findOne(p, ApplicationEntity, 'application', applicationId, 'read', { m, lock: true });
      if (app.deleting) throw new ConflictError('The application is being deleted', 'application-deleting');
      const existing = await m.findOne(ApplicationSourceEntity, { where: { applicationId: app.id }, lock: { mode: 'pessimistic_write' } });
      if (meta.idempotencyKey) {
        const prior = await m.findOneBy(SourceUploadEntity, { applicationId: app.id, idempotencyKey: meta.idempotencyKey, status: 'complete' });
        if (prior && prior.idempotencyFingerprint !== fingerprint) throw new UnprocessableError('This Idempotency-Key was already used with a different request', 'idempotency-key-reused');
        if (prior && existing) return { source: sourceView(existing, existing.uploadId === prior.id ? prior : null), upload: uploadView(prior), kept: false };
      }
      this.checkSource(existing, meta.expectedVersion);
      const now = new Date();
      await m.query(
        `UPDATE source_uploads SET status = 'complete', size = $2, sha256 = $3, chunks = $4, entries = $5, completed_at = $6, idempotency_key = $7, idempotency_fingerprint = $8 WHERE id = $1`,
        [id, r.size, r.sha256, r.chunks, r.entries, now, meta.idempotencyKey ?? null, fingerprint],
      );
      const row = existing
        ? Object.assign(existing, { uploadId: id, updatedAt: now, version: existing.version + 1 })
        : m.create(ApplicationSourceEntity, {
          applicationId: app.id, organizationId: app.organizationId, projectId: app.projectId, environmentId: app.environmentId, kind: 'upload', uploadId: id,
          repository: '', ref: '', buildPath: '.', watchPaths: [], submodules: false, deployTags: [], authKind: 'none', authUsername: null, tokenBox: null,
          deployKeyPublic: null, deployKeyBox: null, knownHosts: [], build: normaliseBuildSettings(undefined), buildSecretsBox: null,
          webhookSecretBox: this.box.encrypt(randomBytes(32).toString('base64url'), webhookSecretAad(app.id)), providerId: null,
          createdAt: now, updatedAt: now, version: 1,
        });
      await m.save(ApplicationSourceEntity, row);
      const upload = await m.findOneByOrFail(SourceUploadEntity, { id });
      await stage(
        { type: 'application.source-uploaded', organizationId: app.organizationId, actor: actorOf(p), subject: subjectOf(app), payload: { applicationId: app.id, uploadId: id } },
        { request: p.client, changes: { upload: id, fileName: upload.fileName, format: upload.format, size: r.size, sha256: r.sha256, entries: r.entries, ...(existing ? {} : { source: 'created (kind upload)' }) } },
      );
      return { source: sourceView(row, upload), upload: uploadView(upload), kept: true };
    });
    if (!out.kept) await this.ds.query(`DELETE FROM source_uploads WHERE id = $1`, [id]);
    return out;
  }
}
